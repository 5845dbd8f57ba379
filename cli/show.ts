/**
 * `berth show` (Copilot's `svc show` / `env show`): what the stack is, from its outputs and the catalogue;
 * it calls no AWS API. The database's password never appears: only where its secret is.
 */
import type { CatalogService } from "../catalog";
import { EXIT, type Deps, type StackOutputs, type StackView } from "./context";

export async function show(deps: Deps, stack: StackView, catalog: readonly CatalogService[], asJson: boolean): Promise<number> {
    const outputs = (await stack.outputs()) as StackOutputs;
    const services = Object.entries(outputs.services ?? {}).map(([name, s]) => ({
        name,
        kind: s.kind ?? "?",
        routes: routesOf(
            catalog.find((c) => c.name === name),
            s.discoveryName,
            outputs.url,
        ),
        image: s.repositoryUrl && s.imageTag ? `${s.repositoryUrl}:${s.imageTag}` : "-",
        commit: s.commit ?? "-",
    }));
    const db = outputs.database;
    const view = {
        stack: stack.name,
        url: outputs.url,
        dashboard: outputs.dashboardUrl,
        cluster: outputs.clusterName,
        services,
        database: db && { endpoint: `${db.address}:${db.port}/${db.name}`, identifier: db.identifier, credentialsSecret: db.secretArn },
        pipeline: outputs.pipeline && { deployRole: outputs.pipeline.deployRoleArn, previewRole: outputs.pipeline.previewRoleArn },
        alarmTopic: outputs.alarmTopicArn,
        // Jobs (docs/jobs.md), when the stack has any.
        ...(Object.keys(outputs.jobs ?? {}).length > 0
            ? {
                  jobs: Object.entries(outputs.jobs!).map(([name, j]) => ({
                      name,
                      schedule: j.schedule ?? "-",
                      commit: j.commit ?? "-",
                      stateMachine: j.stateMachineArn ?? "-",
                  })),
              }
            : {}),
    };
    if (asJson) {
        deps.term.out(JSON.stringify(view, null, 2));
        return EXIT.ok;
    }
    const out = deps.term.out;
    out(`Stack      ${view.stack} (project ${stack.project})`);
    out(`URL        ${view.url ?? "-"}`);
    out(`Dashboard  ${view.dashboard ?? "-"}`);
    out(`Cluster    ${view.cluster ?? "-"}`);
    out("");
    out("Services");
    out(table([["Name", "Kind", "Routes", "Commit", "Image"], ...services.map((s) => [s.name, s.kind, s.routes.join(", "), s.commit, s.image])]));
    out("");
    if (view.jobs) {
        out("Jobs (berth job run <job>)");
        out(table([["Name", "Schedule (UTC)", "Commit", "State machine"], ...view.jobs.map((j) => [j.name, j.schedule, j.commit, j.stateMachine])]));
        out("");
    }
    out(
        `Database   ${view.database ? `${view.database.endpoint} (${view.database.identifier}; user and password in ${view.database.credentialsSecret})` : "none"}`,
    );
    if (view.pipeline) {
        out(`Pipeline   deploy role  ${view.pipeline.deployRole}`);
        if (view.pipeline.previewRole) {
            out(`           preview role ${view.pipeline.previewRole}`);
        }
    } else {
        out("Pipeline   none (berth:pipeline is not set)");
    }
    out(`Alarms     ${view.alarmTopic ?? "-"} (SNS topic)`);
    return EXIT.ok;
}

/** Where a service answers: ALB path patterns for public ones, gateway routes and discovery name for backends, the topics a worker consumes. */
function routesOf(service: CatalogService | undefined, discoveryName: string | undefined, url: string | undefined): string[] {
    if (!service) {
        return ["(not in this checkout's catalogue)"];
    }
    if (service.kind === "public") {
        const host = service.subdomain ? `${service.subdomain}.<domain>` : "";
        return service.pathPatterns.length > 0 ? service.pathPatterns.map((p) => `${host}${p}`) : [`${host || url || ""}/* (default route)`];
    }
    if (service.kind === "worker") {
        return [`consumes ${service.subscribes.join(", ")} from its queue`];
    }
    const routes = service.routes.map((r) => `${r}/* via gateway`);
    return [...routes, ...(discoveryName ? [`http://${discoveryName} (Service Connect)`] : [])];
}

/** Left-aligned columns, two spaces apart. */
export function table(rows: string[][]): string {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
    return rows.map((r) => "  " + r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ")).join("\n");
}
