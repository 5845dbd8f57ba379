import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { contains, isolatedSubnets, overlaps, parseCidr, splitSubnets, type Ipv4Cidr } from "../../core/cidr";
import { childName } from "../../core/naming";
import { natGatewayCount, type NatInstanceType, type NatStrategy } from "../../core/nat";
import { createFlowLogs, type FlowLogsArgs } from "./flowLogs";
import { createNatInstance } from "./natInstance";

export type { FlowLogsArgs };

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
     * The instance type of the NAT instance (`nat: "instance"` only).
     * @default "t4g.nano"
     */
    natInstanceType?: NatInstanceType;
    /**
     * The SNS topic the NAT instance's recovery alarms notify, on ALARM and on OK, besides acting (`nat: "instance"` only).
     * @default none: the alarms act without telling anyone
     */
    alarmTopicArn?: pulumi.Input<string>;
    /** The region, for the S3 gateway endpoint's service name (`com.amazonaws.<region>.s3`). */
    region: string;
    /**
     * `pulumi destroy` refuses to delete the VPC (Pulumi's `protect`).
     * @default false
     */
    protect?: boolean;
    /**
     * The range of the isolated subnets, one per AZ, which have no route out of the VPC (for databases).
     * Inside `cidrBlock` it must miss the public and private subnets; outside it, it becomes a secondary
     * range of the VPC (see `defaultIsolatedRange` for one that fits).
     * @example "10.1.0.0/24"
     * @default undefined: no isolated subnets
     */
    isolatedCidrBlock?: string;
    /**
     * VPC flow logs (every accepted and rejected flow) to a CloudWatch Logs group (vpc-flow-logs-enabled).
     * @default none
     */
    flowLogs?: FlowLogsArgs;
    /**
     * The managed policy (ARN) every IAM role this creates carries as its permissions boundary (`RoleBoundary`).
     * @default none
     */
    permissionsBoundary?: pulumi.Input<string>;
    /**
     * The IAM path of every role this creates: the stack's (`stackRolePath`), which the pipeline's deploy role
     * is limited to.
     * @default none: the provider's default path
     */
    rolePath?: string;
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
 * gateways with Elastic IPs (one, or one per AZ) in the public subnets or a NAT instance with its security
 * group, per AZ a private route table routing to its NAT, and an S3 gateway endpoint on the private route
 * tables. With `isolatedCidrBlock`: per AZ an isolated subnet, one route table for them with no route at all
 * beyond the VPC's local one, and, for a range outside the VPC's block, its association with the VPC.
 *
 * The S3 gateway endpoint is free ("There is no additional charge for using gateway endpoints",
 * https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html) and carries the bulk of an
 * image pull: ECR keeps image layers in S3, and tasks download them from S3 after fetching the manifest
 * from ECR (https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html),
 * so layers no longer pass the NAT gateway's per-GB processing charge. The VPC's default security group is
 * adopted without rules; with `flowLogs`, flow logs go to an encrypted CloudWatch Logs group with their role.
 */
export class Network extends pulumi.ComponentResource {
    public readonly vpcId: pulumi.Output<string>;
    public readonly publicSubnetIds: pulumi.Output<string>[];
    public readonly privateSubnetIds: pulumi.Output<string>[];
    /** Subnets with no route out of the VPC, one per AZ; empty without `isolatedCidrBlock`. */
    public readonly isolatedSubnetIds: pulumi.Output<string>[];
    /** How many NAT gateways the network has (0 with a NAT instance). */
    public readonly natGatewayCount: number;
    /** The private subnets' route tables, one per AZ. */
    public readonly privateRouteTableIds: pulumi.Output<string>[];
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
        const isolated = args.isolatedCidrBlock === undefined ? undefined : isolatedLayout(name, cidr, layout, args.isolatedCidrBlock, azCount);
        const nat = args.nat ?? "single";
        this.natGatewayCount = natGatewayCount(nat, azCount);

        const vpc = this.createVpc(args.cidrBlock, args.protect ?? false);
        const igw = new aws.ec2.InternetGateway(childName(name, "igw"), { vpcId: vpc.id }, { parent: this });

        const publicSubnets = layout.public.map((block, i) => this.createSubnet("public", i, vpc.id, block, args.availabilityZones[i]));
        const privateSubnets = layout.private.map((block, i) => this.createSubnet("private", i, vpc.id, block, args.availabilityZones[i]));

        this.publicRoutes = [igw, ...this.routePublicSubnets(vpc.id, igw, publicSubnets)];
        const natTargets: NatTarget[] =
            nat === "instance"
                ? [
                      {
                          networkInterfaceId: createNatInstance(
                              this.name,
                              this,
                              vpc,
                              publicSubnets[0],
                              args.natInstanceType ?? "t4g.nano",
                              args.cidrBlock,
                              this.publicRoutes,
                              args.region,
                              args.alarmTopicArn,
                          ).primaryNetworkInterfaceId,
                      },
                  ]
                : Array.from({ length: this.natGatewayCount }, (_, i) => ({ natGatewayId: this.createNatGateway(i, publicSubnets[i], igw).id }));
        const { routes, tables } = this.routePrivateSubnets(vpc.id, privateSubnets, natTargets);
        this.privateRoutes = routes;
        this.privateRouteTableIds = tables.map((t) => t.id);
        this.createS3Endpoint(vpc.id, args.region, tables);
        const isolatedSubnets = isolated ? this.createIsolatedSubnets(vpc, isolated, args.availabilityZones) : [];
        this.closeDefaultSecurityGroup(vpc);
        if (args.flowLogs) {
            createFlowLogs(
                name,
                vpc,
                { ...args.flowLogs, protect: args.protect ?? false, permissionsBoundary: args.permissionsBoundary, rolePath: args.rolePath },
                this,
            );
        }

        this.vpcId = vpc.id;
        this.publicSubnetIds = publicSubnets.map((s) => s.id);
        this.privateSubnetIds = privateSubnets.map((s) => s.id);
        this.isolatedSubnetIds = isolatedSubnets.map((s) => s.id);
        this.registerOutputs({
            vpcId: this.vpcId,
            publicSubnetIds: this.publicSubnetIds,
            privateSubnetIds: this.privateSubnetIds,
            privateRouteTableIds: this.privateRouteTableIds,
            isolatedSubnetIds: this.isolatedSubnetIds,
        });
    }

    private createVpc(cidrBlock: string, protect: boolean): aws.ec2.Vpc {
        return new aws.ec2.Vpc(
            childName(this.name, "vpc"),
            {
                cidrBlock,
                enableDnsHostnames: true,
                enableDnsSupport: true,
                tags: { Name: childName(this.name, "vpc") },
            },
            { parent: this, protect },
        );
    }

    /**
     * Adopts the VPC's default security group and leaves it without rules (vpc-default-security-group-closed):
     * on adoption the provider removes every rule the group has, then adds only those given
     * (https://www.pulumi.com/registry/packages/aws/api-docs/ec2/defaultsecuritygroup/). Nothing of Berth uses
     * the group; anything placed in it by mistake reaches and is reached by nothing.
     */
    private closeDefaultSecurityGroup(vpc: aws.ec2.Vpc): aws.ec2.DefaultSecurityGroup {
        return new aws.ec2.DefaultSecurityGroup(
            childName(this.name, "default-sg"),
            {
                vpcId: vpc.id,
                ingress: [],
                egress: [],
                tags: { Name: childName(this.name, "default-sg-closed") },
            },
            { parent: this },
        );
    }

    private createSubnet(
        kind: "public" | "private" | "isolated",
        index: number,
        vpcId: pulumi.Input<string>,
        cidrBlock: string,
        availabilityZone: pulumi.Input<string>,
        dependsOn: pulumi.Resource[] = [],
    ): aws.ec2.Subnet {
        const name = childName(this.name, kind, index);
        return new aws.ec2.Subnet(
            name,
            {
                vpcId,
                cidrBlock,
                availabilityZone,
                // Only the ALB lives in public subnets and it gets its own addresses; tasks never get a public IP.
                mapPublicIpOnLaunch: false,
                tags: { Name: name, "berth:subnet": kind },
            },
            { parent: this, dependsOn },
        );
    }

    /**
     * Isolated subnets share one route table of their own that holds only the VPC's implicit local route: no
     * Internet gateway, no NAT gateway, so nothing in them reaches or is reached from outside the VPC. A range
     * outside the VPC's primary block is associated with the VPC first; the subnets wait for it.
     */
    private createIsolatedSubnets(vpc: aws.ec2.Vpc, layout: { subnets: string[]; secondary?: string }, zones: pulumi.Input<string>[]): aws.ec2.Subnet[] {
        const association =
            layout.secondary === undefined
                ? []
                : [
                      new aws.ec2.VpcIpv4CidrBlockAssociation(
                          childName(this.name, "isolated-cidr"),
                          {
                              vpcId: vpc.id,
                              cidrBlock: layout.secondary,
                          },
                          { parent: this },
                      ),
                  ];
        const subnets = layout.subnets.map((block, i) => this.createSubnet("isolated", i, vpc.id, block, zones[i], association));
        const table = new aws.ec2.RouteTable(
            childName(this.name, "isolated-rt"),
            {
                vpcId: vpc.id,
                tags: { Name: childName(this.name, "isolated-rt") },
            },
            { parent: this },
        );
        subnets.forEach(
            (subnet, i) =>
                new aws.ec2.RouteTableAssociation(
                    childName(this.name, "isolated-rta", i),
                    {
                        subnetId: subnet.id,
                        routeTableId: table.id,
                    },
                    { parent: this },
                ),
        );
        return subnets;
    }

    private routePublicSubnets(vpcId: pulumi.Input<string>, igw: aws.ec2.InternetGateway, subnets: aws.ec2.Subnet[]): pulumi.Resource[] {
        const table = new aws.ec2.RouteTable(
            childName(this.name, "public-rt"),
            {
                vpcId,
                tags: { Name: childName(this.name, "public-rt") },
            },
            { parent: this },
        );
        const route = new aws.ec2.Route(
            childName(this.name, "public-default"),
            {
                routeTableId: table.id,
                destinationCidrBlock: "0.0.0.0/0",
                gatewayId: igw.id,
            },
            { parent: this },
        );
        const associations = subnets.map(
            (subnet, i) =>
                new aws.ec2.RouteTableAssociation(
                    childName(this.name, "public-rta", i),
                    {
                        subnetId: subnet.id,
                        routeTableId: table.id,
                    },
                    { parent: this },
                ),
        );
        return [route, ...associations];
    }

    private createNatGateway(index: number, subnet: aws.ec2.Subnet, igw: aws.ec2.InternetGateway): aws.ec2.NatGateway {
        const eip = new aws.ec2.Eip(
            childName(this.name, "nat-eip", index),
            {
                domain: "vpc",
                tags: { Name: childName(this.name, "nat-eip", index) },
            },
            { parent: this, dependsOn: [igw] },
        );
        return new aws.ec2.NatGateway(
            childName(this.name, "nat", index),
            {
                subnetId: subnet.id,
                allocationId: eip.id,
                tags: { Name: childName(this.name, "nat", index) },
            },
            { parent: this, dependsOn: [igw] },
        );
    }

    private routePrivateSubnets(
        vpcId: pulumi.Input<string>,
        subnets: aws.ec2.Subnet[],
        natTargets: NatTarget[],
    ): { routes: pulumi.Resource[]; tables: aws.ec2.RouteTable[] } {
        const tables: aws.ec2.RouteTable[] = [];
        const routes = subnets.flatMap((subnet, i) => {
            // With one NAT every AZ uses it; with one per AZ each AZ keeps its traffic in the AZ.
            const nat = natTargets[Math.min(i, natTargets.length - 1)];
            const table = new aws.ec2.RouteTable(
                childName(this.name, "private-rt", i),
                {
                    vpcId,
                    tags: { Name: childName(this.name, "private-rt", i) },
                },
                { parent: this },
            );
            tables.push(table);
            const route = new aws.ec2.Route(
                childName(this.name, "private-default", i),
                {
                    routeTableId: table.id,
                    destinationCidrBlock: "0.0.0.0/0",
                    ...nat,
                },
                { parent: this },
            );
            const association = new aws.ec2.RouteTableAssociation(
                childName(this.name, "private-rta", i),
                {
                    subnetId: subnet.id,
                    routeTableId: table.id,
                },
                { parent: this },
            );
            return [route, association];
        });
        return { routes, tables };
    }

    /** The S3 gateway endpoint, associated with each private route table as a resource of its own. */
    private createS3Endpoint(vpcId: pulumi.Input<string>, region: string, tables: aws.ec2.RouteTable[]): void {
        const endpoint = new aws.ec2.VpcEndpoint(
            childName(this.name, "s3"),
            {
                vpcId,
                serviceName: `com.amazonaws.${region}.s3`,
                vpcEndpointType: "Gateway",
                tags: { Name: childName(this.name, "s3") },
            },
            { parent: this },
        );
        tables.forEach(
            (table, i) =>
                new aws.ec2.VpcEndpointRouteTableAssociation(
                    childName(this.name, "s3-rta", i),
                    {
                        vpcEndpointId: endpoint.id,
                        routeTableId: table.id,
                    },
                    { parent: this },
                ),
        );
    }
}

/** Where a private route table sends traffic for the internet. */
type NatTarget = { natGatewayId: pulumi.Input<string> } | { networkInterfaceId: pulumi.Input<string> };
/**
 * The isolated subnets' blocks, and the secondary range to associate when the range lies outside the VPC's
 * primary block. Throws, naming the network, when the range overlaps the public or private subnets or is
 * too small.
 */
function isolatedLayout(
    name: string,
    vpc: Ipv4Cidr,
    layout: { public: string[]; private: string[] },
    rangeText: string,
    azCount: number,
): { subnets: string[]; secondary?: string } {
    const where = `Network "${name}": "isolatedCidrBlock" ${JSON.stringify(rangeText)}`;
    const range = parseCidr(rangeText);
    if (typeof range === "string") {
        throw new Error(`${where}: ${range}`);
    }
    const taken = [...layout.public, ...layout.private].find((block) => overlaps(range, parseCidr(block) as Ipv4Cidr));
    if (taken !== undefined) {
        throw new Error(`${where} overlaps the subnet ${taken}`);
    }
    if (overlaps(vpc, range) && !contains(vpc, range)) {
        throw new Error(`${where} straddles the VPC's range; it must lie inside it or wholly outside it`);
    }
    const subnets = (() => {
        try {
            return isolatedSubnets(range, azCount);
        } catch (e) {
            throw new Error(`${where}: ${(e as Error).message}`);
        }
    })();
    return contains(vpc, range) ? { subnets } : { subnets, secondary: rangeText };
}
