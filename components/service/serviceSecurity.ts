import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { childName } from "../../core/naming";
import type { Callee, FargateServiceArgs } from "./fargateServiceArgs";

/**
 * The service's security group: the container port from the ALB only (public) or from its callers only (their
 * own ingress rules, `admitToCallees`), and its egress rule.
 */
export function createSecurityGroup(
    name: string,
    args: FargateServiceArgs,
    parent: pulumi.Resource,
): { securityGroup: aws.ec2.SecurityGroup; egress: aws.vpc.SecurityGroupEgressRule } {
    const securityGroup = new aws.ec2.SecurityGroup(
        childName(name, "sg"),
        {
            vpcId: args.vpcId,
            description: args.expose.kind === "public" ? `${name}: port ${args.port} from the ALB only` : `${name}: port ${args.port} from its callers only`,
        },
        { parent },
    );

    if (args.expose.kind === "public") {
        new aws.vpc.SecurityGroupIngressRule(
            childName(name, "from-alb"),
            {
                securityGroupId: securityGroup.id,
                description: "From the ALB",
                ipProtocol: "tcp",
                fromPort: args.port,
                toPort: args.port,
                referencedSecurityGroupId: args.expose.loadBalancerSecurityGroupId,
            },
            { parent },
        );
    }
    // Tasks pull images, call AWS APIs and reach other services through the NAT and Service Connect.
    const egress = new aws.vpc.SecurityGroupEgressRule(
        childName(name, "out"),
        {
            securityGroupId: securityGroup.id,
            description: "Outbound to anywhere",
            ipProtocol: "-1",
            cidrIpv4: "0.0.0.0/0",
        },
        { parent },
    );
    return { securityGroup, egress };
}

export function admitToCallees(
    name: string,
    callees: Callee[],
    securityGroup: aws.ec2.SecurityGroup,
    parent: pulumi.Resource,
): aws.vpc.SecurityGroupIngressRule[] {
    return callees.map(
        (callee) =>
            new aws.vpc.SecurityGroupIngressRule(
                childName(name, `to-${callee.name}`),
                {
                    securityGroupId: callee.securityGroupId,
                    description: `From ${name}, which calls ${callee.name}`,
                    ipProtocol: "tcp",
                    fromPort: callee.port,
                    toPort: callee.port,
                    referencedSecurityGroupId: securityGroup.id,
                },
                { parent },
            ),
    );
}

/**
 * The database's group admits this service on the database's port, and this service's group lets it out
 * there, so that the connection survives a narrower egress policy.
 */
export function connectToDatabase(
    name: string,
    database: { securityGroupId: pulumi.Input<string>; port: number },
    securityGroup: aws.ec2.SecurityGroup,
    parent: pulumi.Resource,
): pulumi.Resource[] {
    const ingress = new aws.vpc.SecurityGroupIngressRule(
        childName(name, "to-database"),
        {
            securityGroupId: database.securityGroupId,
            description: `From ${name}, which declares the database`,
            ipProtocol: "tcp",
            fromPort: database.port,
            toPort: database.port,
            referencedSecurityGroupId: securityGroup.id,
        },
        { parent },
    );
    const egress = new aws.vpc.SecurityGroupEgressRule(
        childName(name, "out-database"),
        {
            securityGroupId: securityGroup.id,
            description: "To the database",
            ipProtocol: "tcp",
            fromPort: database.port,
            toPort: database.port,
            referencedSecurityGroupId: database.securityGroupId,
        },
        { parent },
    );
    return [ingress, egress];
}
