/** How a service is reached: from the internet through the ALB (public), or only by other services (backend). */
export type ServiceKind = "public" | "backend";
