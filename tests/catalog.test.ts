import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as http from "http";
import type { AddressInfo } from "net";
import {
    catalog, databaseEnvironment, databaseSecrets, declarations, healthCheckCommand, resolveCatalog, serviceEnvironment, type ServiceDeclaration,
} from "../services/catalog";
import { databaseSettingsFromEnv } from "../services/kit/src/databaseEnv";

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
            assert.match(dockerfile, new RegExp(`^EXPOSE ${service.port}$`, "m"));
        });
    }

    it("applies defaults and works out who calls whom", () => {
        const [api, users] = resolveCatalog([
            { name: "api", kind: "public", gateway: true },
            { name: "users", kind: "backend", routes: ["/users"] },
        ]);
        assert.strictEqual(users.port, 8080);
        assert.strictEqual(users.healthPath, "/health");
        assert.strictEqual(users.platform, "linux/amd64");
        assert.strictEqual(users.directory, "services/users");
        assert.deepStrictEqual(users.callers, ["api"]);
        assert.deepStrictEqual(api.callers, []);
        assert.deepStrictEqual(api.calls, ["users"]);
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
            assert.deepStrictEqual(renamed.database?.env, { host: "POSTGRES_HOST", port: "DB_PORT", name: "DB_NAME", user: "DB_USER", password: "POSTGRES_PASSWORD" });
        });

        it("puts the connection under the declared names, in a form the kit reads back", () => {
            for (const service of catalog.filter((s) => s.database)) {
                const env = databaseEnvironment(service, { host: "10.1.2.3", port: "5432", name: "berth", user: "u", password: "p" }, "verify-full");
                const settings = databaseSettingsFromEnv(env as NodeJS.ProcessEnv, service.database!.env);
                assert.deepStrictEqual(
                    [settings.host, settings.port, settings.database, settings.user, settings.password, settings.ssl],
                    ["10.1.2.3", 5432, "berth", "u", "p", "verify-full"],
                );
            }
            const api = catalog.find((s) => s.gateway)!;
            assert.deepStrictEqual(databaseEnvironment(api, { host: "h", port: "1", name: "n" }, "disable"), {});
        });

        it("leaves the credentials out of the plain environment unless given, and names them as secrets", () => {
            const users = catalog.find((s) => s.name === "users")!;
            const env = databaseEnvironment(users, { host: "h", port: "5432", name: "n" }, "verify-full");
            assert.ok(!("DB_USER" in env) && !("DB_PASSWORD" in env));
            assert.deepStrictEqual(databaseSecrets(users), [{ name: "DB_USER", jsonKey: "username" }, { name: "DB_PASSWORD", jsonKey: "password" }]);
            assert.deepStrictEqual(databaseSecrets(catalog.find((s) => s.gateway)!), []);
        });
    });

    const invalid: Array<[string, ServiceDeclaration[], RegExp]> = [
        ["no service", [], /declares no service/],
        ["an upper-case name", [{ name: "Users", kind: "backend" }], /service "Users": "name" must be 1-16 lowercase/],
        ["a name over 16 characters", [{ name: "a-very-long-service-name", kind: "backend" }], /"name" must be 1-16/],
        ["a name twice", [{ name: "a", kind: "backend" }, { name: "a", kind: "backend" }], /service "a": "name" is declared twice/],
        ["a privileged port", [{ name: "a", kind: "public", port: 80 }], /"port" is 80; allowed: a whole number from 1024 to 65535/],
        ["a relative health path", [{ name: "a", kind: "public", healthPath: "health" }], /"healthPath" is "health"; it must start with "\/"/],
        ["a backend with path patterns", [{ name: "a", kind: "backend", pathPatterns: ["/a"] }], /"pathPatterns" and "gateway" are for public services/],
        ["a public service with routes", [{ name: "a", kind: "public", routes: ["/a"] }], /"routes" is for backends/],
        ["a route with a wildcard", [{ name: "g", kind: "public", gateway: true }, { name: "a", kind: "backend", routes: ["/a/*"] }], /route "\/a\/\*" must be a path/],
        ["a route twice", [{ name: "g", kind: "public", gateway: true }, { name: "a", kind: "backend", routes: ["/x"] }, { name: "b", kind: "backend", routes: ["/x"] }], /service "b": route "\/x" is already routed to "a"/],
        ["two default routes", [{ name: "a", kind: "public" }, { name: "b", kind: "public" }], /only one public service may take the ALB's default route, and "a" has it/],
        ["routes without a gateway", [{ name: "a", kind: "backend", routes: ["/a"] }], /"a" declare routes, but no public service is the gateway/],
        ["a database variable that is no name", [{ name: "a", kind: "public", database: { env: { host: "DB-HOST" } } }], /service "a": "database.env.host" is "DB-HOST"; it must be an environment variable name/],
        ["a database variable Berth sets itself", [{ name: "a", kind: "public", database: { env: { name: "PORT" } } }], /"database.env.name" is "PORT"/],
        ["one database variable for two settings", [{ name: "a", kind: "public", database: { env: { user: "DB_HOST" } } }], /"database.env" gives two settings the same variable name/],
    ];
    for (const [what, decls, message] of invalid) {
        it(`refuses ${what}`, () => assert.throws(() => resolveCatalog(decls), message));
    }

    it("gives the gateway a route table to every backend, and backends only their port", () => {
        const address = (s: { name: string; port: number }) => `http://${s.name}:${s.port}`;
        const api = catalog.find((s) => s.gateway)!;
        const env = serviceEnvironment(api, catalog, address);
        assert.deepStrictEqual(Object.keys(env).sort(), ["PORT", "ROUTES"]);
        const routes = JSON.parse(env.ROUTES);
        assert.strictEqual(routes["/users"], "http://users:8080");
        assert.strictEqual(routes["/products"], "http://products:8080");
        const declared = catalog.flatMap((s) => s.routes.map((r) => [r, address(s)]));
        assert.deepStrictEqual(Object.entries(routes).sort(), declared.sort(), "every backend route, and only those");
        const users = catalog.find((s) => s.name === "users")!;
        assert.deepStrictEqual(serviceEnvironment(users, catalog, address), { PORT: "8080" });
    });

    it("routes a newly declared backend through the gateway", () => {
        const services = resolveCatalog([...declarations, { name: "probe-backend", kind: "backend", routes: ["/probe-backend"], port: 9000 }]);
        const api = services.find((s) => s.gateway)!;
        const routes = JSON.parse(serviceEnvironment(api, services, (s) => `http://127.0.0.1:${s.port}`).ROUTES);
        assert.strictEqual(routes["/probe-backend"], "http://127.0.0.1:9000");
        assert.deepStrictEqual(services.find((s) => s.name === "probe-backend")!.callers, ["api"]);
    });

    describe("container health check", () => {
        let status = 200;
        let server: http.Server;
        let port: number;
        before((done) => {
            server = http.createServer((req, res) => {
                res.statusCode = req.url === "/health" ? status : 404;
                res.end();
            }).listen(0, "127.0.0.1", () => {
                port = (server.address() as AddressInfo).port;
                done();
            });
        });
        after((done) => { server.close(() => done()); });

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
