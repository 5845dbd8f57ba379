/**
 * How a service is reached: from the internet through the ALB (public), only by other services (backend), or
 * not at all, consuming a queue fed by topics (worker).
 */
export const SERVICE_KINDS = ["public", "backend", "worker"] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

/** The kinds that take requests: behind the ALB or behind Service Connect. */
export type RequestKind = Exclude<ServiceKind, "worker">;
