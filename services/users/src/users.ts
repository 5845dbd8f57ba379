import { seed, type Migration, type TableSpec } from "../../kit/src";

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
        // Unique without regard to case (see the index below).
        // Unique without regard to case: see the index `users_email_key`.
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

export const usersTable: TableSpec<User> = {
    table: "users",
    columns: { id: "id", name: "name", email: "email", role: "role", createdAt: "created_at" },
    unique: { users_email_key: "email" },
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
    seed(2, usersTable, seedUsers),
];
