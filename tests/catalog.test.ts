import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as http from "http";
import type { AddressInfo } from "net";
import {
    AUTH_MODES,
    CatalogError,
    catalog,
    databaseEnvironment,
    declarations,
    deployOrder,
    healthCheckCommand,
    resolveCatalog,
    serviceEnvironment,
    type ServiceDeclaration,
} from "../catalog";
import { UPSTREAM_TIMEOUT_MS } from "../core/rollout";
import { databaseSettingsFromEnv } from "@berth/kit/contract";
import { callersOf } from "./support/catalog";
import { parseRoutes } from "../services/api/src/routes";

/** One stage of a Dockerfile: its name, the platform it runs on (its own `--platform` or its base stage's), its RUN count. */
interface Stage {
    name: string;
    platform?: string;
    runs: number;
}

/** The stages of a Dockerfile, in order; a stage built `FROM` an earlier one inherits its platform. */
function dockerfileStages(text: string): Stage[] {
    const stages: Stage[] = [];
    for (const line of text
        .replace(/\\\n/g, " ")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"))) {
        const from = /^FROM\s+(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
        if (from) {
            const base = stages.find((st) => st.name === from[2]);
            stages.push({ name: from[3] ?? `#${stages.length}`, platform: from[1] ?? base?.platform, runs: 0 });
        } else if (/^RUN\b/i.test(line)) {
            stages[stages.length - 1].runs++;
        }
    }
    return stages;
}

describe("service catalogue", () => {
    it("ships the gateway and the users and products backends", () => {
        const kinds = new Map(catalog.map((s) => [s.name, s.kind]));
        assert.strictEqual(kinds.get("api"), "public");
        assert.strictEqual(kinds.get("users"), "backend");
        assert.strictEqual(kinds.get("products"), "backend");
        const api = catalog.find((s) => s.name === "api")!;
        assert.strictEqual(api.gateway, true);
        assert.deepStrictEqual(api.pathPatterns, [], "the gateway takes the ALB's default route");
        assert.ok(api.calls.includes("users") && api.calls.includes("products"));
    });

    for (const service of catalog) {
        it(`finds ${service.name}'s folder: package, entry point and a Dockerfile that builds it`, () => {
            const dir = path.resolve(__dirname, "..", service.directory);
            const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
            assert.strictEqual(pkg.name, `@berth/${service.name}`);
            assert.ok(fs.existsSync(path.join(dir, "src", "main.ts")), "src/main.ts is missing");
            const dockerfile = fs.readFileSync(path.join(dir, "Dockerfile"), "utf8");
            assert.match(dockerfile, new RegExp(`^ARG SERVICE=${service.name}$`, "m"), "the Dockerfile builds another service");
            assert.match(dockerfile, /^ARG BASE_IMAGE=node:\d+-bookworm-slim$/m);
            assert.match(dockerfile, /^USER 10001:10001$/m);
            if (service.kind === "worker") {
                assert.doesNotMatch(dockerfile, /^(EXPOSE|HEALTHCHECK)\b/m, "a worker listens on no port");
            } else {
                assert.match(dockerfile, new RegExp(`^EXPOSE ${service.port}$`, "m"));
            }
        });

        it(`builds ${service.name}'s image for any platform on the build machine's own: every RUN on $BUILDPLATFORM, none in the final stage`, () => {
            const stages = dockerfileStages(fs.readFileSync(path.resolve(__dirname, "..", service.build.dockerfile), "utf8"));
            assert.ok(stages.length >= 2, "a multi-stage build");
            for (const stage of stages.slice(0, -1).filter((st) => st.runs > 0)) {
                assert.match(
                    stage.platform ?? "",
                    /^\$\{?BUILDPLATFORM\b/,
                    `stage ${stage.name} runs commands on the target platform (under emulation for arm64 on x86 runners)`,
                );
            }
            const final = stages[stages.length - 1];
            assert.strictEqual(final.platform, undefined, "the final stage is the target platform's");
            assert.strictEqual(final.runs, 0, "a RUN in the final stage needs the target platform's CPU");
        });
    }

    it("ships users and products on the database under the ToDo workshop's variable names, and the gateway without", () => {
        const byName = new Map(catalog.map((s) => [s.name, s]));
        for (const name of ["users", "products"]) {
            assert.deepStrictEqual(byName.get(name)!.database, {
                env: { host: "DB_HOST", port: "DB_PORT", name: "DB_NAME", user: "DB_USER", password: "DB_PASSWORD" },
            });
        }
        assert.strictEqual(byName.get("api")!.database, undefined);
    });

    it("takes a service's own names for some database variables and defaults the others", () => {
        const [a, b] = resolveCatalog([
            { name: "a", kind: "backend", database: { env: { host: "PGHOST", password: "PGPASSWORD" } } },
            { name: "b", kind: "backend" },
        ]);
        assert.deepStrictEqual(a.database!.env, { host: "PGHOST", port: "DB_PORT", name: "DB_NAME", user: "DB_USER", password: "PGPASSWORD" });
        assert.strictEqual(b.database, undefined);
    });

    it("applies defaults and works out who calls whom", () => {
        const [api, users] = resolveCatalog([
            { name: "api", kind: "public", gateway: true },
            { name: "users", kind: "backend", routes: ["/users"] },
        ]);
        assert.strictEqual(users.port, 8080);
        assert.strictEqual(users.healthPath, "/health");
        assert.strictEqual(users.platform, "linux/amd64");
        assert.strictEqual(users.directory, "services/users");
        assert.deepStrictEqual(api.calls, ["users"]);
        assert.deepStrictEqual(users.calls, []);
    });

    it("deploys every service after the services it calls, at any depth, keeping catalogue order otherwise", () => {
        const services = resolveCatalog([
            { name: "gw", kind: "public", gateway: true },
            { name: "orders", kind: "backend", routes: ["/orders"], calls: ["billing"] },
            { name: "billing", kind: "backend", calls: ["ledger"] },
            { name: "ledger", kind: "backend" },
            { name: "audit", kind: "backend" },
        ]);
        const order = deployOrder(services).map((s) => s.name);
        assert.deepStrictEqual(order, ["ledger", "billing", "orders", "gw", "audit"]);
        for (const s of services) {
            for (const callee of s.calls) {
                assert.ok(order.indexOf(callee) < order.indexOf(s.name), `${s.name} before its callee ${callee}`);
            }
        }
        assert.deepStrictEqual(callersOf("billing", services), ["orders"]);
        assert.deepStrictEqual(callersOf("ledger", services), ["billing"]);
        const env = serviceEnvironment(services[1], services, { addressOf: (s) => `http://${s.name}:${s.port}` });
        assert.strictEqual(env.BILLING_URL, "http://billing:8080");
    });

    it("refuses calls that form a cycle, naming the services in it", () => {
        assert.throws(
            () =>
                resolveCatalog([
                    { name: "a", kind: "backend", calls: ["b"] },
                    { name: "b", kind: "backend", calls: ["c"] },
                    { name: "c", kind: "backend", calls: ["a"] },
                    { name: "d", kind: "backend" },
                ]),
            /calls form a cycle: a -> b -> c -> a;/,
        );
        // deployOrder also refuses a catalogue built without resolveCatalog.
        const [a, b] = resolveCatalog([
            { name: "a", kind: "backend" },
            { name: "b", kind: "backend" },
        ]);
        assert.throws(
            () =>
                deployOrder([
                    { ...a, calls: ["b"] },
                    { ...b, calls: ["a"] },
                ]),
            /calls form a cycle: a -> b -> a/,
        );
    });

    describe("the database", () => {
        it("is declared by the users and products backends, and by nothing else the gateway", () => {
            const users = catalog.find((s) => s.name === "users")!;
            assert.ok(users.database && catalog.find((s) => s.name === "products")!.database);
            assert.strictEqual(catalog.find((s) => s.gateway)!.database, undefined);
        });

        it("gives the ToDo workshop's variable names by default, and a declaration's own names", () => {
            const [plain, renamed] = resolveCatalog([
                { name: "plain", kind: "public", database: true },
                { name: "todo", kind: "public", pathPatterns: ["/todo"], database: { env: { host: "POSTGRES_HOST", password: "POSTGRES_PASSWORD" } } },
            ]);
            assert.deepStrictEqual(plain.database?.env, { host: "DB_HOST", port: "DB_PORT", name: "DB_NAME", user: "DB_USER", password: "DB_PASSWORD" });
            assert.deepStrictEqual(renamed.database?.env, {
                host: "POSTGRES_HOST",
                port: "DB_PORT",
                name: "DB_NAME",
                user: "DB_USER",
                password: "POSTGRES_PASSWORD",
            });
        });

        it("puts the connection under the declared names, in a form the kit reads back", () => {
            for (const service of catalog.filter((s) => s.database)) {
                const env = databaseEnvironment(service, { host: "10.1.2.3", port: "5432", name: "berth", user: "u", password: "p" });
                const settings = databaseSettingsFromEnv(env as NodeJS.ProcessEnv, service.database!.env);
                assert.deepStrictEqual(
                    [settings.host, settings.port, settings.database, settings.user, settings.password, settings.ssl],
                    ["10.1.2.3", 5432, "berth", "u", "p", "disable"],
                );
            }
            const api = catalog.find((s) => s.gateway)!;
            assert.deepStrictEqual(databaseEnvironment(api, { host: "h", port: "1", name: "n" }), {});
        });

        it("leaves the credentials out of the plain environment unless given", () => {
            const users = catalog.find((s) => s.name === "users")!;
            const env = databaseEnvironment(users, { host: "h", port: "5432", name: "n" });
            assert.ok(!("DB_USER" in env) && !("DB_PASSWORD" in env));
        });
    });

    const invalid: Array<[string, ServiceDeclaration[], RegExp]> = [
        ["no service", [], /declares no service/],
        ["an upper-case name", [{ name: "Users", kind: "backend" }], /service "Users": "name" must be 1-16 lowercase/],
        ["a name over 16 characters", [{ name: "a-very-long-service-name", kind: "backend" }], /"name" must be 1-16/],
        [
            "a name twice",
            [
                { name: "a", kind: "backend" },
                { name: "a", kind: "backend" },
            ],
            /service "a": "name" is declared twice/,
        ],
        ["a privileged port", [{ name: "a", kind: "public", port: 80 }], /"port" is 80; allowed: a whole number from 1024 to 65535/],
        ["a relative health path", [{ name: "a", kind: "public", healthPath: "health" }], /"healthPath" is "health"; it must start with "\/"/],
        [
            "a backend with path patterns",
            [{ name: "a", kind: "backend", pathPatterns: ["/a"] }],
            /"pathPatterns", "subdomain", "priority" and "gateway" are for public services/,
        ],
        ["a backend with a subdomain", [{ name: "a", kind: "backend", subdomain: "a" }], /"subdomain", "priority" and "gateway" are for public services/],
        ["a subdomain that is no DNS label", [{ name: "a", kind: "public", subdomain: "Admin.x" }], /"subdomain" is "Admin\.x"; allowed: one DNS label/],
        ["a root user", [{ name: "a", kind: "public", user: "0:0" }], /"user" is "0:0"; allowed: a non-root numeric uid/],
        ["a public service with routes", [{ name: "a", kind: "public", routes: ["/a"] }], /"routes" is for backends/],
        [
            "a route with a wildcard",
            [
                { name: "g", kind: "public", gateway: true },
                { name: "a", kind: "backend", routes: ["/a/*"] },
            ],
            /route "\/a\/\*" must be a path/,
        ],
        [
            "a route twice",
            [
                { name: "g", kind: "public", gateway: true },
                { name: "a", kind: "backend", routes: ["/x"] },
                { name: "b", kind: "backend", routes: ["/x"] },
            ],
            /service "b": route "\/x" is already routed to "a"/,
        ],
        [
            "two default routes",
            [
                { name: "a", kind: "public" },
                { name: "b", kind: "public" },
            ],
            /only one public service may take the ALB's default route, and "a" has it/,
        ],
        [
            "an auth mode the gateway lacks",
            [
                { name: "g", kind: "public", gateway: true },
                { name: "a", kind: "backend", routes: ["/a"], auth: "basic" as never },
            ],
            /service "a": "auth" is "basic"; allowed: none, jwt, apiKey/,
        ],
        ["auth on a public service", [{ name: "a", kind: "public", auth: "jwt" }], /service "a": "auth" is for backends/],
        ["routes without a gateway", [{ name: "a", kind: "backend", routes: ["/a"] }], /"a" declare routes, but no public service is the gateway/],
        ["a call to an unknown service", [{ name: "a", kind: "backend", calls: ["nope"] }], /service "a": "calls" names "nope"; allowed: another backend/],
        ["a call to itself", [{ name: "a", kind: "backend", calls: ["a"] }], /service "a": "calls" names "a"/],
        [
            "a priority the default route owns",
            [{ name: "a", kind: "public", pathPatterns: ["/a"], priority: 50000 }],
            /"priority" is 50000; allowed: a whole number from 2 to 49999 \(its test rule takes the one before\)/,
        ],
        [
            "the first priority, which leaves the test rule none",
            [{ name: "a", kind: "public", pathPatterns: ["/a"], priority: 1 }],
            /"priority" is 1; allowed: a whole number from 2/,
        ],
        [
            "a priority just after another service's",
            [
                { name: "a", kind: "public", pathPatterns: ["/a"], priority: 7 },
                { name: "b", kind: "public", pathPatterns: ["/b"], priority: 8 },
            ],
            /services "a" and "b" \(its test rule\) both have listener rule priority 7; declare another "priority" on the one added last \(a rule takes its priority and the one before\)/,
        ],
        [
            "five path patterns, which leave the test header no room",
            [{ name: "a", kind: "public", pathPatterns: ["/a", "/b", "/c", "/d", "/e"] }],
            /service "a": "pathPatterns" and "subdomain" hold 5 values; allowed: at most 4, since the service's test rule adds the test header/,
        ],
        [
            "two services with one priority",
            [
                { name: "a", kind: "public", pathPatterns: ["/a"], priority: 7 },
                { name: "b", kind: "public", pathPatterns: ["/b"], priority: 7 },
            ],
            /services "a" and "b" both have listener rule priority 7; declare another "priority"/,
        ],
        [
            "a database field that is no connection field",
            [{ name: "a", kind: "backend", database: { env: { hostname: "H" } as never } }],
            /service "a": "database\.env\.hostname" is not a connection field; allowed: host, port, name, user, password/,
        ],
        [
            "a database variable that is no variable name",
            [{ name: "a", kind: "backend", database: { env: { host: "DB-HOST" } } }],
            /"database\.env\.host" is "DB-HOST"; allowed: an environment variable name/,
        ],
        [
            "one variable for two database fields",
            [{ name: "a", kind: "backend", database: { env: { user: "DB_PASSWORD" } } }],
            /"database\.env" gives "DB_PASSWORD" to two connection fields/,
        ],
        [
            "a database variable Berth sets itself",
            [{ name: "a", kind: "backend", database: { env: { port: "PORT" } } }],
            /"database\.env" uses "PORT", which Berth sets itself \(PORT, HOST, ROUTES, DATABASE_URL, DB_POOL_MAX, DB_SSL, DB_SECRET_ARN\)/,
        ],
        [
            "a health check ECS cannot run",
            [{ name: "a", kind: "backend", healthCheck: ["curl", "-f", "localhost"] }],
            /service "a": "healthCheck" is \["curl","-f","localhost"\]; allowed: \["CMD", executable, \.\.\.arguments\] or \["CMD-SHELL", "shell command"\]/,
        ],
        ["a health check with no command", [{ name: "a", kind: "backend", healthCheck: ["CMD"] }], /"healthCheck" is \["CMD"\]; allowed/],
        ["a readiness gate on a public service", [{ name: "a", kind: "public", readinessGate: ["true"] }], /service "a": "readinessGate" is for backends/],
        [
            "a readiness gate that is no command",
            [{ name: "a", kind: "backend", readinessGate: "true" as never }],
            /service "a": "readinessGate" is "true"; allowed: a command as a list of strings/,
        ],
        [
            "a build context outside the repository",
            [{ name: "a", kind: "backend", build: { context: "../elsewhere" } }],
            /"build.context" is "\.\.\/elsewhere"; allowed: a path inside the repository/,
        ],
    ];
    for (const [what, decls, message] of invalid) {
        it(`refuses ${what}`, () => assert.throws(() => resolveCatalog(decls), message));
    }

    it("reports every problem of a catalogue at once, each naming its service and field", () => {
        let error: unknown;
        try {
            resolveCatalog([
                { name: "g", kind: "public", gateway: true, port: 80 },
                { name: "Users", kind: "backend", routes: ["/users"], healthPath: "health" },
                { name: "orders", kind: "backend", routes: ["/users"], calls: ["nope"], rollout: { strategy: "canary", canaryPercent: 0 } },
                { name: "a", kind: "backend", calls: ["b"] },
                { name: "b", kind: "backend", calls: ["a"] },
            ]);
        } catch (e) {
            error = e;
        }
        assert.ok(error instanceof CatalogError, `a CatalogError, not ${String(error)}`);
        assert.deepStrictEqual(error.problems, [
            'service "g": "port" is 80; allowed: a whole number from 1024 to 65535 (tasks run as a non-root user)',
            'service "Users": "name" must be 1-16 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen',
            'service "Users": "healthPath" is "health"; it must start with "/"',
            'service "orders": "rollout.canaryPercent" is 0; allowed: a percentage from 0.1 to 100 in steps of 0.1',
            'service "orders": route "/users" is already routed to "Users"',
            'service "orders": "calls" names "nope"; allowed: another backend of the catalogue (Users, a, b)',
            "calls form a cycle: a -> b -> a; a service cannot be deployed after itself",
        ]);
        assert.match(error.message, /^Invalid service catalogue \(catalog\/index\.ts\):\n {2}- service "g": "port" is 80;/);
    });

    it("gives the gateway a route table to every backend, and backends only their port", () => {
        const address = (s: { name: string; port: number }) => `http://${s.name}:${s.port}`;
        const api = catalog.find((s) => s.gateway)!;
        const env = serviceEnvironment(api, catalog, { addressOf: address });
        assert.deepStrictEqual(Object.keys(env).sort(), ["PORT", "ROUTES", "TIMEOUT_MS", "TRUST_PROXY"]);
        assert.strictEqual(Number(env.TIMEOUT_MS), UPSTREAM_TIMEOUT_MS);
        assert.strictEqual(env.TRUST_PROXY, "true", "in AWS the gateway's only peer is the ALB");
        const routes = JSON.parse(env.ROUTES);
        assert.strictEqual(routes["/users"], "http://users:8080");
        assert.strictEqual(routes["/products"], "http://products:8080");
        const declared = catalog.flatMap((s) => s.routes.map((r) => [r, address(s)]));
        assert.deepStrictEqual(Object.entries(routes).sort(), declared.sort(), "every backend route, and only those");
        const users = catalog.find((s) => s.name === "users")!;
        assert.deepStrictEqual(serviceEnvironment(users, catalog, { addressOf: address }), { PORT: "8080" });
        assert.deepStrictEqual(serviceEnvironment(users, catalog, { addressOf: address, port: 4321 }), { PORT: "4321" });
    });

    it("carries a backend's auth and every address of its instances to the gateway", () => {
        const services = resolveCatalog([
            { name: "g", kind: "public", gateway: true },
            { name: "a", kind: "backend", routes: ["/a", "/a2"], auth: "jwt" },
            { name: "b", kind: "backend", routes: ["/b"], auth: "apiKey" },
            { name: "c", kind: "backend", routes: ["/c"] },
        ]);
        const addresses = (s: { name: string }) => (s.name === "c" ? ["http://c1:1", "http://c2:2"] : [`http://${s.name}:1`]);
        const env = serviceEnvironment(services[0], services, { addressOf: addresses, behindLoadBalancer: false });
        assert.deepStrictEqual(JSON.parse(env.ROUTES), {
            "/a": { origins: "http://a:1", auth: "jwt" },
            "/a2": { origins: "http://a:1", auth: "jwt" },
            "/b": { origins: "http://b:1", auth: "apiKey" },
            "/c": ["http://c1:1", "http://c2:2"],
        });
        assert.strictEqual(env.TRUST_PROXY, "false");
        assert.strictEqual(services[3].auth, "none");
    });

    it("routes a newly declared backend through the gateway", () => {
        const services = resolveCatalog([...declarations, { name: "probe-backend", kind: "backend", routes: ["/probe-backend"], port: 9000 }]);
        const api = services.find((s) => s.gateway)!;
        const routes = JSON.parse(serviceEnvironment(api, services, { addressOf: (s) => `http://127.0.0.1:${s.port}` }).ROUTES);
        assert.strictEqual(routes["/probe-backend"], "http://127.0.0.1:9000");
        assert.deepStrictEqual(callersOf("probe-backend", services), ["api"]);
    });

    describe("container health check", () => {
        let status = 200;
        let server: http.Server;
        let port: number;
        before((done) => {
            server = http
                .createServer((req, res) => {
                    res.statusCode = req.url === "/health" ? status : 404;
                    res.end();
                })
                .listen(0, "127.0.0.1", () => {
                    port = (server.address() as AddressInfo).port;
                    done();
                });
        });
        after((done) => {
            server.close(() => done());
        });

        function check(servicePort: number): Promise<number> {
            const [, command, ...args] = healthCheckCommand({ ...catalog[1], port: servicePort });
            assert.strictEqual(command, "node");
            return new Promise((resolve) => {
                execFile(process.execPath, args, { timeout: 10_000 }, (error) => resolve(error ? Number(error.code ?? 1) : 0));
            });
        }

        it("passes while the health path answers 200", async () => {
            status = 200;
            assert.strictEqual(await check(port), 0);
        });
        it("fails when the health path answers 503", async () => {
            status = 503;
            assert.strictEqual(await check(port), 1);
        });
        it("fails when nothing listens", async () => {
            const closed = http.createServer();
            await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
            const freePort = (closed.address() as AddressInfo).port;
            await new Promise((r) => closed.close(r));
            assert.strictEqual(await check(freePort), 1);
        });
    });
});

describe("the catalogue's routes as the gateway reads them", () => {
    it("reads every auth mode the catalogue can declare, in the shape the catalogue writes", () => {
        for (const auth of AUTH_MODES) {
            const services = resolveCatalog([
                { name: "g", kind: "public", gateway: true },
                { name: "b", kind: "backend", routes: ["/b"], auth },
            ]);
            for (const addresses of [["http://b:8080"], ["http://b1:8080", "http://b2:8080"]]) {
                const [route] = parseRoutes(serviceEnvironment(services[0], services, { addressOf: () => addresses }).ROUTES);
                assert.deepStrictEqual(route, { prefix: "/b", origins: addresses, auth });
            }
        }
    });
});
