/**
 * The exit code of a service whose port is taken when it starts (Linux's errno for EADDRINUSE), so that
 * whatever started it can tell that from other failures and choose another port (see `scripts/local.ts`).
 */
export const EXIT_ADDRESS_IN_USE = 98;

/** The exit code for an error that ends a service at start. */
export function exitCodeFor(err: unknown): number {
    return (err as NodeJS.ErrnoException | undefined)?.code === "EADDRINUSE" ? EXIT_ADDRESS_IN_USE : 1;
}
