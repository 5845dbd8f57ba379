import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as http from "http";
import type { AddressInfo } from "net";
import {
    catalog, declarations, healthCheckCommand, resolveCatalog, serviceEnvironment, type ServiceDeclaration,
} from "../services/catalog";

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
        ["an auth mode the gateway lacks", [{ name: "g", kind: "public", gateway: true }, { name: "a", kind: "backend", routes: ["/a"], auth: "basic" as never }], /service "a": "auth" is "basic"; allowed: none, jwt, apiKey/],
        ["auth on a public service", [{ name: "a", kind: "public", auth: "jwt" }], /service "a": "auth" is for backends/],
        ["routes without a gateway", [{ name: "a", kind: "backend", routes: ["/a"] }], /"a" declare routes, but no public service is the gateway/],
    ];
    for (const [what, decls, message] of invalid) {
        it(`refuses ${what}`, () => assert.throws(() => resolveCatalog(decls), message));
    }

    it("gives the gateway a route table to every backend, and backends only their port", () => {
        const address = (s: { name: string; port: number }) => `http://${s.name}:${s.port}`;
        const api = catalog.find((s) => s.gateway)!;
        const env = serviceEnvironment(api, catalog, address);
        assert.deepStrictEqual(Object.keys(env).sort(), ["PORT", "ROUTES", "TRUST_PROXY"]);
        assert.strictEqual(env.TRUST_PROXY, "true", "in AWS the gateway's only peer is the ALB");
        const routes = JSON.parse(env.ROUTES);
        assert.strictEqual(routes["/users"], "http://users:8080");
        assert.strictEqual(routes["/products"], "http://products:8080");
        const declared = catalog.flatMap((s) => s.routes.map((r) => [r, address(s)]));
        assert.deepStrictEqual(Object.entries(routes).sort(), declared.sort(), "every backend route, and only those");
        const users = catalog.find((s) => s.name === "users")!;
        assert.deepStrictEqual(serviceEnvironment(users, catalog, address), { PORT: "8080" });
    });

    it("carries a backend's auth and every address of its instances to the gateway", () => {
        const services = resolveCatalog([
            { name: "g", kind: "public", gateway: true },
            { name: "a", kind: "backend", routes: ["/a", "/a2"], auth: "jwt" },
            { name: "b", kind: "backend", routes: ["/b"], auth: "apiKey" },
            { name: "c", kind: "backend", routes: ["/c"] },
        ]);
        const addresses = (s: { name: string }) => s.name === "c" ? ["http://c1:1", "http://c2:2"] : [`http://${s.name}:1`];
        const env = serviceEnvironment(services[0], services, addresses, { behindLoadBalancer: false });
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
