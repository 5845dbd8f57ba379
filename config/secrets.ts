/** `berth:secrets`: the variables each service reads from a secret. */
import * as pulumi from "@pulumi/pulumi";
import { DATABASE_TLS_VARIABLE } from "@berth/kit/contract";
import { parseSecretReference, SECRET_REFERENCES_ALLOWED } from "../core/secretReference";
import { TRACING_VARIABLES } from "../core/tracing";
import { serviceEnvironment, type CatalogService } from "../catalog";
import { parseObject } from "./parsers";
import type { ServiceSecret } from "./types";

/** Secret variable names: upper case, as the catalogue's and the gateway's `AUTH_*` are. */
const SECRET_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * `berth:secrets`: per service, variable name to either an existing secret's ARN or a value set with
 * `pulumi config set --secret --path 'berth:secrets.<service>.<VARIABLE>' <value>`, which the stack stores in
 * a Secrets Manager secret. No message ever shows a value: values are secrets, and a mistyped ARN may be a
 * pasted value.
 */
export function parseSecrets(
    key: string,
    text: string,
    services: readonly CatalogService[],
    secret: boolean,
    problems: string[],
): Record<string, ServiceSecret[]> {
    const value = parseObject(key, text, true, problems);
    const out: Record<string, ServiceSecret[]> = {};
    const names = services.map((s) => s.name);
    for (const [serviceName, variables] of Object.entries(value ?? {})) {
        const service = services.find((s) => s.name === serviceName);
        if (!service) {
            problems.push(`${key}.${serviceName} names no service of the catalogue; allowed: ${names.join(", ")}`);
            continue;
        }
        if (typeof variables !== "object" || variables === null || Array.isArray(variables)) {
            problems.push(
                `${key}.${serviceName} is not an object; allowed: variable names to values or ARNs, set one by one with \`pulumi config set --secret --path '${key}.${serviceName}.<VARIABLE>' <value>\``,
            );
            continue;
        }
        const taken = reservedVariables(service, services);
        const list: ServiceSecret[] = [];
        for (const [name, given] of Object.entries(variables)) {
            const where = `${key}.${serviceName}.${name}`;
            if (!SECRET_NAME.test(name)) {
                problems.push(`${where}: "${name}" is not a variable name Berth takes; allowed: upper-case letters, digits and _, not starting with a digit`);
            } else if (taken.includes(name)) {
                problems.push(`${where}: ${name} is a variable Berth sets on ${serviceName} itself (${taken.join(", ")}); allowed: another name`);
            } else if (typeof given !== "string" || given === "") {
                problems.push(`${where} is empty or not text (value not shown); allowed: a value set with --secret, or ${SECRET_REFERENCES_ALLOWED}`);
            } else {
                const reference = parseSecretReference(given);
                if (reference === "invalid") {
                    problems.push(`${where} starts with "arn:" but is no reference Berth can read (value not shown); allowed: ${SECRET_REFERENCES_ALLOWED}`);
                } else if (reference) {
                    list.push({ name, ...reference });
                } else if (!secret) {
                    problems.push(
                        `${where} holds a value in plain text in the stack's configuration (value not shown); allowed: the value set ` +
                            `with \`pulumi config set --secret --path '${where}' <value>\`, or ${SECRET_REFERENCES_ALLOWED}`,
                    );
                } else {
                    list.push({ name, kind: "value", value: pulumi.secret(given) });
                }
            }
        }
        out[serviceName] = list;
    }
    return out;
}

/** The variables a service gets from Berth itself, which a secret may not replace. */
function reservedVariables(service: CatalogService, services: readonly CatalogService[]): string[] {
    const environment = Object.keys(serviceEnvironment(service, services, { addressOf: () => "" }));
    const database = service.database ? [...Object.values(service.database.env), DATABASE_TLS_VARIABLE] : [];
    // Whether or not this stack traces: turning tracing on must not collide with a secret set earlier.
    return [...environment, ...database, ...TRACING_VARIABLES];
}
