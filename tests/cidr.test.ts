import * as assert from "assert";
import * as core from "../core/cidr";
import { defaultIsolatedRange, formatCidr, isolatedSubnets, parseCidr, splitSubnets } from "../core/cidr";
import { cidr, contains, overlaps } from "./support/cidr";

describe("cidr", () => {
    describe("parseCidr", () => {
        for (const text of ["10.0.0.0/16", "172.31.0.0/16", "192.168.10.0/24", "0.0.0.0/0", "10.1.2.3/32"]) {
            it(`parses and formats ${text} unchanged`, () => {
                assert.deepStrictEqual(parseCidr(text), cidr(text));
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
            assert.ok(core.overlaps(cidr("10.0.0.0/16"), cidr("10.0.5.0/24")));
            assert.ok(!core.overlaps(cidr("10.0.0.0/24"), cidr("10.0.1.0/24")));
        });
    });

    describe("defaultIsolatedRange", () => {
        const cases: Array<[string, number, string | undefined]> = [
            // 2 and 4 AZs fill the VPC: a secondary /24 right after it, in its RFC 1918 range.
            ["10.0.0.0/16", 2, "10.1.0.0/24"],
            ["10.0.0.0/16", 4, "10.1.0.0/24"],
            ["192.168.0.0/20", 2, "192.168.16.0/24"],
            ["172.16.0.0/26", 2, "172.16.1.0/24"],
            // At the end of its RFC 1918 range, the /24 before it.
            ["10.255.0.0/16", 2, "10.254.255.0/24"],
            ["192.168.255.0/24", 2, "192.168.254.0/24"],
            // 3, 5 and 6 AZs leave blocks free: the VPC's last /24.
            ["10.20.0.0/16", 3, "10.20.255.0/24"],
            ["10.0.0.0/16", 5, "10.0.255.0/24"],
            ["10.0.0.0/16", 6, "10.0.255.0/24"],
            // A small VPC: its last free subnet block, when it holds a /28 per AZ.
            ["10.0.0.0/22", 3, "10.0.3.128/25"],
            ["10.0.0.0/24", 3, "10.0.1.0/24"],
            // Outside RFC 1918 with no room left: the stack must choose.
            ["100.64.0.0/16", 2, undefined],
        ];
        for (const [vpc, azs, expected] of cases) {
            it(`picks ${expected ?? "nothing"} for ${vpc} over ${azs} AZs`, () => {
                const range = defaultIsolatedRange(cidr(vpc), azs);
                assert.strictEqual(range && formatCidr(range), expected);
            });
        }

        for (const vpc of ["10.0.0.0/16", "10.20.0.0/16", "192.168.0.0/20", "172.16.0.0/24", "10.0.0.0/22"]) {
            for (let azs = 2; azs <= 6; azs++) {
                it(`moves no public or private subnet of ${vpc} over ${azs} AZs, and fits ${azs} subnets of at least /28`, () => {
                    const layout = splitSubnets(cidr(vpc), azs);
                    const range = defaultIsolatedRange(cidr(vpc), azs);
                    if (range === undefined) {
                        return;
                    }
                    const subnets = isolatedSubnets(range, azs).map(cidr);
                    assert.strictEqual(subnets.length, azs);
                    for (const block of [...layout.public, ...layout.private].map(cidr)) {
                        assert.ok(!overlaps(block, range), `${formatCidr(range)} overlaps ${formatCidr(block)}`);
                    }
                    for (const subnet of subnets) {
                        assert.ok(subnet.prefix <= 28);
                        assert.ok(contains(range, subnet));
                    }
                    assert.deepStrictEqual(splitSubnets(cidr(vpc), azs), layout, "the layout moved");
                });
            }
        }
    });

    describe("isolatedSubnets", () => {
        it("splits a /24 into one block per AZ, in AZ order", () => {
            assert.deepStrictEqual(isolatedSubnets(cidr("10.1.0.0/24"), 2), ["10.1.0.0/25", "10.1.0.128/25"]);
            assert.deepStrictEqual(isolatedSubnets(cidr("10.20.255.0/24"), 3), ["10.20.255.0/26", "10.20.255.64/26", "10.20.255.128/26"]);
        });

        it("refuses a range too small for a /28 per AZ", () => {
            assert.throws(() => isolatedSubnets(cidr("10.1.0.0/28"), 2), /10\.1\.0\.0\/28 is too small for 2 subnets of at least \/28/);
        });
    });
});
