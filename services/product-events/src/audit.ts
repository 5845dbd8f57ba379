import type { ReceivedMessage } from "@berth/kit/messaging";

/** The event types the products service publishes to `product-changed` (services/products/src/events.ts). */
export const PRODUCT_EVENT_TYPES = ["product.created", "product.deleted"] as const;
export type ProductEventType = (typeof PRODUCT_EVENT_TYPES)[number];

/** What the audit keeps of one event. */
export interface AuditEntry {
    messageId: string;
    type: ProductEventType;
    productId: number;
    at: string;
}

/** A message the worker cannot read: it fails, comes back, and ends in the dead-letter queue. */
export class UnreadableEvent extends Error {}

/** The event in a message's body, checked; throws `UnreadableEvent` for anything else. */
export function parseProductChanged(body: string): Omit<AuditEntry, "messageId"> {
    let event: unknown;
    try {
        event = JSON.parse(body);
    } catch {
        throw new UnreadableEvent("the body is not JSON");
    }
    const e = event as { type?: unknown; id?: unknown; at?: unknown };
    if (typeof event !== "object" || event === null || !PRODUCT_EVENT_TYPES.includes(e.type as ProductEventType)) {
        throw new UnreadableEvent(`"type" is ${JSON.stringify(e?.type)}; allowed: ${PRODUCT_EVENT_TYPES.join(", ")}`);
    }
    if (!Number.isSafeInteger(e.id) || (e.id as number) < 1) {
        throw new UnreadableEvent(`"id" is ${JSON.stringify(e.id)}; allowed: a product id`);
    }
    if (typeof e.at !== "string" || Number.isNaN(Date.parse(e.at))) {
        throw new UnreadableEvent(`"at" is ${JSON.stringify(e.at)}; allowed: an ISO 8601 time`);
    }
    return { type: e.type as ProductEventType, productId: e.id as number, at: e.at };
}

/**
 * The audit of product changes: a count per event type and the entries themselves, each message counted
 * once however often the queue delivers it (delivery is at least once).
 */
export class ProductAudit {
    private readonly seen = new Set<string>();
    readonly counts: Record<ProductEventType, number> = { "product.created": 0, "product.deleted": 0 };
    readonly entries: AuditEntry[] = [];

    /** Records the message's event; false when this message was recorded already. Throws `UnreadableEvent`. */
    record(message: ReceivedMessage): { entry: AuditEntry; fresh: boolean } {
        const entry = { messageId: message.id, ...parseProductChanged(message.body) };
        if (this.seen.has(message.id)) {
            return { entry, fresh: false };
        }
        this.seen.add(message.id);
        this.counts[entry.type]++;
        this.entries.push(entry);
        return { entry, fresh: true };
    }
}
