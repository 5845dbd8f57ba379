import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { contains, isolatedSubnets, overlaps, parseCidr, splitSubnets, type Ipv4Cidr } from "./cidr";
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
     * The range of the isolated subnets, one per AZ, which have no route out of the VPC (for databases).
     * Inside `cidrBlock` it must miss the public and private subnets; outside it, it becomes a secondary
     * range of the VPC (see `defaultIsolatedRange` for one that fits).
     * @example "10.1.0.0/24"
     * @default undefined: no isolated subnets
     */
    isolatedCidrBlock?: string;
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
 * routing to its NAT gateway. With `isolatedCidrBlock`: per AZ an isolated subnet, one route table for them
 * with no route at all beyond the VPC's local one, and, for a range outside the VPC's block, its
 * association with the VPC.
 */
export class Network extends pulumi.ComponentResource {
    public readonly vpcId: pulumi.Output<string>;
    public readonly publicSubnetIds: pulumi.Output<string>[];
    public readonly privateSubnetIds: pulumi.Output<string>[];
    /** Subnets with no route out of the VPC, one per AZ; empty without `isolatedCidrBlock`. */
    public readonly isolatedSubnetIds: pulumi.Output<string>[];
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
        const isolated = args.isolatedCidrBlock === undefined ? undefined : isolatedLayout(name, cidr, layout, args.isolatedCidrBlock, azCount);
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
        const isolatedSubnets = isolated ? this.createIsolatedSubnets(vpc, isolated, args.availabilityZones) : [];

        this.vpcId = vpc.id;
        this.publicSubnetIds = publicSubnets.map((s) => s.id);
        this.privateSubnetIds = privateSubnets.map((s) => s.id);
        this.isolatedSubnetIds = isolatedSubnets.map((s) => s.id);
        this.registerOutputs({
            vpcId: this.vpcId,
            publicSubnetIds: this.publicSubnetIds,
            privateSubnetIds: this.privateSubnetIds,
            isolatedSubnetIds: this.isolatedSubnetIds,
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

    private createSubnet(
        kind: "public" | "private" | "isolated",
        index: number,
        vpcId: pulumi.Input<string>,
        cidrBlock: string,
        availabilityZone: pulumi.Input<string>,
        dependsOn: pulumi.Resource[] = [],
    ): aws.ec2.Subnet {
        const name = childName(this.name, kind, index);
        return new aws.ec2.Subnet(name, {
            vpcId,
            cidrBlock,
            availabilityZone,
            // Only the ALB lives in public subnets and it gets its own addresses; tasks never get a public IP.
            mapPublicIpOnLaunch: false,
            tags: { Name: name, "berth:subnet": kind },
        }, { parent: this, dependsOn });
    }

    /**
     * Isolated subnets share one route table of their own that holds only the VPC's implicit local route: no
     * Internet gateway, no NAT gateway, so nothing in them reaches or is reached from outside the VPC. A range
     * outside the VPC's primary block is associated with the VPC first; the subnets wait for it.
     */
    private createIsolatedSubnets(vpc: aws.ec2.Vpc, layout: { subnets: string[]; secondary?: string }, zones: pulumi.Input<string>[]): aws.ec2.Subnet[] {
        const association = layout.secondary === undefined ? [] : [new aws.ec2.VpcIpv4CidrBlockAssociation(childName(this.name, "isolated-cidr"), {
            vpcId: vpc.id,
            cidrBlock: layout.secondary,
        }, { parent: this })];
        const subnets = layout.subnets.map((block, i) => this.createSubnet("isolated", i, vpc.id, block, zones[i], association));
        const table = new aws.ec2.RouteTable(childName(this.name, "isolated-rt"), {
            vpcId: vpc.id,
            tags: { Name: childName(this.name, "isolated-rt") },
        }, { parent: this });
        subnets.forEach((subnet, i) => new aws.ec2.RouteTableAssociation(childName(this.name, "isolated-rta", i), {
            subnetId: subnet.id,
            routeTableId: table.id,
        }, { parent: this }));
        return subnets;
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
