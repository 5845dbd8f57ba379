/**
 * Where a service keeps its records. Routes depend on this interface only (see `collection`); the
 * PostgreSQL implementation is `TableRepository`.
 */
/** One page of a list: the records after id `after` (0: from the start), at most `limit` of them. */
export interface Page {
    after: number;
    limit: number;
}

export interface Repository<T extends { id: number }, New> {
    /** The records with an id after `page.after`, by id, at most `page.limit`. */
    list(page: Page): Promise<T[]>;
    get(id: number): Promise<T | undefined>;
    /** Throws `DuplicateError` when a unique field's value is taken. */
    create(input: New): Promise<T>;
    /** False when no record had that id. */
    delete(id: number): Promise<boolean>;
}

/** A record that would repeat the value of a field that must be unique (an e-mail, a SKU): 409. */
export class DuplicateError extends Error {
    constructor(
        readonly field: string,
        readonly value: unknown,
    ) {
        super(`${field} ${JSON.stringify(value)} is taken`);
        this.name = "DuplicateError";
    }
}
