export { collection, type CollectionOptions } from "./collection";
export { acceptedRequestId, errorBody, errorCode, type ErrorBody } from "./errors";
export { InMemoryRepository, type Repository } from "./repository";
export {
    ConnectionTracker, exitOnSignals, KEEP_ALIVE_TIMEOUT_MS, portFromEnv, REUSE_GRACE_MS, SHUTDOWN_TIMEOUT_MS, shutDown,
    type ShutdownLog, type ShutdownOptions,
} from "./http";
export { createService, routes, serve, type RouteSpec, type ServeOptions, type ServiceOptions } from "./server";
