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
        throw new Error(
            `${formatCidr(vpc)} is too small for ${2 * azCount} subnets of at least /${MIN_SUBNET_PREFIX}`,
        );
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
