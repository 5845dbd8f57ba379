import * as assert from "node:assert";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey } from "jose";
import { authFromEnv, IDENTITY_HEADERS } from "../src/auth";
import { Gateway } from "../src/gateway";
import { parseRoutes } from "../src/routes";
import { request, startGateway, type RunningGateway } from "./support/clients";
import { fakeBackend, type FakeBackend, type Seen } from "./support/fakeBackend";

const ISSUER = "https://id.example.com/";
const AUDIENCE = "berth-api";
const API_KEY = "k_0123456789abcdefghijklmnopqrstuvwxyz";

describe("gateway authentication", function () {
    this.timeout(15_000);
    let backend: FakeBackend;
    let g: RunningGateway;
    let rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
    let pem: string;
    let other: { privateKey: CryptoKey };

    const token = (claims: Record<string, unknown> = {}, options: { key?: CryptoKey; alg?: string; expiresIn?: string } = {}) => {
        const jwt = new SignJWT({ scope: "read", ...claims })
            .setProtectedHeader({ alg: options.alg ?? "RS256" })
            .setIssuedAt()
            .setExpirationTime(options.expiresIn ?? "5m");
        if (!("sub" in claims)) {
            jwt.setSubject("user-42");
        }
        if (!("iss" in claims)) {
            jwt.setIssuer(ISSUER);
        }
        if (!("aud" in claims)) {
            jwt.setAudience(AUDIENCE);
        }
        return jwt.sign(options.key ?? rsa.privateKey);
    };
    const call = (path: string, headers: Record<string, string> = {}) => request(`${g.url}${path}`, { headers });
    const reached = (path: string) => backend.seen.filter((s) => s.url.startsWith(path));

    before(async () => {
        rsa = await generateKeyPair("RS256", { extractable: true });
        other = await generateKeyPair("RS256");
        pem = await exportSPKI(rsa.publicKey);
        backend = await fakeBackend();
        const routes = parseRoutes(
            JSON.stringify({
                "/x": { origins: backend.origin, auth: "jwt" },
                "/k": { origins: backend.origin, auth: "apiKey" },
                "/open": backend.origin,
            }),
        );
        const auth = await authFromEnv(
            {
                AUTH_ISSUER: ISSUER,
                AUTH_AUDIENCE: AUDIENCE,
                AUTH_JWT_PUBLIC_KEY: pem,
                AUTH_JWT_ALGORITHMS: "RS256",
                AUTH_API_KEYS: JSON.stringify({ billing: API_KEY }),
            },
            routes,
        );
        g = await startGateway(
            {
                "/x": { origins: backend.origin, auth: "jwt" },
                "/k": { origins: backend.origin, auth: "apiKey" },
                "/open": backend.origin,
            },
            { auth },
        );
    });
    after(async () => {
        await g.close();
        await backend.close();
    });

    it("passes a valid token's subject on in headers the client cannot set, without the token", async () => {
        const res = await call("/x/echo?valid", {
            authorization: `Bearer ${await token()}`,
            [IDENTITY_HEADERS.subject]: "admin",
            "X-Auth-Roles": "root",
        });
        assert.strictEqual(res.status, 200, res.body);
        const seen = JSON.parse(res.body) as Seen;
        assert.strictEqual(seen.headers[IDENTITY_HEADERS.subject], "user-42");
        assert.strictEqual(seen.headers[IDENTITY_HEADERS.method], "jwt");
        assert.strictEqual(seen.headers["x-auth-roles"], undefined);
        assert.strictEqual(seen.headers.authorization, undefined);
        const subjects = seen.rawHeaders.filter((_, i) => i % 2 === 0 && seen.rawHeaders[i].toLowerCase() === IDENTITY_HEADERS.subject);
        assert.strictEqual(subjects.length, 1, "a forged subject came along");
    });

    it("drops forged identity headers on public routes too", async () => {
        const seen = JSON.parse((await call("/open/echo", { [IDENTITY_HEADERS.subject]: "admin", [IDENTITY_HEADERS.method]: "jwt" })).body) as Seen;
        assert.strictEqual(seen.headers[IDENTITY_HEADERS.subject], undefined);
        assert.strictEqual(seen.headers[IDENTITY_HEADERS.method], undefined);
    });

    const refused: Array<[string, () => Promise<Record<string, string>>, RegExp]> = [
        ["no credential", async () => ({}), /^Bearer realm="berth"$/],
        ["a scheme other than Bearer", async () => ({ authorization: `Basic ${Buffer.from("a:b").toString("base64")}` }), /^Bearer realm="berth"$/],
        [
            "an expired token",
            async () => ({ authorization: `Bearer ${await token({}, { expiresIn: "-1m" })}` }),
            /error="invalid_token", error_description="it has expired"/,
        ],
        [
            "a token for another audience",
            async () => ({ authorization: `Bearer ${await token({ aud: "someone-else" })}` }),
            /error_description="claim 'aud' is not accepted"/,
        ],
        [
            "a token from another issuer",
            async () => ({ authorization: `Bearer ${await token({ iss: "https://evil.example/" })}` }),
            /error_description="claim 'iss' is not accepted"/,
        ],
        [
            "a token without a subject",
            async () => ({ authorization: `Bearer ${await token({ sub: undefined })}` }),
            /error_description="claim 'sub' is missing"/,
        ],
        [
            "a token that never expires",
            async () => ({
                authorization: `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: "RS256" }).setSubject("user-42").setIssuer(ISSUER).setAudience(AUDIENCE).sign(rsa.privateKey)}`,
            }),
            /error_description="claim 'exp' is missing"/,
        ],
        [
            "a token signed by another key",
            async () => ({ authorization: `Bearer ${await token({}, { key: other.privateKey })}` }),
            /error_description="its signature does not verify"/,
        ],
        [
            "an unsigned token (alg none)",
            async () => ({
                authorization: `Bearer ${new UnsecuredJWT({ sub: "user-42" }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime("5m").encode()}`,
            }),
            /error_description="its algorithm is not accepted"/,
        ],
        [
            "HS256 signed with the public key as the secret (algorithm confusion)",
            async () => ({
                authorization: `Bearer ${await token({}, { alg: "HS256", key: new TextEncoder().encode(pem) as unknown as CryptoKey })}`,
            }),
            /error_description="its algorithm is not accepted"/,
        ],
        ["a token that is no JWT", async () => ({ authorization: "Bearer not.a.jwt" }), /error_description="it is malformed"/],
    ];
    for (const [what, headers, challenge] of refused) {
        it(`answers 401 JSON with WWW-Authenticate to ${what}, and forwards nothing`, async () => {
            const before = reached("/x/").length;
            const res = await call("/x/echo?refused", await headers());
            assert.strictEqual(res.status, 401, res.body);
            assert.strictEqual(JSON.parse(res.body).error.code, "unauthorized");
            assert.match(String(res.headers["www-authenticate"]), challenge);
            assert.strictEqual(reached("/x/").length, before);
        });
    }

    it("takes a valid API key, names its holder as the subject, and does not forward the key", async () => {
        const res = await call("/k/echo", { "x-api-key": API_KEY });
        assert.strictEqual(res.status, 200, res.body);
        const seen = JSON.parse(res.body) as Seen;
        assert.strictEqual(seen.headers[IDENTITY_HEADERS.subject], "billing");
        assert.strictEqual(seen.headers[IDENTITY_HEADERS.method], "apiKey");
        assert.strictEqual(seen.headers["x-api-key"], undefined);
    });

    for (const [what, key] of [
        ["no API key", undefined],
        ["a wrong API key", `${API_KEY.slice(0, -1)}!`],
        ["a prefix of the key", API_KEY.slice(0, 10)],
        ["the key and more", `${API_KEY}x`],
    ] as const) {
        it(`answers 401 to ${what}`, async () => {
            const res = await call("/k/echo", key === undefined ? {} : { "x-api-key": key });
            assert.strictEqual(res.status, 401);
            assert.match(String(res.headers["www-authenticate"]), /^ApiKey realm="berth"/);
        });
    }

    it("refuses a body before reading it when the credential is missing", async () => {
        const res = await request(`${g.url}/x/echo`, { method: "POST", body: "x".repeat(5000), headers: { "content-type": "text/plain" } });
        assert.strictEqual(res.status, 401);
        assert.strictEqual(res.headers.connection, "close", "the unread body must not be taken for the next request");
    });

    it("verifies against a JWKS URL", async () => {
        const jwk = { ...(await exportJWK(rsa.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
        const jwks = http.createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
        await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", () => r()));
        const routes = parseRoutes(JSON.stringify({ "/x": { origins: backend.origin, auth: "jwt" } }));
        const auth = await authFromEnv(
            {
                AUTH_ISSUER: ISSUER,
                AUTH_AUDIENCE: AUDIENCE,
                AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`,
            },
            routes,
        );
        const withJwks = await startGateway({ "/x": { origins: backend.origin, auth: "jwt" } }, { auth });
        try {
            const signed = await new SignJWT({})
                .setProtectedHeader({ alg: "RS256", kid: "k1" })
                .setSubject("svc-7")
                .setIssuer(ISSUER)
                .setAudience(AUDIENCE)
                .setExpirationTime("5m")
                .sign(rsa.privateKey);
            const res = await request(`${withJwks.url}/x/echo`, { headers: { authorization: `Bearer ${signed}` } });
            assert.strictEqual(res.status, 200, res.body);
            assert.strictEqual((JSON.parse(res.body) as Seen).headers[IDENTITY_HEADERS.subject], "svc-7");
            const forged = await token({}, { key: other.privateKey });
            assert.strictEqual((await request(`${withJwks.url}/x/echo`, { headers: { authorization: `Bearer ${forged}` } })).status, 401);
        } finally {
            await withJwks.close();
            jwks.closeAllConnections();
            await new Promise((r) => jwks.close(r));
        }
    });

    it("refuses to start a gateway with guarded routes and no authenticator", () => {
        assert.throws(
            () => new Gateway({ routes: parseRoutes(JSON.stringify({ "/x": { origins: backend.origin, auth: "jwt" } })) }),
            /routes \/x require authentication/,
        );
    });

    describe("settings", () => {
        const jwtRoutes = parseRoutes('{"/x":{"origins":"http://x:1","auth":"jwt"}}');
        const keyRoutes = parseRoutes('{"/k":{"origins":"http://x:1","auth":"apiKey"}}');
        const base = () => ({ AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_JWT_PUBLIC_KEY: pem });
        const bad: Array<[string, () => NodeJS.ProcessEnv, typeof jwtRoutes, RegExp]> = [
            ["no issuer", () => ({ ...base(), AUTH_ISSUER: "" }), jwtRoutes, /AUTH_ISSUER and AUTH_AUDIENCE must be set because routes \/x require a JWT/],
            ["no key", () => ({ AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE }), jwtRoutes, /exactly one of AUTH_JWKS_URL and AUTH_JWT_PUBLIC_KEY/],
            ["both key sources", () => ({ ...base(), AUTH_JWKS_URL: "https://id.example.com/jwks" }), jwtRoutes, /exactly one of/],
            ["an HMAC algorithm", () => ({ ...base(), AUTH_JWT_ALGORITHMS: "HS256" }), jwtRoutes, /AUTH_JWT_ALGORITHMS names "HS256"; allowed: RS256/],
            ["alg none", () => ({ ...base(), AUTH_JWT_ALGORITHMS: "none" }), jwtRoutes, /names "none"/],
            [
                "an algorithm the key cannot verify",
                () => ({ ...base(), AUTH_JWT_ALGORITHMS: "ES256" }),
                jwtRoutes,
                /names ES256, which the key of AUTH_JWT_PUBLIC_KEY cannot verify/,
            ],
            [
                "a JWKS over plain HTTP",
                () => ({ AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_JWKS_URL: "http://id.example.com/jwks" }),
                jwtRoutes,
                /allowed: an https URL/,
            ],
            ["a private JWK", () => ({ ...base(), AUTH_JWT_PUBLIC_KEY: '{"kty":"RSA","n":"x","e":"AQAB","d":"secret"}' }), jwtRoutes, /private or symmetric/],
            ["a key that is no key", () => ({ ...base(), AUTH_JWT_PUBLIC_KEY: "hello" }), jwtRoutes, /is not a PEM public key/],
            ["no API keys", () => ({}), keyRoutes, /AUTH_API_KEYS must be set because routes \/k require an API key/],
            ["a short API key", () => ({ AUTH_API_KEYS: '{"billing":"short"}' }), keyRoutes, /the key of "billing" must be a string of at least 32 characters/],
            ["API keys that are no object", () => ({ AUTH_API_KEYS: '["k"]' }), keyRoutes, /must be a JSON object/],
        ];
        for (const [what, env, routes, message] of bad) {
            it(`refuses ${what}, naming the variable`, async () => {
                await assert.rejects(authFromEnv(env(), routes), message);
            });
        }

        it("needs nothing when every route is public", async () => {
            assert.strictEqual(await authFromEnv({}, parseRoutes('{"/x":"http://x:1"}')), undefined);
        });
    });
});
