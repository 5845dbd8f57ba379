import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { parseCidr, splitSubnets } from "./cidr";
import { childName } from "./naming";

/** `single`: one NAT gateway for the VPC (cheap). `perAz`: one per AZ (an AZ outage cuts no other AZ off). */
export type NatStrategy = "single" | "perAz";

export interface NetworkArgs {
    /**
     * The VPC's IPv4 range. Public and private subnets get equal blocks of it, one of each per AZ.
     * @example "10.0.0.0/16"
     */
    cidrBlock: string;
    /**
     * The availability zones to spread over, in order; at least two (the ALB needs two). Pass the region's
     * zones as `aws.getAvailabilityZones` names them.
     */
    availabilityZones: pulumi.Input<string>[];
    /**
     * How private subnets reach the internet (image pulls, AWS APIs).
     * @default "single"
     */
    nat?: NatStrategy;
    /**
     * `pulumi destroy` refuses to delete the VPC (Pulumi's `protect`).
     * @default false
     */
    protect?: boolean;
    /**
     * VPC flow logs (every accepted and rejected flow) to a CloudWatch Logs group (vpc-flow-logs-enabled).
     * @default none
     */
    flowLogs?: FlowLogsArgs;
}

/** Where the VPC's flow logs go. */
export interface FlowLogsArgs {
    /** The log group's name, e.g. `/berth/prod/vpc-flow-logs`. */
    logGroupName: string;
    /** Days CloudWatch Logs keeps the flow logs. */
    retentionDays: number;
    /**
     * The KMS key (ARN) that encrypts the log group.
     * @default none: CloudWatch Logs' own encryption
     */
    kmsKeyArn?: pulumi.Input<string>;
    /**
     * Deleting the stack keeps the log group.
     * @default false
     */
    retainOnDelete?: boolean;
}

/**
 * A new VPC over several availability zones, never the account's default VPC.
 *
 * The Internet gateway is created with `vpcId`: the provider creates and attaches it in one step ("The VPC ID
 * to create in", https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/internet_gateway),
 * so what depends on it waits for the attachment.
 *
 * Creates: the VPC (DNS support and hostnames on, which ECS Service Connect and ECR need), an Internet
 * gateway, per AZ a public and a private subnet, a public route table routing to the Internet gateway, NAT
 * gateways with Elastic IPs (one, or one per AZ) in the public subnets, and per AZ a private route table
 * routing to its NAT gateway; the VPC's default security group adopted without rules; with `flowLogs`, flow
 * logs to an encrypted CloudWatch Logs group with their role.
 */
export class Network extends pulumi.ComponentResource {
    public readonly vpcId: pulumi.Output<string>;
    public readonly publicSubnetIds: pulumi.Output<string>[];
    public readonly privateSubnetIds: pulumi.Output<string>[];
    /** How many NAT gateways the network has. */
    public readonly natGatewayCount: number;
    /**
     * The Internet gateway (attached to the VPC on create) and the public subnets' routes to it: an
     * internet-facing ALB created before them fails with `InvalidSubnet`, and one deleted after them blocks
     * the gateway's detachment.
     */
    public readonly publicRoutes: pulumi.Resource[];
    /** The private subnets' routes to the NAT gateways: tasks started before them cannot pull their image. */
    public readonly privateRoutes: pulumi.Resource[];

    private readonly name: string;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("berth:network:Network", name, {}, opts);
        this.name = name;

        const azCount = args.availabilityZones.length;
        if (azCount < 2) {
            throw new Error(`Network "${name}": "availabilityZones" must list at least 2 zones, got ${azCount}`);
        }
        const cidr = parseCidr(args.cidrBlock);
        if (typeof cidr === "string") {
            throw new Error(`Network "${name}": "cidrBlock" ${JSON.stringify(args.cidrBlock)}: ${cidr}`);
        }
        const layout = splitSubnets(cidr, azCount);
        const nat = args.nat ?? "single";
        this.natGatewayCount = nat === "perAz" ? azCount : 1;

        const vpc = this.createVpc(args.cidrBlock, args.protect ?? false);
        const igw = new aws.ec2.InternetGateway(childName(name, "igw"), { vpcId: vpc.id }, { parent: this });

        const publicSubnets = layout.public.map((block, i) =>
            this.createSubnet("public", i, vpc.id, block, args.availabilityZones[i]));
        const privateSubnets = layout.private.map((block, i) =>
            this.createSubnet("private", i, vpc.id, block, args.availabilityZones[i]));

        this.publicRoutes = [igw, ...this.routePublicSubnets(vpc.id, igw, publicSubnets)];
        const natGateways = Array.from({ length: this.natGatewayCount }, (_, i) =>
            this.createNatGateway(i, publicSubnets[i], igw));
        this.privateRoutes = this.routePrivateSubnets(vpc.id, privateSubnets, natGateways);
        this.closeDefaultSecurityGroup(vpc);
        if (args.flowLogs) {
            this.createFlowLogs(vpc, args.flowLogs, args.protect ?? false);
        }

        this.vpcId = vpc.id;
        this.publicSubnetIds = publicSubnets.map((s) => s.id);
        this.privateSubnetIds = privateSubnets.map((s) => s.id);
        this.registerOutputs({
            vpcId: this.vpcId,
            publicSubnetIds: this.publicSubnetIds,
            privateSubnetIds: this.privateSubnetIds,
        });
    }

    private createVpc(cidrBlock: string, protect: boolean): aws.ec2.Vpc {
        return new aws.ec2.Vpc(childName(this.name, "vpc"), {
            cidrBlock,
            enableDnsHostnames: true,
            enableDnsSupport: true,
            tags: { Name: childName(this.name, "vpc") },
        }, { parent: this, protect });
    }

    /**
     * Adopts the VPC's default security group and leaves it without rules (vpc-default-security-group-closed):
     * on adoption the provider removes every rule the group has, then adds only those given
     * (https://www.pulumi.com/registry/packages/aws/api-docs/ec2/defaultsecuritygroup/). Nothing of Berth uses
     * the group; anything placed in it by mistake reaches and is reached by nothing.
     */
    private closeDefaultSecurityGroup(vpc: aws.ec2.Vpc): aws.ec2.DefaultSecurityGroup {
        return new aws.ec2.DefaultSecurityGroup(childName(this.name, "default-sg"), {
            vpcId: vpc.id,
            ingress: [],
            egress: [],
            tags: { Name: childName(this.name, "default-sg-closed") },
        }, { parent: this });
    }

    /**
     * Flow logs of every flow, accepted or rejected, to CloudWatch Logs through a role the flow-logs service
     * assumes for this account only (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html).
     */
    private createFlowLogs(vpc: aws.ec2.Vpc, args: FlowLogsArgs, protect: boolean): aws.ec2.FlowLog {
        const parent = { parent: this };
        const logGroup = new aws.cloudwatch.LogGroup(childName(this.name, "flow-logs"), {
            name: args.logGroupName,
            retentionInDays: args.retentionDays,
            kmsKeyId: args.kmsKeyArn,
        }, { parent: this, protect, retainOnDelete: args.retainOnDelete ?? false });
        const account = aws.getCallerIdentityOutput({}, parent).accountId;
        const role = new aws.iam.Role(childName(this.name, "flow-logs-role"), {
            description: "VPC flow logs write to their log group",
            assumeRolePolicy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [{
                    Effect: "Allow",
                    Principal: { Service: "vpc-flow-logs.amazonaws.com" },
                    Action: "sts:AssumeRole",
                    Condition: { StringEquals: { "aws:SourceAccount": account } },
                }],
            }),
        }, parent);
        new aws.iam.RolePolicy(childName(this.name, "flow-logs-policy"), {
            role: role.name,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [{
                    Effect: "Allow",
                    Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
                    Resource: [logGroup.arn, pulumi.interpolate`${logGroup.arn}:*`],
                }],
            }),
        }, parent);
        return new aws.ec2.FlowLog(childName(this.name, "flow-log"), {
            vpcId: vpc.id,
            trafficType: "ALL",
            logDestinationType: "cloud-watch-logs",
            logDestination: logGroup.arn,
            iamRoleArn: role.arn,
            maxAggregationInterval: 600,
            tags: { Name: childName(this.name, "flow-log") },
        }, parent);
    }

    private createSubnet(
        kind: "public" | "private",
        index: number,
        vpcId: pulumi.Input<string>,
        cidrBlock: string,
        availabilityZone: pulumi.Input<string>,
    ): aws.ec2.Subnet {
        const name = childName(this.name, kind, index);
        return new aws.ec2.Subnet(name, {
            vpcId,
            cidrBlock,
            availabilityZone,
            // Only the ALB lives in public subnets and it gets its own addresses; tasks never get a public IP.
            mapPublicIpOnLaunch: false,
            tags: { Name: name, "berth:subnet": kind },
        }, { parent: this });
    }

    private routePublicSubnets(vpcId: pulumi.Input<string>, igw: aws.ec2.InternetGateway, subnets: aws.ec2.Subnet[]): pulumi.Resource[] {
        const table = new aws.ec2.RouteTable(childName(this.name, "public-rt"), {
            vpcId,
            tags: { Name: childName(this.name, "public-rt") },
        }, { parent: this });
        const route = new aws.ec2.Route(childName(this.name, "public-default"), {
            routeTableId: table.id,
            destinationCidrBlock: "0.0.0.0/0",
            gatewayId: igw.id,
        }, { parent: this });
        const associations = subnets.map((subnet, i) => new aws.ec2.RouteTableAssociation(childName(this.name, "public-rta", i), {
            subnetId: subnet.id,
            routeTableId: table.id,
        }, { parent: this }));
        return [route, ...associations];
    }

    private createNatGateway(index: number, subnet: aws.ec2.Subnet, igw: aws.ec2.InternetGateway): aws.ec2.NatGateway {
        const eip = new aws.ec2.Eip(childName(this.name, "nat-eip", index), {
            domain: "vpc",
            tags: { Name: childName(this.name, "nat-eip", index) },
        }, { parent: this, dependsOn: [igw] });
        return new aws.ec2.NatGateway(childName(this.name, "nat", index), {
            subnetId: subnet.id,
            allocationId: eip.id,
            tags: { Name: childName(this.name, "nat", index) },
        }, { parent: this, dependsOn: [igw] });
    }

    private routePrivateSubnets(vpcId: pulumi.Input<string>, subnets: aws.ec2.Subnet[], natGateways: aws.ec2.NatGateway[]): pulumi.Resource[] {
        return subnets.flatMap((subnet, i) => {
            // With one NAT gateway every AZ uses it; with one per AZ each AZ keeps its traffic in the AZ.
            const nat = natGateways[Math.min(i, natGateways.length - 1)];
            const table = new aws.ec2.RouteTable(childName(this.name, "private-rt", i), {
                vpcId,
                tags: { Name: childName(this.name, "private-rt", i) },
            }, { parent: this });
            const route = new aws.ec2.Route(childName(this.name, "private-default", i), {
                routeTableId: table.id,
                destinationCidrBlock: "0.0.0.0/0",
                natGatewayId: nat.id,
            }, { parent: this });
            const association = new aws.ec2.RouteTableAssociation(childName(this.name, "private-rta", i), {
                subnetId: subnet.id,
                routeTableId: table.id,
            }, { parent: this });
            return [route, association];
        });
    }
}
