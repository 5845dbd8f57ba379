import type { FastifyInstance } from "fastify";
import { errorBody, HttpError } from "./errors";
import { DuplicateError, type Page, type Repository } from "./repository";
import { routes } from "./server";

export interface CollectionOptions<T extends { id: number }, New> {
    /** The collection's path, e.g. `/users`; items are at `/users/:id`. */
    path: string;
    /** What the collection holds, in error messages: `user`. */
    noun: string;
    repository: Repository<T, New>;
    /** JSON schema of one record, for responses. */
    itemSchema: object;
    /** JSON schema of a POST body. */
    createSchema: object;
    /**
     * Called once a record is created or deleted, before the answer: e.g. to publish an event. It runs after
     * the change is stored, so a failure here is logged and the answer stays the change's own.
     * @default none
     */
    changed?: (change: RecordChange<T>) => Promise<void>;
}

/** A stored change of a collection: the record created, or the id deleted. */
export type RecordChange<T> = { action: "created"; id: number; record: T } | { action: "deleted"; id: number };

/** Runs the `changed` hook; its failure is logged, never the request's. */
async function notify<T>(
    options: { changed?: (change: RecordChange<T>) => Promise<void> },
    change: RecordChange<T>,
    log: { error(obj: object, msg: string): void },
): Promise<void> {
    try {
        await options.changed?.(change);
    } catch (err) {
        log.error({ err, change: { action: change.action, id: change.id } }, "the change is stored, but its notification failed");
    }
}

const CANONICAL_ID = /^[1-9][0-9]{0,15}$/;

/** Records in a page of a list when the request names no `limit`. */
export const DEFAULT_PAGE_LIMIT = 100;
/** Most records in one page: a list answer stays small whatever the table holds. */
export const MAX_PAGE_LIMIT = 1000;

/** The query string a list takes: strings, since query values are not coerced. */
const pageQuerySchema = {
    type: "object",
    additionalProperties: false,
    properties: { limit: { type: "string" }, after: { type: "string" } },
} as const;

/**
 * The page a list request asks for: `limit` from 1 to `MAX_PAGE_LIMIT` (default `DEFAULT_PAGE_LIMIT`) and
 * `after`, the id of the last record of the page before (a cursor: records inserted meanwhile neither
 * repeat nor shift the pages), in plain digits; 400 otherwise.
 */
export function parsePage(query: { limit?: string; after?: string }): Page {
    let limit = DEFAULT_PAGE_LIMIT;
    if (query.limit !== undefined) {
        limit = Number(query.limit);
        if (!CANONICAL_ID.test(query.limit) || limit > MAX_PAGE_LIMIT) {
            throw new HttpError(
                400,
                `Invalid limit ${JSON.stringify(query.limit)}: must be a whole number from 1 to ${MAX_PAGE_LIMIT}, written in plain digits`,
            );
        }
    }
    let after = 0;
    if (query.after !== undefined) {
        after = Number(query.after);
        if (!CANONICAL_ID.test(query.after) || after > Number.MAX_SAFE_INTEGER) {
            throw new HttpError(
                400,
                `Invalid cursor after=${JSON.stringify(query.after)}: must be the id of the last record of the page before, from 1 to ${Number.MAX_SAFE_INTEGER}, written in plain digits`,
            );
        }
    }
    return { after, limit };
}

/**
 * The record id in the path, in its one canonical spelling: digits without sign, exponent, spaces or leading
 * zeros, from 1 to 2^53-1 (the largest whole number a JSON number holds exactly). `01`, `+1` and `1e3` are
 * refused rather than read as 1 or 1000, so that one record has one URL.
 */
export function parseId(text: string): number {
    const id = Number(text);
    if (!CANONICAL_ID.test(text) || id > Number.MAX_SAFE_INTEGER) {
        throw new HttpError(400, `Invalid id ${JSON.stringify(text)}: must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER}, written in plain digits`);
    }
    return id;
}

/**
 * The routes of a collection of records: `GET <path>` lists them a page at a time (see `parsePage`; the
 * next page's URL in a `Link: <…>; rel="next"` header while there is one), `GET <path>/:id` answers one or 404 (400
 * for an id that is not canonical, see `parseId`), `POST <path>` validates the body and creates one (201,
 * or 409 when a unique field's value is taken), `DELETE <path>/:id` removes one (204, or 404).
 * While the database cannot serve, every one of them answers 503.
 */
export function collection<T extends { id: number }, New>(app: FastifyInstance, options: CollectionOptions<T, New>): void {
    const { path, noun, repository } = options;
    routes(app, path, {
        GET: {
            schema: { querystring: pageQuerySchema, response: { 200: { type: "array", items: options.itemSchema } } },
            handler: async (req, reply) => {
                const page = parsePage(req.query as { limit?: string; after?: string });
                // One record more than the page tells whether there is a next page.
                const records = await repository.list({ after: page.after, limit: page.limit + 1 });
                if (records.length > page.limit) {
                    records.pop();
                    reply.header("link", `<${path}?limit=${page.limit}&after=${records[records.length - 1].id}>; rel="next"`);
                }
                return records;
            },
        },
        POST: {
            schema: { body: options.createSchema, response: { 201: options.itemSchema } },
            handler: async (req, reply) => {
                try {
                    const created = await repository.create(req.body as New);
                    await notify(options, { action: "created", id: created.id, record: created }, req.log);
                    return reply.code(201).header("location", `${path}/${created.id}`).send(created);
                } catch (err) {
                    if (err instanceof DuplicateError) {
                        throw new HttpError(409, `A ${noun} with ${err.field} ${JSON.stringify(err.value)} already exists`);
                    }
                    throw err;
                }
            },
        },
    });
    routes(app, `${path}/:id`, {
        GET: {
            schema: { response: { 200: options.itemSchema } },
            handler: async (req, reply) => {
                const id = parseId((req.params as { id: string }).id);
                const found = await repository.get(id);
                if (!found) {
                    return reply.code(404).send(errorBody(404, `No ${noun} with id ${id}`, req.id));
                }
                return found;
            },
        },
        DELETE: {
            handler: async (req, reply) => {
                const id = parseId((req.params as { id: string }).id);
                if (!(await repository.delete(id))) {
                    return reply.code(404).send(errorBody(404, `No ${noun} with id ${id}`, req.id));
                }
                await notify(options, { action: "deleted", id }, req.log);
                return reply.code(204).send();
            },
        },
    });
}
