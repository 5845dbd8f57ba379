/**
 * Where a service keeps its records. Services depend on this interface only, so that a database-backed
 * implementation can replace the in-memory one without touching the routes.
 */
export interface Repository<T extends { id: number }, New> {
    list(): Promise<T[]>;
    get(id: number): Promise<T | undefined>;
    create(input: New): Promise<T>;
}

/** Records in memory, seeded at start: lost on restart, and per task. */
export class InMemoryRepository<T extends { id: number }, New> implements Repository<T, New> {
    private readonly records = new Map<number, T>();
    private nextId: number;

    constructor(seed: readonly T[], private readonly build: (id: number, input: New) => T) {
        for (const record of seed) {
            this.records.set(record.id, record);
        }
        this.nextId = Math.max(0, ...seed.map((r) => r.id)) + 1;
    }

    async list(): Promise<T[]> {
        return [...this.records.values()];
    }

    async get(id: number): Promise<T | undefined> {
        return this.records.get(id);
    }

    async create(input: New): Promise<T> {
        const record = this.build(this.nextId++, input);
        this.records.set(record.id, record);
        return record;
    }
}
