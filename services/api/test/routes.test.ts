import * as assert from "node:assert";
import { matchRoute, parseRoutes } from "../src/routes";

describe("gateway routes", () => {
    const routes = parseRoutes(JSON.stringify({ "/users": "http://users:8080", "/users/admin": "http://admin:9000", "/products": "http://products:8080/" }));

    it("matches a prefix, everything under it, and nothing that merely starts alike", () => {
        assert.deepStrictEqual(matchRoute(routes, "/users")?.origins, ["http://users:8080"]);
        assert.deepStrictEqual(matchRoute(routes, "/users/1")?.origins, ["http://users:8080"]);
        assert.strictEqual(matchRoute(routes, "/usersx"), undefined);
        assert.strictEqual(matchRoute(routes, "/"), undefined);
        assert.deepStrictEqual(matchRoute(routes, "/products/7")?.origins, ["http://products:8080"]);
    });

    it("prefers the longest prefix", () => {
        assert.deepStrictEqual(matchRoute(routes, "/users/admin/3")?.origins, ["http://admin:9000"]);
    });

    it("takes one origin, several, or an object with origins and auth; public by default", () => {
        const [one, several, guarded] = parseRoutes(
            JSON.stringify({
                "/a": "http://a:1",
                "/bb": ["http://b1:1", "http://b2:2/"],
                "/ccc": { origins: "http://c:1", auth: "jwt" },
            }),
        ).sort((x, y) => x.prefix.length - y.prefix.length);
        assert.deepStrictEqual(one, { prefix: "/a", origins: ["http://a:1"], auth: "none" });
        assert.deepStrictEqual(several, { prefix: "/bb", origins: ["http://b1:1", "http://b2:2"], auth: "none" });
        assert.deepStrictEqual(guarded, { prefix: "/ccc", origins: ["http://c:1"], auth: "jwt" });
    });

    const bad: Array<[string | undefined, RegExp]> = [
        [undefined, /ROUTES is not set/],
        ["{", /ROUTES is not JSON/],
        ["[]", /ROUTES must be a JSON object/],
        ['{"users":"http://u:1"}', /prefix "users" must be a path/],
        ['{"/users/":"http://u:1"}', /without a trailing slash/],
        ['{"/users":"not a url"}', /is not a URL/],
        ['{"/users":"https://u:1"}', /allowed: an http origin/],
        ['{"/users":"http://u:1/base"}', /allowed: an http origin/],
        ['{"/users":[]}', /\/users lists no origin/],
        ['{"/users":["http://u:1", 5]}', /points to 5/],
        ['{"/users":{"origins":"http://u:1","auth":"basic"}}', /auth "basic"; allowed: none, jwt, apiKey/],
        ['{"/users":{"auth":"jwt"}}', /\/users has no "origins"/],
        ['{"/users":{"origins":"http://u:1","weight":2}}', /unknown field\(s\) weight/],
    ];
    for (const [text, message] of bad) {
        it(`refuses ROUTES=${text}`, () => assert.throws(() => parseRoutes(text), message));
    }
});
