/**
 * `npm run bench:images`: each catalogue service's image size and start-up time (from the container's
 * process start to the first 200 on its health path), median of several starts.
 *
 * Builds the images from the Dockerfiles as `pulumi up` does, on BERTH_BASE_IMAGE (default: the local
 * stand-in `berth-node-base:local` when it exists, else the Dockerfiles' public default). BENCH_IMAGES
 * measures given images instead, several per service to compare them:
 * `BENCH_IMAGES=api=berth-api:old,api=berth-api:new`. Starts are interleaved, so that a change in the
 * machine's load weighs on every image alike.
 * Containers use the host's network (`--network=host`), listen on loopback and run read-only. Services that
 * declare the database get `DATABASE_URL` (plain TCP on loopback unless `DB_SSL` says otherwise).
 */
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../scripts/net";
import { catalog, type CatalogService } from "../catalog";

const ROOT = path.resolve(__dirname, "..");
const STAND_IN = "berth-node-base:local";
const runs = Number(process.env.BENCH_RUNS ?? 5);

function docker(args: string[]): string {
    return execFileSync("docker", args, { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] }).trim();
}

function exists(image: string): boolean {
    try {
        docker(["image", "inspect", image]);
        return true;
    } catch {
        return false;
    }
}

async function startUpMs(image: string, service: CatalogService): Promise<number> {
    const port = await freePort();
    const name = `berth-bench-${service.name}-${process.pid}`;
    const env: Record<string, string> = { PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", ROUTES: '{"/x":"http://127.0.0.1:9"}' };
    if (service.database) {
        // Checked in main(): a service that declares the database refuses to start without one. /health
        // answers without touching it, so the server's speed does not enter the figure.
        Object.assign(env, { DATABASE_URL: process.env.DATABASE_URL!, DB_SSL: process.env.DB_SSL ?? "disable" });
    }
    docker(["run", "-d", "--network=host", "--read-only", "--name", name, ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]), image]);
    try {
        const deadline = Date.now() + 60_000;
        for (;;) {
            if (docker(["inspect", "--format", "{{.State.Running}}", name]) !== "true" || Date.now() > deadline) {
                throw new Error(
                    `${service.name} (${image}) did not answer on ${service.healthPath} within 60 s; its log:\n${docker(["logs", "--tail", "20", name])}`,
                );
            }
            try {
                const res = await fetch(`http://127.0.0.1:${port}${service.healthPath}`, { signal: AbortSignal.timeout(500) });
                if (res.ok) {
                    const answered = Date.now();
                    const started = Date.parse(docker(["inspect", "--format", "{{.State.StartedAt}}", name]));
                    return answered - started;
                }
            } catch {
                // not up yet
            }
            await new Promise((r) => setTimeout(r, 5));
        }
    } finally {
        docker(["rm", "-f", name]);
    }
}

async function main(): Promise<void> {
    if (catalog.some((s) => s.database) && !process.env.DATABASE_URL) {
        throw new Error(
            `DATABASE_URL is not set; ${catalog
                .filter((s) => s.database)
                .map((s) => s.name)
                .join(" and ")} refuse to start without their database (start one with scripts/postgres/server.sh and export its URL)`,
        );
    }
    const base = process.env.BERTH_BASE_IMAGE ?? (exists(STAND_IN) ? STAND_IN : undefined);
    const given = (process.env.BENCH_IMAGES ?? "")
        .split(",")
        .filter(Boolean)
        .map((pair) => pair.split("=") as [string, string]);
    const baseSize = base ? Number(docker(["image", "inspect", "--format", "{{.Size}}", base])) : NaN;
    const subjects: Array<{ service: CatalogService; image: string; built: boolean; times: number[] }> = [];
    for (const [name, image] of given) {
        const service = catalog.find((s) => s.name === name);
        if (!service) {
            throw new Error(`BENCH_IMAGES names ${name}, which is not in the catalogue`);
        }
        subjects.push({ service, image, built: false, times: [] });
    }
    if (given.length === 0) {
        for (const service of catalog) {
            const image = `berth-bench-${service.name}:${process.pid}`;
            docker([
                "build",
                "--network=host",
                "-q",
                "-f",
                path.join(service.directory, "Dockerfile"),
                ...(base ? ["--build-arg", `BASE_IMAGE=${base}`] : []),
                "-t",
                image,
                ".",
            ]);
            subjects.push({ service, image, built: true, times: [] });
        }
    }
    for (let i = 0; i < runs; i++) {
        for (const subject of subjects) {
            subject.times.push(await startUpMs(subject.image, subject.service));
        }
    }
    const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
    console.log(
        `\nBase image: ${base ?? "the Dockerfiles' default"}${Number.isNaN(baseSize) ? "" : ` (${mb(baseSize)} MB)`}; start-up = container process start to the first 200 on the health path, median of ${runs}, load average ${os.loadavg()[0].toFixed(1)}\n`,
    );
    console.log("| Service | Image | Size | Above the base | Start-up (median) | Range |");
    console.log("| --- | --- | ---: | ---: | ---: | ---: |");
    for (const { service, image, built, times } of subjects) {
        const size = Number(docker(["image", "inspect", "--format", "{{.Size}}", image]));
        times.sort((a, b) => a - b);
        console.log(
            `| ${service.name} | ${built ? "built now" : image} | ${mb(size)} MB | ${Number.isNaN(baseSize) ? "?" : `${mb(size - baseSize)} MB`} | ${times[Math.floor(times.length / 2)]} ms | ${times[0]}–${times[times.length - 1]} ms |`,
        );
        if (built) {
            docker(["rmi", "-f", image]);
        }
    }
}

main().catch((err: Error) => {
    console.error(err.message);
    process.exitCode = 1;
});
