/**
 * The `cidr()` the tests write blocks with, and the relations they check subnet layouts with: written apart from
 * core/cidr.ts (plain arithmetic, no bit operations), so that a test of the layout checks it rather than repeats it.
 */
import * as assert from "assert";
import type { Ipv4Cidr } from "../../core/cidr";

/** A CIDR the test knows to be valid, as core/cidr.ts holds it: the network address as a number and the prefix. */
export function cidr(text: string): Ipv4Cidr {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
    assert.ok(match, `${text} is not an IPv4 CIDR`);
    const octets = match.slice(1, 5).map(Number);
    const prefix = Number(match[5]);
    assert.ok(octets.every((o) => o <= 255) && prefix <= 32, `${text} is not an IPv4 CIDR`);
    const base = octets.reduce((n, o) => n * 256 + o, 0);
    assert.strictEqual(base % size({ base, prefix }), 0, `${text}: host bits are set`);
    return { base, prefix };
}

const size = (block: Ipv4Cidr): number => 2 ** (32 - block.prefix);

/** Whether every address of `inner` lies in `outer`. */
export function contains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
    return inner.base >= outer.base && inner.base + size(inner) <= outer.base + size(outer);
}

/** Whether the blocks share an address. */
export function overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
    return a.base < b.base + size(b) && b.base < a.base + size(a);
}
