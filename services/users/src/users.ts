import { seed, type Migration, type TableSpec } from "@berth/kit";
import { userEventsMigration } from "./events";

export interface User {
    id: number;
    name: string;
    email: string;
    role: "admin" | "member" | "viewer";
    createdAt: string;
}

export type NewUser = Pick<User, "name" | "email" | "role">;

export const userSchema = {
    type: "object",
    properties: {
        id: { type: "integer" },
        name: { type: "string" },
        email: { type: "string" },
        role: { type: "string" },
        createdAt: { type: "string" },
    },
    required: ["id", "name", "email", "role", "createdAt"],
} as const;

export const newUserSchema = {
    type: "object",
    additionalProperties: false,
    properties: {
        name: { type: "string", minLength: 1, maxLength: 100 },
        // Unique in its normal form (`normalizeEmail`): see the index `users_email_key`.
        email: { type: "string", maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$" },
        role: { type: "string", enum: ["admin", "member", "viewer"] },
    },
    required: ["name", "email", "role"],
} as const;

export const seedUsers: User[] = [
    { id: 1, name: "Ada Lovelace", email: "ada@example.com", role: "admin", createdAt: "2025-01-14T09:12:00.000Z" },
    { id: 2, name: "Grace Hopper", email: "grace@example.com", role: "member", createdAt: "2025-02-03T16:40:00.000Z" },
    { id: 3, name: "Alan Turing", email: "alan@example.com", role: "member", createdAt: "2025-03-21T11:05:00.000Z" },
    { id: 4, name: "Katherine Johnson", email: "katherine@example.com", role: "viewer", createdAt: "2025-05-09T08:30:00.000Z" },
];

/**
 * The form in which two e-mail addresses are the same one: Unicode compatibility normalisation (NFKC:
 * full-width `ａｄａ＠…` is `ada@…`, the Kelvin sign is `k`), then lower case with the final sigma folded
 * into `σ` (`toLowerCase` writes `Σ` at a word's end as `ς`, elsewhere as `σ`, so `ΑΣ` and `ας` would
 * differ), then NFKC again, since lower-casing can leave a string that is not in that form
 * (https://www.unicode.org/reports/tr15/#Concatenation). This is Unicode's simple case folding but for
 * its rare differences from `toLowerCase`; full folding (`ß` -> `ss`) would merge what IDNA2008 keeps
 * apart in domain names (RFC 5892, appendix B: `ß` is PVALID), and `toLocaleLowerCase` would make a
 * server's locale decide which addresses collide.
 */
export function normalizeEmail(email: string): string {
    return email.normalize("NFKC").toLowerCase().replace(/ς/g, "σ").normalize("NFKC");
}

/** The table as the seed migration (version 2) wrote it, before `email_key` existed. */
const usersTableV2: TableSpec<User> = {
    table: "users",
    columns: { id: "id", name: "name", email: "email", role: "role", createdAt: "created_at" },
};

export const usersTable: TableSpec<User> = {
    ...usersTableV2,
    unique: { users_email_key: "email" },
    derived: { email_key: (user) => normalizeEmail(user.email!) },
};

/** The schema of `users`, in versions; see `Migration` before changing it. */
export const migrations: Migration[] = [
    {
        version: 1,
        name: "create users",
        up: `
            CREATE TABLE users (
                id bigint GENERATED ALWAYS AS IDENTITY (MAXVALUE 9007199254740991) PRIMARY KEY,
                name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
                email text NOT NULL CHECK (char_length(email) <= 254),
                role text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
                created_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE UNIQUE INDEX users_email_key ON users (lower(email));`,
    },
    seed(2, usersTableV2, seedUsers),
    {
        version: 3,
        // PostgreSQL's lower() knows no final sigma and folds by the database's collation (ASCII only under C),
        // so the key is computed by `normalizeEmail` and stored. Existing addresses that collide in the new
        // form stop this migration with PostgreSQL's message naming the duplicated key. Tasks of the version
        // before, still serving during a rolling deployment, insert no key: a trigger gives their rows
        // PostgreSQL's nearest form (NFKC, then lower(): the same key for every ASCII address), so their
        // POST /users keeps answering 201 or 409 until they are replaced.
        name: "users: e-mail unique in its normal form",
        up: async (db) => {
            await db.query("ALTER TABLE users ADD COLUMN email_key text");
            const { rows } = await db.query<{ id: number; email: string }>("SELECT id, email FROM users");
            for (const row of rows) {
                await db.query("UPDATE users SET email_key = $1 WHERE id = $2", [normalizeEmail(row.email), row.id]);
            }
            await db.query(`
                CREATE FUNCTION users_email_key_default() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.email_key IS NULL THEN
                        NEW.email_key := lower(normalize(NEW.email, NFKC));
                    END IF;
                    RETURN NEW;
                END $$`);
            await db.query("CREATE TRIGGER users_email_key_default BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION users_email_key_default()");
            await db.query("ALTER TABLE users ALTER COLUMN email_key SET NOT NULL");
            await db.query("DROP INDEX users_email_key");
            await db.query("CREATE UNIQUE INDEX users_email_key ON users (email_key)");
        },
    },
    userEventsMigration,
];
