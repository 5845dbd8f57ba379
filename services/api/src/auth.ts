/**
 * Authentication at the gateway: a route declares `auth` in the catalogue (`none`, `jwt` or `apiKey`);
 * the gateway checks the credential before it reads the body or opens an upstream connection, and passes
 * the verified identity on in headers that no client can set (see `IDENTITY_HEADERS`).
 *
 * JWTs are verified with `jose` against a JWKS URL or a public key from the stack's secrets, with the
 * issuer and audience checked, an expiry and a subject required, and the algorithms pinned to asymmetric
 * ones: a token signed with `none`, or with HS256 using the public key as an HMAC secret (algorithm
 * confusion), is refused before any key is looked at.
 */
import { createHash, createPublicKey, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import {
    createLocalJWKSet,
    createRemoteJWKSet,
    errors as joseErrors,
    importSPKI,
    jwtVerify,
    type CryptoKey,
    type JSONWebKeySet,
    type JWTVerifyGetKey,
} from "jose";
import type { AuthMode, Route } from "./routes";

/** The headers the gateway sets on a verified request; removed from every client request. */
export const IDENTITY_HEADERS = { subject: "x-auth-subject", method: "x-auth-method" } as const;
/** Any client header with this prefix is dropped, so that backends can trust the ones the gateway sets. */
export const IDENTITY_PREFIX = "x-auth-";
/** Where a client puts its API key. */
export const API_KEY_HEADER = "x-api-key";

/** Asymmetric JWS algorithms only: HMAC ones would let anyone holding the public key sign. */
export const JWT_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** Seconds of clock skew tolerated on `exp` and `nbf`. */
export const CLOCK_TOLERANCE_S = 5;
/** Shortest API key accepted: 32 characters, e.g. 24 random bytes in base64. */
export const MIN_API_KEY_LENGTH = 32;
const REALM = "berth";
/** A subject must fit in a header value and a log line. */
const SUBJECT = /^[\x21-\x7e](?:[\x20-\x7e]{0,254}[\x21-\x7e])?$/;

export interface JwtSettings {
    /** A remote JWKS (fetched and cached by jose), or the keys of a local one. */
    keys: JWTVerifyGetKey;
    issuer: string;
    audience: string;
    algorithms: JwtAlgorithm[];
}

export interface AuthSettings {
    jwt?: JwtSettings;
    /** API keys by the name of their holder (the subject passed on), as SHA-256 digests. */
    apiKeys?: Map<string, Buffer>;
}

/** Who a request comes from, or why it may not pass. */
export type Verdict = { ok: true; subject: string; method: Exclude<AuthMode, "none"> } | { ok: false; status: 401 | 503; message: string; challenge?: string };

export class Authenticator {
    constructor(private readonly settings: AuthSettings) {}

    /** Checks the credential a route asks for. */
    async check(mode: Exclude<AuthMode, "none">, headers: IncomingHttpHeaders): Promise<Verdict> {
        return mode === "jwt" ? this.checkJwt(headers) : this.checkApiKey(headers);
    }

    private async checkJwt(headers: IncomingHttpHeaders): Promise<Verdict> {
        const jwt = this.settings.jwt;
        if (!jwt) {
            return { ok: false, status: 503, message: "This route requires a JWT, but the gateway has no key to verify one" };
        }
        const match = /^Bearer +([A-Za-z0-9_.~+/-]+=*) *$/i.exec(headers.authorization ?? "");
        if (!match) {
            return refuse("A bearer token is required: Authorization: Bearer <JWT>", `Bearer realm="${REALM}"`);
        }
        try {
            const { payload } = await jwtVerify(match[1], jwt.keys, {
                issuer: jwt.issuer,
                audience: jwt.audience,
                algorithms: jwt.algorithms,
                requiredClaims: ["exp", "sub"],
                clockTolerance: CLOCK_TOLERANCE_S,
            });
            if (!SUBJECT.test(payload.sub ?? "")) {
                return invalidToken("the token's subject is not printable ASCII of at most 256 characters");
            }
            return { ok: true, subject: payload.sub!, method: "jwt" };
        } catch (err) {
            if (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError)) {
                // The JWKS could not be fetched: not the client's fault.
                return { ok: false, status: 503, message: "The keys to verify tokens are unavailable; try again" };
            }
            return invalidToken(describeJoseError(err));
        }
    }

    private checkApiKey(headers: IncomingHttpHeaders): Verdict {
        const keys = this.settings.apiKeys;
        if (!keys || keys.size === 0) {
            return { ok: false, status: 503, message: "This route requires an API key, but the gateway has none configured" };
        }
        const challenge = `ApiKey realm="${REALM}", header="${API_KEY_HEADER}"`;
        const given = headers[API_KEY_HEADER];
        if (typeof given !== "string" || given === "") {
            return refuse(`An API key is required in the ${API_KEY_HEADER} header`, challenge);
        }
        // Digests have one length whatever was sent, and every key is compared: the time taken says
        // nothing about which key, or how much of one, matched.
        const digest = sha256(given);
        let holder: string | undefined;
        for (const [name, key] of keys) {
            if (timingSafeEqual(digest, key) && holder === undefined) {
                holder = name;
            }
        }
        return holder === undefined ? refuse("The API key is not valid", challenge) : { ok: true, subject: holder, method: "apiKey" };
    }
}

function refuse(message: string, challenge: string): Verdict {
    return { ok: false, status: 401, message, challenge };
}

function invalidToken(reason: string): Verdict {
    const description = reason.replace(/["\\]/g, "'");
    return refuse(`The bearer token is not valid: ${reason}`, `Bearer realm="${REALM}", error="invalid_token", error_description="${description}"`);
}

function describeJoseError(err: InstanceType<typeof joseErrors.JOSEError>): string {
    if (err instanceof joseErrors.JWTExpired) {
        return "it has expired";
    }
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
        return `claim "${err.claim}" ${err.reason === "missing" ? "is missing" : "is not accepted"}`;
    }
    if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) {
        return "its algorithm is not accepted";
    }
    if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey) {
        return "its signature does not verify";
    }
    return "it is malformed";
}

export function sha256(text: string): Buffer {
    return createHash("sha256").update(text, "utf8").digest();
}

/**
 * The gateway's authentication settings from its environment, checked against the routes that need them:
 *
 * - `AUTH_JWKS_URL`: where the identity provider publishes its keys (https, or http on loopback), or
 * - `AUTH_JWT_PUBLIC_KEY`: a public key as PEM (SPKI), a JWK or a JWKS, e.g. from the stack's secrets;
 * - `AUTH_ISSUER`, `AUTH_AUDIENCE`: the `iss` and `aud` a token must carry;
 * - `AUTH_JWT_ALGORITHMS`: comma-separated, asymmetric only (default `RS256`; with a PEM key, the
 *   algorithms its type allows);
 * - `AUTH_API_KEYS`: a JSON object of holder name to key, e.g. `{"billing":"<32+ characters>"}`.
 *
 * Returns undefined when no route needs authentication; throws an error naming the variable otherwise.
 */
export async function authFromEnv(env: NodeJS.ProcessEnv, routes: readonly Route[]): Promise<Authenticator | undefined> {
    const needs = new Set(routes.map((r) => r.auth));
    if (!needs.has("jwt") && !needs.has("apiKey")) {
        return undefined;
    }
    const settings: AuthSettings = {};
    if (needs.has("jwt")) {
        settings.jwt = await jwtFromEnv(
            env,
            routes.filter((r) => r.auth === "jwt").map((r) => r.prefix),
        );
    }
    if (needs.has("apiKey")) {
        settings.apiKeys = apiKeysFromEnv(
            env,
            routes.filter((r) => r.auth === "apiKey").map((r) => r.prefix),
        );
    }
    return new Authenticator(settings);
}

async function jwtFromEnv(env: NodeJS.ProcessEnv, prefixes: string[]): Promise<JwtSettings> {
    const why = `routes ${prefixes.join(", ")} require a JWT`;
    const issuer = env.AUTH_ISSUER?.trim();
    const audience = env.AUTH_AUDIENCE?.trim();
    if (!issuer || !audience) {
        throw new Error(`AUTH_ISSUER and AUTH_AUDIENCE must be set because ${why}; allowed: the "iss" and "aud" your identity provider puts in its tokens`);
    }
    const url = env.AUTH_JWKS_URL?.trim();
    const pem = env.AUTH_JWT_PUBLIC_KEY?.trim();
    if (!url === !pem) {
        throw new Error(`exactly one of AUTH_JWKS_URL and AUTH_JWT_PUBLIC_KEY must be set because ${why}`);
    }
    const declared = env.AUTH_JWT_ALGORITHMS?.split(",")
        .map((a) => a.trim())
        .filter(Boolean);
    for (const alg of declared ?? []) {
        if (!(JWT_ALGORITHMS as readonly string[]).includes(alg)) {
            throw new Error(`AUTH_JWT_ALGORITHMS names ${JSON.stringify(alg)}; allowed: ${JWT_ALGORITHMS.join(", ")} (asymmetric algorithms only)`);
        }
    }
    if (url) {
        let jwksUrl: URL;
        try {
            jwksUrl = new URL(url);
        } catch {
            throw new Error(`AUTH_JWKS_URL is ${JSON.stringify(url)}, which is not a URL`);
        }
        const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(jwksUrl.hostname);
        if (jwksUrl.protocol !== "https:" && !(jwksUrl.protocol === "http:" && loopback)) {
            throw new Error(`AUTH_JWKS_URL is ${JSON.stringify(url)}; allowed: an https URL (http only on loopback)`);
        }
        return {
            keys: createRemoteJWKSet(jwksUrl, { timeoutDuration: 3000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 }),
            issuer,
            audience,
            algorithms: (declared ?? ["RS256"]) as JwtAlgorithm[],
        };
    }
    return { ...(await localKeys(pem!, declared as JwtAlgorithm[] | undefined)), issuer, audience };
}

/** A key given as JSON (a JWK or a JWKS) or as PEM. */
async function localKeys(text: string, declared: JwtAlgorithm[] | undefined): Promise<Pick<JwtSettings, "keys" | "algorithms">> {
    if (text.startsWith("{")) {
        let json: { keys?: unknown[] } & Record<string, unknown>;
        try {
            json = JSON.parse(text);
        } catch {
            throw new Error("AUTH_JWT_PUBLIC_KEY starts with { but is not JSON; allowed: a PEM public key, a JWK or a JWKS");
        }
        const jwks = (Array.isArray(json.keys) ? json : { keys: [json] }) as JSONWebKeySet;
        if (jwks.keys.some((k) => "d" in k || k.kty === "oct")) {
            throw new Error("AUTH_JWT_PUBLIC_KEY holds a private or symmetric key; allowed: public keys only");
        }
        return { keys: createLocalJWKSet(jwks), algorithms: declared ?? ["RS256"] };
    }
    let fitting: JwtAlgorithm[];
    try {
        fitting = algorithmsFor(text);
    } catch (err) {
        throw new Error(`AUTH_JWT_PUBLIC_KEY is not a PEM public key (${(err as Error).message}); allowed: a PEM public key, a JWK or a JWKS`);
    }
    const algorithms = declared ?? fitting;
    const unfit = algorithms.filter((a) => !fitting.includes(a));
    if (unfit.length > 0) {
        throw new Error(
            `AUTH_JWT_ALGORITHMS names ${unfit.join(", ")}, which the key of AUTH_JWT_PUBLIC_KEY cannot verify; allowed with this key: ${fitting.join(", ")}`,
        );
    }
    const byAlg = new Map<string, CryptoKey>();
    for (const alg of algorithms) {
        byAlg.set(alg, await importSPKI(text, alg));
    }
    return {
        // jose refuses an algorithm outside `algorithms` before it asks for a key.
        keys: async (header) => byAlg.get(header.alg)!,
        algorithms,
    };
}

/** The JWS algorithms a PEM public key can verify. */
function algorithmsFor(pem: string): JwtAlgorithm[] {
    const key = createPublicKey(pem);
    if (key.type !== "public") {
        throw new Error("it is not a public key");
    }
    switch (key.asymmetricKeyType) {
        case "rsa":
            return ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
        case "rsa-pss":
            return ["PS256", "PS384", "PS512"];
        case "ec": {
            const curve = key.asymmetricKeyDetails?.namedCurve;
            const alg = ({ prime256v1: "ES256", secp384r1: "ES384", secp521r1: "ES512" } as const)[curve as "prime256v1"];
            if (!alg) {
                throw new Error(`curve ${curve} is not used for JWTs`);
            }
            return [alg];
        }
        case "ed25519":
            return ["EdDSA"];
        default:
            throw new Error(`key type ${key.asymmetricKeyType} is not used for JWTs`);
    }
}

function apiKeysFromEnv(env: NodeJS.ProcessEnv, prefixes: string[]): Map<string, Buffer> {
    const example = `{"billing":"<at least ${MIN_API_KEY_LENGTH} characters>"}`;
    const text = env.AUTH_API_KEYS?.trim();
    if (!text) {
        throw new Error(
            `AUTH_API_KEYS must be set because routes ${prefixes.join(", ")} require an API key; allowed: a JSON object of holder to key such as ${example}`,
        );
    }
    let table: unknown;
    try {
        table = JSON.parse(text);
    } catch {
        throw new Error(`AUTH_API_KEYS is not JSON; allowed: a JSON object such as ${example}`);
    }
    if (typeof table !== "object" || table === null || Array.isArray(table) || Object.keys(table).length === 0) {
        throw new Error(`AUTH_API_KEYS must be a JSON object with at least one key, such as ${example}`);
    }
    const keys = new Map<string, Buffer>();
    for (const [holder, key] of Object.entries(table)) {
        if (!SUBJECT.test(holder)) {
            throw new Error(`AUTH_API_KEYS: holder ${JSON.stringify(holder)} must be printable ASCII of at most 256 characters`);
        }
        if (typeof key !== "string" || key.length < MIN_API_KEY_LENGTH) {
            throw new Error(`AUTH_API_KEYS: the key of ${JSON.stringify(holder)} must be a string of at least ${MIN_API_KEY_LENGTH} characters`);
        }
        keys.set(holder, sha256(key));
    }
    return keys;
}
