export { collection, parseId, type CollectionOptions } from "./collection";
export { acceptedRequestId, describeViolations, errorBody, errorCode, HttpError, type ErrorBody, type SchemaViolation } from "./errors";
export { InMemoryRepository, type Repository } from "./repository";
export { exitOnSignals, KEEP_ALIVE_TIMEOUT_MS, portFromEnv, SHUTDOWN_TIMEOUT_MS, type ShutdownLog } from "./http";
export { createService, routes, serve, type RouteSpec, type ServeOptions, type ServiceOptions } from "./server";
