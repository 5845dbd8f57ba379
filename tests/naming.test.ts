/**
 * Stack-scoped names come from core/naming.ts alone, and components take them as arguments: none reads
 * the stack or the project from Pulumi.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { Database } from "../components/data/database";
import { stackNames } from "../core/naming";
import { Network } from "../components/network/network";
import { FargateService } from "../components/service/fargateService";
import { SecretRestart } from "../components/service/secretRestart";
import { serviceArgs } from "./support/fargate";
import { Harness, ROOT } from "./support/pulumi";
import { T } from "./support/types";

function sources(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
        const relative = `${dir}/${entry.name}`;
        return entry.isDirectory() ? sources(relative) : entry.name.endsWith(".ts") ? [relative] : [];
    });
}

describe("stack-scoped names", () => {
    it("spells every name of stack dev of project berth", () => {
        const names = stackNames("berth", "dev");
        assert.deepStrictEqual(
            {
                stack: names.stack,
                rolePath: names.rolePath,
                roleBoundary: names.roleBoundary,
                logGroupPrefix: names.logGroupPrefix,
                flowLogGroup: names.flowLogGroup,
                stepFunctionsLogGroupPrefix: names.stepFunctionsLogGroupPrefix,
                restartLogGroup: names.restartLogGroup,
                secretPrefix: names.secretPrefix,
                accessLogBucketPrefix: names.accessLogBucketPrefix,
                databaseIdentifier: names.databaseIdentifier,
                databaseLogGroupPrefix: names.databaseLogGroupPrefix,
                family: names.family("users"),
                serviceLogGroup: names.serviceLogGroup("users"),
                serviceSecretPrefix: names.serviceSecretPrefix("users"),
            },
            {
                stack: "berth-dev",
                rolePath: "/berth/dev/",
                roleBoundary: "berth-dev-role-boundary",
                logGroupPrefix: "/berth/dev/",
                flowLogGroup: "/berth/dev/vpc-flow-logs",
                stepFunctionsLogGroupPrefix: "/aws/vendedlogs/states/berth-dev-",
                restartLogGroup: "/aws/vendedlogs/states/berth-dev-secret-restart",
                secretPrefix: "berth/dev/",
                accessLogBucketPrefix: "berth-dev-alb-logs-",
                databaseIdentifier: "berth-dev-db",
                databaseLogGroupPrefix: "/aws/rds/instance/berth-dev-db/",
                family: "berth-dev-users",
                serviceLogGroup: "/berth/dev/users",
                serviceSecretPrefix: "berth/dev/users/",
            },
        );
    });

    it("is read from Pulumi's stack and project by no component", () => {
        const readers = sources("components").filter((file) => /\bget(Stack|Project)\s*\(/.test(fs.readFileSync(path.join(ROOT, file), "utf8")));
        assert.deepStrictEqual(readers, []);
    });

    it("puts every role a component creates under the role path it is given, whatever the stack", async () => {
        const h = new Harness();
        await h.install({}, "dev");
        const rolePath = "/team/blue/";
        new Network("net", {
            region: "us-east-1",
            cidrBlock: "10.1.0.0/16",
            availabilityZones: ["a", "b"],
            rolePath,
            flowLogs: { logGroupName: "/team/blue/vpc-flow-logs", retentionDays: 7 },
        });
        new FargateService(
            "x",
            serviceArgs({
                rolePath,
                expose: { kind: "public", listenerArn: "l", loadBalancerSecurityGroupId: "sg", pathPatterns: [], priority: 10 },
            }),
        );
        new Database("db", {
            vpcId: "vpc-1",
            subnetIds: ["subnet-a", "subnet-b"],
            identifier: "team-blue-db",
            engineVersion: "17",
            instanceClass: "db.t4g.micro",
            allocatedStorage: 20,
            logRetentionDays: 7,
            rolePath,
        });
        new SecretRestart("r", {
            clusterArn: "c",
            rolePath,
            readers: [{ name: "x", serviceArn: "s", secretArns: ["arn:aws:secretsmanager:us-east-1:123456789012:secret:a"] }],
            logs: { groupName: "/aws/vendedlogs/states/team-blue-secret-restart", retentionDays: 7 },
        });
        await h.settle();
        const roles = h.ofType(T.role);
        assert.deepStrictEqual(roles.map((r) => r.name).sort(), [
            "db-monitoring-role",
            "net-flow-logs-role",
            "r-events-role",
            "r-sfn-role",
            "x-execution-role",
            "x-task-role",
            "x-traffic-role",
        ]);
        for (const role of roles) {
            assert.strictEqual(role.inputs.path, rolePath, role.name);
        }
    });
});
