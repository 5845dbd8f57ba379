import * as assert from "node:assert";
import { matchRoute, parseRoutes } from "../src/routes";

describe("gateway routes", () => {
    const routes = parseRoutes(JSON.stringify({ "/users": "http://users:8080", "/users/admin": "http://admin:9000", "/products": "http://products:8080/" }));

    it("matches a prefix, everything under it, and nothing that merely starts alike", () => {
        assert.strictEqual(matchRoute(routes, "/users")?.origin, "http://users:8080");
        assert.strictEqual(matchRoute(routes, "/users/1")?.origin, "http://users:8080");
        assert.strictEqual(matchRoute(routes, "/usersx"), undefined);
        assert.strictEqual(matchRoute(routes, "/"), undefined);
        assert.strictEqual(matchRoute(routes, "/products/7")?.origin, "http://products:8080");
    });

    it("prefers the longest prefix", () => {
        assert.strictEqual(matchRoute(routes, "/users/admin/3")?.origin, "http://admin:9000");
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
    ];
    for (const [text, message] of bad) {
        it(`refuses ROUTES=${text}`, () => assert.throws(() => parseRoutes(text), message));
    }
});
