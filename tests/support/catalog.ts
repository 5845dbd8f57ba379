/** Catalogue facts the tests derive, which the program has no use for. */
import type { CatalogService } from "../../catalog";

/** Names of the services that call `name`: the only sources its security group may admit. */
export function callersOf(name: string, services: readonly CatalogService[]): string[] {
    return services.filter((s) => s.calls.includes(name)).map((s) => s.name);
}
