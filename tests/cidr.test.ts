import * as assert from "assert";
import { formatCidr, overlaps, parseCidr, splitSubnets, type Ipv4Cidr } from "../components/cidr";
import { contains } from "./support/cidr";

function cidr(text: string): Ipv4Cidr {
    const parsed = parseCidr(text);
    if (typeof parsed === "string") {
        throw new Error(`${text}: ${parsed}`);
    }
    return parsed;
}

describe("cidr", () => {
    describe("parseCidr", () => {
        for (const text of ["10.0.0.0/16", "172.31.0.0/16", "192.168.10.0/24", "0.0.0.0/0", "10.1.2.3/32"]) {
            it(`parses and formats ${text} unchanged`, () => {
                assert.strictEqual(formatCidr(cidr(text)), text);
            });
        }
        const bad: Array<[string, RegExp]> = [
            ["10.0.0/16", /not an IPv4 CIDR/],
            ["10.0.0.0", /not an IPv4 CIDR/],
            ["300.0.0.0/16", /not an IPv4 CIDR/],
            ["10.0.0.0/33", /not an IPv4 CIDR/],
            ["banana", /not an IPv4 CIDR/],
            ["10.0.1.0/16", /host bits are set; the network address is 10\.0\.0\.0\/16/],
        ];
        for (const [text, message] of bad) {
            it(`rejects ${text}`, () => {
                const parsed = parseCidr(text);
                assert.strictEqual(typeof parsed, "string");
                assert.match(parsed as string, message);
            });
        }
    });

    describe("splitSubnets", () => {
        it("gives 10.0.0.0/16 over 2 AZs four /18 blocks, public first", () => {
            assert.deepStrictEqual(splitSubnets(cidr("10.0.0.0/16"), 2), {
                public: ["10.0.0.0/18", "10.0.64.0/18"],
                private: ["10.0.128.0/18", "10.0.192.0/18"],
            });
        });

        for (const vpc of ["10.0.0.0/16", "10.20.0.0/16", "192.168.0.0/20", "172.16.0.0/24"]) {
            for (let azs = 2; azs <= 6; azs++) {
                it(`lays ${vpc} over ${azs} AZs without overlap, inside the VPC`, () => {
                    const layout = splitSubnets(cidr(vpc), azs);
                    assert.strictEqual(layout.public.length, azs);
                    assert.strictEqual(layout.private.length, azs);
                    const all = [...layout.public, ...layout.private].map(cidr);
                    for (let i = 0; i < all.length; i++) {
                        assert.ok(contains(cidr(vpc), all[i]), `${formatCidr(all[i])} outside ${vpc}`);
                        assert.ok(all[i].prefix <= 28, `${formatCidr(all[i])} is smaller than AWS allows`);
                        for (let j = i + 1; j < all.length; j++) {
                            assert.ok(!overlaps(all[i], all[j]), `${formatCidr(all[i])} overlaps ${formatCidr(all[j])}`);
                        }
                    }
                });
            }
        }

        it("refuses a VPC too small for /28 subnets", () => {
            assert.throws(() => splitSubnets(cidr("10.0.0.0/27"), 2), /too small for 4 subnets of at least \/28/);
        });
    });

    describe("overlaps", () => {
        it("tells nested and adjacent blocks apart", () => {
            assert.ok(overlaps(cidr("10.0.0.0/16"), cidr("10.0.5.0/24")));
            assert.ok(!overlaps(cidr("10.0.0.0/24"), cidr("10.0.1.0/24")));
        });
    });
});
