import { escapeIdentifier, DatabaseError } from "pg";
import type { Database, Migration, Queryable } from "./database";
import { DuplicateError, type Page, type Repository } from "./repository";

/** How the records of a collection map onto a table that the service's migrations create. */
export interface TableSpec<T extends { id: number }> {
    /** The table's name, in the database's default schema. */
    table: string;
    /**
     * Each field of a record and its column, in the order of the table. `id` is the table's identity key;
     * the other columns may have defaults, which apply when a new record leaves the field out.
     * @example { id: "id", priceCents: "price_cents" }
     */
    columns: { readonly [K in keyof T]-?: string };
    /**
     * Unique constraints or indexes by name, and the field whose duplicate they reject (answered 409).
     * @example { users_email_key: "email" }
     */
    unique?: Readonly<Record<string, keyof T & string>>;
    /**
     * Columns that no record shows, computed from a new record when it is inserted: a key in a normal form
     * that a unique index covers, say.
     * @example { email_key: (record) => normalizeEmail(record.email) }
     */
    derived?: Readonly<Record<string, (record: Partial<T>) => unknown>>;
}

/**
 * The records of one table, with parameterised statements only: values never become SQL text, and
 * identifiers come from the spec (code), quoted.
 */
export class TableRepository<T extends { id: number }, New extends Partial<Omit<T, "id">>> implements Repository<T, New> {
    private readonly selectList: string;
    private readonly from: string;
    private readonly id: string;

    constructor(
        private readonly db: Database,
        private readonly spec: TableSpec<T>,
    ) {
        this.from = escapeIdentifier(spec.table);
        this.id = escapeIdentifier(spec.columns.id);
        this.selectList = Object.entries(spec.columns as Record<string, string>)
            .map(([field, column]) => `${escapeIdentifier(column)} AS ${escapeIdentifier(field)}`)
            .join(", ");
    }

    async list(page: Page): Promise<T[]> {
        return (
            await this.db.query<T & object>(`SELECT ${this.selectList} FROM ${this.from} WHERE ${this.id} > $1 ORDER BY ${this.id} LIMIT $2`, [
                page.after,
                page.limit,
            ])
        ).rows;
    }

    async get(id: number): Promise<T | undefined> {
        return (await this.db.query<T & object>(`SELECT ${this.selectList} FROM ${this.from} WHERE ${this.id} = $1`, [id])).rows[0];
    }

    async create(input: New): Promise<T> {
        try {
            return (await insert(this.db, this.spec, input, this.selectList)).rows[0];
        } catch (err) {
            const field = err instanceof DatabaseError && err.code === "23505" ? this.spec.unique?.[err.constraint ?? ""] : undefined;
            if (field) {
                throw new DuplicateError(field, (input as Record<string, unknown>)[field]);
            }
            throw err;
        }
    }

    async delete(id: number): Promise<boolean> {
        return ((await this.db.query(`DELETE FROM ${this.from} WHERE ${this.id} = $1`, [id])).rowCount ?? 0) > 0;
    }
}

function insert<T extends { id: number }>(db: Queryable, spec: TableSpec<T>, record: object, returning: string) {
    const given = Object.entries(spec.columns as Record<string, string>).filter(([field]) => field !== "id" && field in record);
    const columns = given.map(([, column]) => column);
    const values = given.map(([field]) => (record as Record<string, unknown>)[field]);
    for (const [column, derive] of Object.entries(spec.derived ?? {})) {
        columns.push(column);
        values.push(derive(record as Partial<T>));
    }
    return db.query<T & object>(
        `INSERT INTO ${escapeIdentifier(spec.table)} (${columns.map(escapeIdentifier).join(", ")}) ` +
            `VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")}) RETURNING ${returning}`,
        values,
    );
}

/**
 * A migration that inserts `records` in order on an empty table, so that their ids count from 1. Their own
 * `id` fields are left out: the table numbers them, and numbers the records created later after them.
 */
export function seed<T extends { id: number }>(version: number, spec: TableSpec<T>, records: readonly T[]): Migration {
    return {
        version,
        name: `seed ${spec.table}`,
        up: async (db) => {
            for (const record of records) {
                await insert(db, spec, record, escapeIdentifier(spec.columns.id));
            }
        },
    };
}
