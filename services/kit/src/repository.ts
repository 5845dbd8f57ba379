/**
 * Where a service keeps its records. Routes depend on this interface only (see `collection`); the
 * PostgreSQL implementation is `TableRepository`.
 */
export interface Repository<T extends { id: number }, New> {
    list(): Promise<T[]>;
    get(id: number): Promise<T | undefined>;
    /** Throws `DuplicateError` when a unique field's value is taken. */
    create(input: New): Promise<T>;
    /** False when no record had that id. */
    delete(id: number): Promise<boolean>;
}

/** A record that would repeat the value of a field that must be unique (an e-mail, a SKU): 409. */
export class DuplicateError extends Error {
    constructor(readonly field: string, readonly value: unknown) {
        super(`${field} ${JSON.stringify(value)} is taken`);
        this.name = "DuplicateError";
    }
}
