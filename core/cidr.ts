/**
 * IPv4 CIDR arithmetic for laying out a VPC: pure functions, tested without mocks.
 */

export interface Ipv4Cidr {
    /** The network address as an unsigned 32-bit number. */
    readonly base: number;
    /** The prefix length, 0-32. */
    readonly prefix: number;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; returns an error message instead when it is not a network address. */
export function parseCidr(text: string): Ipv4Cidr | string {
    const m = CIDR.exec(text.trim());
    if (!m) {
        return "it is not an IPv4 CIDR block such as 10.0.0.0/16";
    }
    const octets = m.slice(1, 5).map(Number);
    const prefix = Number(m[5]);
    if (octets.some((o) => o > 255) || prefix > 32) {
        return "it is not an IPv4 CIDR block such as 10.0.0.0/16";
    }
    const base = octets.reduce((acc, o) => acc * 256 + o, 0);
    const size = 2 ** (32 - prefix);
    if (base % size !== 0) {
        const network = formatCidr({ base: base - (base % size), prefix });
        return `its host bits are set; the network address is ${network}`;
    }
    return { base, prefix };
}

export function formatCidr(cidr: Ipv4Cidr): string {
    const b = cidr.base;
    return `${Math.floor(b / 2 ** 24) % 256}.${Math.floor(b / 2 ** 16) % 256}.${Math.floor(b / 2 ** 8) % 256}.${b % 256}/${cidr.prefix}`;
}

/** The smallest subnet AWS accepts. */
export const MIN_SUBNET_PREFIX = 28;

export interface SubnetLayout {
    /** One public subnet per AZ, in AZ order. */
    readonly public: string[];
    /** One private subnet per AZ, in AZ order. */
    readonly private: string[];
}

/** How many prefix bits a VPC needs beyond its own to hold a public and a private subnet per AZ. */
export function subnetBits(azCount: number): number {
    return Math.ceil(Math.log2(2 * azCount));
}

/**
 * Splits a VPC into equal blocks, the first `azCount` for public subnets and the next `azCount` for
 * private ones. Equal blocks keep the layout obvious and leave the remaining blocks free for later use
 * (databases, say). Throws when the VPC is too small for subnets of at least a /28.
 */
export function splitSubnets(vpc: Ipv4Cidr, azCount: number): SubnetLayout {
    if (!Number.isInteger(azCount) || azCount < 1) {
        throw new Error(`azCount must be a positive whole number, got ${azCount}`);
    }
    const prefix = vpc.prefix + subnetBits(azCount);
    if (prefix > MIN_SUBNET_PREFIX) {
        throw new Error(`${formatCidr(vpc)} is too small for ${2 * azCount} subnets of at least /${MIN_SUBNET_PREFIX}`);
    }
    const size = 2 ** (32 - prefix);
    const block = (i: number) => formatCidr({ base: vpc.base + i * size, prefix });
    return {
        public: Array.from({ length: azCount }, (_, i) => block(i)),
        private: Array.from({ length: azCount }, (_, i) => block(azCount + i)),
    };
}

/** Whether two CIDR blocks share any address. */
export function overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
    const aEnd = a.base + 2 ** (32 - a.prefix);
    const bEnd = b.base + 2 ** (32 - b.prefix);
    return a.base < bEnd && b.base < aEnd;
}

/** Whether `inner` lies wholly inside `outer`. */
export function contains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
    return inner.prefix >= outer.prefix && inner.base >= outer.base && inner.base + 2 ** (32 - inner.prefix) <= outer.base + 2 ** (32 - outer.prefix);
}

/** The private ranges of RFC 1918. */
export const RFC1918_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;

/** The RFC 1918 range that holds `cidr`, or undefined when it lies outside all three. */
export function privateRangeOf(cidr: Ipv4Cidr): string | undefined {
    return RFC1918_RANGES.find((range) => contains(parseCidr(range) as Ipv4Cidr, cidr));
}

/**
 * The size of the isolated range Berth picks by itself: a /24 holds a database subnet of at least a /27 in
 * each of up to 6 AZs, far more than RDS needs (a Multi-AZ instance takes one address per AZ), and leaves the
 * rest of the VPC free.
 */
export const ISOLATED_RANGE_PREFIX = 24;

/**
 * Splits the isolated range into one subnet per AZ, in AZ order, each at least a /28. Throws when the range
 * is too small.
 */
export function isolatedSubnets(range: Ipv4Cidr, azCount: number): string[] {
    const prefix = range.prefix + Math.ceil(Math.log2(azCount));
    if (prefix > MIN_SUBNET_PREFIX) {
        throw new Error(`${formatCidr(range)} is too small for ${azCount} subnets of at least /${MIN_SUBNET_PREFIX}`);
    }
    const size = 2 ** (32 - prefix);
    return Array.from({ length: azCount }, (_, i) => formatCidr({ base: range.base + i * size, prefix }));
}

/**
 * Where the isolated (database) subnets go when the stack does not say, without moving any public or private
 * subnet (a subnet whose block changes is replaced, which fails while network interfaces use it):
 * - inside the VPC, the last /24 (or the last free subnet block of a small VPC), when `splitSubnets` left
 *   blocks free (3, 5 or 6 AZs);
 * - else (2 or 4 AZs fill the VPC) a secondary range of the VPC: the /24 right after the VPC's range, or the
 *   one before it, in the VPC's own RFC 1918 range, which AWS allows as a secondary block
 *   (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html, "IPv4 CIDR block association
 *   restrictions");
 * - undefined when neither fits (a VPC outside RFC 1918 with no room left): the stack must name a range.
 */
export function defaultIsolatedRange(vpc: Ipv4Cidr, azCount: number): Ipv4Cidr | undefined {
    const bits = subnetBits(azCount);
    const subnetPrefix = vpc.prefix + bits;
    const vpcEnd = vpc.base + 2 ** (32 - vpc.prefix);
    if (2 * azCount < 2 ** bits) {
        const prefix = Math.max(subnetPrefix, ISOLATED_RANGE_PREFIX);
        const last = { base: vpcEnd - 2 ** (32 - prefix), prefix };
        if (prefix + Math.ceil(Math.log2(azCount)) <= MIN_SUBNET_PREFIX) {
            return last;
        }
    }
    const size = 2 ** (32 - ISOLATED_RANGE_PREFIX);
    const home = privateRangeOf(vpc);
    const candidates = [Math.ceil(vpcEnd / size) * size, Math.floor(vpc.base / size) * size - size];
    for (const base of candidates) {
        const range = { base, prefix: ISOLATED_RANGE_PREFIX };
        if (base >= 0 && home !== undefined && privateRangeOf(range) === home && !overlaps(range, vpc)) {
            return range;
        }
    }
    return undefined;
}
