/** CIDR relations the tests check subnet layouts with. */
import * as assert from "assert";
import { parseCidr, type Ipv4Cidr } from "../../components/cidr";

export { overlaps } from "../../components/cidr";

/** Parses a CIDR the test knows to be valid. */
export function cidr(text: string): Ipv4Cidr {
    const parsed = parseCidr(text);
    assert.ok(typeof parsed !== "string", `${text}: ${parsed}`);
    return parsed;
}

/** Whether `inner` lies wholly inside `outer`. */
export function contains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
    return inner.prefix >= outer.prefix && inner.base >= outer.base &&
        inner.base + 2 ** (32 - inner.prefix) <= outer.base + 2 ** (32 - outer.prefix);
}
