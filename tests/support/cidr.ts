/** CIDR relations the tests check subnet layouts with. */
import * as assert from "assert";
import { parseCidr, type Ipv4Cidr } from "../../core/cidr";

export { contains, overlaps } from "../../core/cidr";

/** Parses a CIDR the test knows to be valid. */
export function cidr(text: string): Ipv4Cidr {
    const parsed = parseCidr(text);
    assert.ok(typeof parsed !== "string", `${text}: ${parsed}`);
    return parsed;
}
