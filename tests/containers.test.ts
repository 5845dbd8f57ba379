/**
 * Builds every catalogue service's image from its Dockerfile, exactly as `pulumi up` does (the catalogue's
 * context and Dockerfile, narrowed by the Dockerfile's own ignore file), runs the images as ECS would (read-only root file system, the catalogue's environment), and
 * drives requests through the gateway's container.
 *
 * Needs a Docker engine. Without one it skips itself, except under CI, where it fails. Containers use the
 * host's network (`--network=host`) and listen on loopback only.
 * Services that declare the database get one on loopback, through the same variables as in AWS: the
 * PostgreSQL server of BERTH_TEST_DATABASE_URL (CI's), else PGlite served by this test process; the images
 * themselves hold no database.
 * BERTH_BASE_IMAGE picks the base image; by default the local stand-in `berth-node-base:local` when it
 * exists (scripts/docker/base-image.sh builds it), else the Dockerfiles' public Node image.
 */
import * as assert from "node:assert";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { READINESS_GATE_COMMAND } from "../components/service/fargateService";
import { SIDECAR_MEMORY } from "../core/taskContainers";
import { freePort, waitHealthy } from "../scripts/net";
import { catalog, databaseEnvironment, deployOrder, healthCheckCommand, serviceEnvironment, type CatalogService } from "../catalog";
import { anyTestDatabase, type TestDatabase } from "./support/database";
import { messagingEnvironment } from "../catalog/messaging";
import { startBroker, type LocalBroker } from "../scripts/localBroker";

const ROOT = path.resolve(__dirname, "..");
const STAND_IN = "berth-node-base:local";

interface Run {
    code: number;
    stdout: string;
    stderr: string;
}

function docker(args: string[], timeoutMs = 60_000): Promise<Run> {
    return new Promise((resolve) => {
        execFile("docker", args, { cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
            resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr: stderr || (error?.message ?? "") });
        });
    });
}

async function mustDocker(args: string[], timeoutMs?: number): Promise<string> {
    const run = await docker(args, timeoutMs);
    if (run.code !== 0) {
        throw new Error(`docker ${args.join(" ")} failed (${run.code}):\n${run.stderr.slice(-4000)}`);
    }
    return run.stdout.trim();
}

describe("container images", function () {
    this.timeout(15 * 60_000);
    const suffix = `${process.pid}`;
    const image = (s: CatalogService) => `berth-test-${s.name}:${suffix}`;
    const container = (s: CatalogService) => `berth-test-${s.name}-${suffix}`;
    const ports = new Map<string, number>();
    let gatewayUrl = "";
    let database: TestDatabase | undefined;
    /** The topics and queues the containers reach on the host's loopback, as `npm start` gives them. */
    let broker: LocalBroker | undefined;

    before(async function () {
        const info = await docker(["info", "--format", "{{.ServerVersion}}"], 15_000);
        if (info.code !== 0) {
            if (process.env.CI) {
                throw new Error(`CI must run the container test, but no Docker engine answers: ${info.stderr.trim()}`);
            }
            console.log(
                "    (skipped: no Docker engine answers `docker info`; start one, e.g. `sudo bash scripts/docker/engine.sh`, to run the container test)",
            );
            this.skip();
        }
        const base = process.env.BERTH_BASE_IMAGE ?? ((await docker(["image", "inspect", STAND_IN])).code === 0 ? STAND_IN : undefined);
        for (const s of catalog) {
            await mustDocker(
                [
                    "build",
                    "--network=host",
                    "-q",
                    "-f",
                    s.build.dockerfile,
                    ...(base ? ["--build-arg", `BASE_IMAGE=${base}`] : []),
                    "-t",
                    image(s),
                    s.build.context,
                ],
                10 * 60_000,
            );
        }
        for (const s of catalog) {
            ports.set(s.name, await freePort());
        }
        const address = (s: CatalogService) => `http://127.0.0.1:${ports.get(s.name)}`;
        database = await anyTestDatabase();
        const db = new URL(database.url);
        const connection = {
            host: db.hostname,
            port: db.port || "5432",
            name: db.pathname.slice(1),
            user: decodeURIComponent(db.username),
            password: decodeURIComponent(db.password),
        };
        broker = await startBroker(catalog);
        const messaging = (s: CatalogService) =>
            messagingEnvironment<string>(s, { topic: (t) => broker!.topicUrl(t), queue: (w) => broker!.queueUrl(w) }, JSON.stringify);
        // Callees first, as `pulumi up` deploys them.
        for (const s of deployOrder(catalog)) {
            const env = {
                ...serviceEnvironment(s, catalog, { addressOf: address, port: ports.get(s.name) }),
                ...databaseEnvironment(s, connection),
                ...messaging(s),
                HOST: "127.0.0.1",
            };
            await mustDocker([
                "run",
                "-d",
                "--network=host",
                "--read-only",
                "--name",
                container(s),
                ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
                image(s),
            ]);
            // A worker answers no HTTP: it is up once it polls its queue.
            await waitHealthy(s.kind === "worker" ? `${broker.queueUrl(s.name)}/health` : `${address(s)}${s.healthPath}`, { timeoutMs: 30_000 });
        }
        gatewayUrl = address(catalog.find((s) => s.gateway)!);
    });

    after(async () => {
        for (const s of catalog) {
            await docker(["rm", "-f", container(s)]);
            await docker(["rmi", "-f", image(s)]);
        }
        await database?.drop();
        await broker?.close();
    });

    it("answers /users and /products through the gateway's container", async () => {
        for (const p of ["/users", "/products"]) {
            const res = await fetch(`${gatewayUrl}${p}`);
            assert.strictEqual(res.status, 200);
            const body = (await res.json()) as unknown[];
            assert.ok(Array.isArray(body) && body.length > 0);
        }
        const one = await fetch(`${gatewayUrl}/users/1`, { headers: { "x-request-id": "container-1" } });
        assert.strictEqual(one.headers.get("x-request-id"), "container-1");
        assert.strictEqual(((await one.json()) as { id: number }).id, 1);
        const product = { sku: "BOX-01", name: "Built in a container", priceCents: 1, currency: "EUR", stock: 1 };
        const post = () => fetch(`${gatewayUrl}/products`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(product) });
        assert.strictEqual((await post()).status, 201, "the products container writes to its database");
        assert.strictEqual((await post()).status, 409);
        const missing = await fetch(`${gatewayUrl}/nowhere`);
        assert.strictEqual(missing.status, 404);
        assert.strictEqual(((await missing.json()) as { error: { code: string } }).error.code, "not_found");
    });

    it("delivers the products container's events to the worker's container", async () => {
        const worker = catalog.find((s) => s.kind === "worker")!;
        const product = { sku: "BOX-EVT-01", name: "An event from a container", priceCents: 1, currency: "EUR", stock: 1 };
        const created = await fetch(`${gatewayUrl}/products`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(product),
        });
        assert.strictEqual(created.status, 201);
        const { id } = (await created.json()) as { id: number };
        const deadline = Date.now() + 30_000;
        let logs = "";
        while (!new RegExp(`"productId":${id}[,}]`).test(logs) && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 200));
            logs = (await docker(["logs", container(worker)])).stdout;
        }
        assert.match(logs, new RegExp(`"type":"product.created","productId":${id}[,}]`), `the worker logged:\n${logs}`);
    });

    it("passes the container health check that ECS runs", async () => {
        for (const s of catalog.filter((x) => x.kind !== "worker")) {
            // ECS runs each task on its catalogue port; here they share the host's network, so each has its own.
            const command = healthCheckCommand({ ...s, port: ports.get(s.name)! });
            const run = await docker(["exec", container(s), ...command.slice(1)]);
            assert.strictEqual(run.code, 0, `${s.name}: ${run.stderr}`);
        }
    });

    it("runs as a non-root user, with compiled JavaScript and production dependencies only", async () => {
        for (const s of catalog) {
            // ECS runs the task as the catalogue's user (the task definition sets it): it must be the image's own.
            assert.strictEqual(await mustDocker(["inspect", "--format", "{{.Config.User}}", image(s)]), s.user);
            assert.strictEqual(await mustDocker(["exec", container(s), "id", "-u"]), s.user.split(":")[0]);
            const found = await mustDocker([
                "exec",
                container(s),
                "sh",
                "-c",
                "find /app -name '*.ts' ! -name '*.d.ts' ! -path '*/node_modules/*'; " +
                    "ls -d /app/node_modules/typescript /app/node_modules/ts-node /app/node_modules/mocha /app/node_modules/@pulumi /app/node_modules/@electric-sql 2>/dev/null; true",
            ]);
            assert.strictEqual(found, "", `${s.name} ships sources or dev dependencies:\n${found}`);
            const exposed = await mustDocker(["inspect", "--format", "{{json .Config.ExposedPorts}}", image(s)]);
            assert.match(exposed, s.kind === "worker" ? /^null$/ : /"8080\/tcp"/);
        }
    });

    it("runs the readiness gate's command within a sidecar's memory limit, as ECS runs it", async () => {
        for (const s of catalog.filter((c) => c.kind === "backend")) {
            const run = await docker([
                "run",
                "--rm",
                "--network=host",
                "--read-only",
                "--user",
                s.user,
                "--memory",
                `${SIDECAR_MEMORY}m`,
                "--memory-swap",
                `${SIDECAR_MEMORY}m`,
                image(s),
                ...READINESS_GATE_COMMAND,
            ]);
            assert.strictEqual(run.code, 0, `${s.name}: ${run.stderr}`);
        }
    });

    it("answers 502 through the gateway once a backend's container is gone", async () => {
        const users = catalog.find((s) => s.name === "users")!;
        await mustDocker(["stop", "-t", "10", container(users)]);
        const res = await fetch(`${gatewayUrl}/users`, { signal: AbortSignal.timeout(5000) });
        assert.strictEqual(res.status, 502);
        assert.strictEqual((await fetch(`${gatewayUrl}/products`)).status, 200);
    });

    it("stopped gracefully: SIGTERM ended the backend with exit code 0", async () => {
        const users = catalog.find((s) => s.name === "users")!;
        assert.strictEqual(await mustDocker(["inspect", "--format", "{{.State.ExitCode}}", container(users)]), "0");
        const logs = await docker(["logs", container(users)]);
        assert.match(logs.stdout + logs.stderr, /shutting down/);
    });
});
