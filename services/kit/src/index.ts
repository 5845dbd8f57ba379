export { collection, type CollectionOptions } from "./collection";
export { acceptedRequestId, errorBody, errorCode, type ErrorBody } from "./errors";
export { InMemoryRepository, type Repository } from "./repository";
export { exitOnSignals, KEEP_ALIVE_TIMEOUT_MS, portFromEnv, SHUTDOWN_TIMEOUT_MS, type ShutdownLog } from "./http";
export { createService, routes, serve, type RouteSpec, type ServeOptions, type ServiceOptions } from "./server";
