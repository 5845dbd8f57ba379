/** How a service is reached: from the internet through the ALB (public), or only by other services (backend). */
export const SERVICE_KINDS = ["public", "backend"] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];
