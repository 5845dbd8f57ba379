export { collection, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, parseId, parsePage, type CollectionOptions, type RecordChange } from "./collection";
export { acceptedRequestId, describeViolations, errorBody, errorCode, HttpError, type ErrorBody, type SchemaViolation } from "./errors";
export {
    CONNECT_TIMEOUT_MS,
    Database,
    DatabaseUnavailableError,
    isUnavailable,
    MIGRATION_TIMEOUT_MS,
    QUERY_TIMEOUT_MS,
    type DatabaseLog,
    type DatabaseOptions,
    type Migration,
    type Queryable,
} from "./database";
export { databaseSettingsFromEnv, DEFAULT_DATABASE_ENV, DEFAULT_POOL_MAX, type DatabaseEnvNames, type DatabaseSettings, type DatabaseSsl } from "./contract";
export { DuplicateError, type Page, type Repository } from "./repository";
export { seed, TableRepository, type TableSpec } from "./table";
export {
    ConnectionTracker,
    exitOnSignals,
    KEEP_ALIVE_TIMEOUT_MS,
    portFromEnv,
    wholeNumberFromEnv,
    REUSE_GRACE_MS,
    SHUTDOWN_TIMEOUT_MS,
    shutDown,
    type ShutdownLog,
    type ShutdownOptions,
} from "./http";
export { EXIT_ADDRESS_IN_USE, exitCodeFor } from "./listen";
export { createService, routes, serve, serveWithDatabase, type RouteSpec, type ServeOptions, type ServiceOptions } from "./server";
