import type { Publisher, RecordChange } from "@berth/kit/messaging";
import type { Product } from "./products";

/** The topic the products service publishes to (its `publishes` in catalog/index.ts). */
export const PRODUCT_CHANGED = "product-changed";

/**
 * What a `product-changed` event holds: which product, what happened, and when. A created product comes
 * whole; a deleted one by its id alone.
 */
export type ProductChanged = { type: "product.created"; id: number; at: string; product: Product } | { type: "product.deleted"; id: number; at: string };

export function productChanged(change: RecordChange<Product>, now: Date = new Date()): ProductChanged {
    const at = now.toISOString();
    return change.action === "created"
        ? { type: "product.created", id: change.id, at, product: change.record }
        : { type: "product.deleted", id: change.id, at };
}

/** The collection's hook that publishes each change, or none when the service publishes nothing (its tests). */
export function publishChanges(publisher: Publisher | undefined): ((change: RecordChange<Product>) => Promise<void>) | undefined {
    return publisher && ((change) => publisher.publish(PRODUCT_CHANGED, productChanged(change)));
}
