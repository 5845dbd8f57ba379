/**
 * The arguments of a small FargateService that the component tests vary one field at a time.
 */
import type { FargateServiceArgs } from "../../components/service/fargateService";

export function serviceArgs(overrides: Partial<FargateServiceArgs> = {}): FargateServiceArgs {
    return {
        cluster: { arn: "cluster-arn", name: "cluster" },
        namespaceArn: "namespace-arn",
        vpcId: "vpc-1",
        subnetIds: ["subnet-a", "subnet-b"],
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/x@sha256:00",
        family: "berth-test-x",
        port: 8080,
        healthPath: "/health",
        healthCheckCommand: ["CMD", "true"],
        environment: { PORT: "8080" },
        cpu: 256,
        memory: 512,
        desiredCount: 1,
        logGroupName: "/berth/test/x",
        logRetentionDays: 7,
        region: "us-east-1",
        user: "10001:10001",
        expose: { kind: "backend", discoveryName: "x" },
        ...overrides,
    };
}
