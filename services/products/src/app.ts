import { collection, createService, TableRepository, type Database, type ServiceOptions } from "@berth/kit";
import type { Publisher } from "@berth/kit/messaging";
import { publishChanges } from "./events";
import { newProductSchema, productSchema, productsTable, type NewProduct, type Product } from "./products";

/**
 * The products service: `GET /products`, `GET /products/:id`, `POST /products`, `DELETE /products/:id`, `GET /health`.
 * With a publisher, each product created or deleted is published to `product-changed` (events.ts).
 */
export function buildApp(options: Partial<ServiceOptions> & { database: Database; publisher?: Publisher }) {
    const { publisher, ...serviceOptions } = options;
    const app = createService({ name: "products", ...serviceOptions });
    const repository = new TableRepository<Product, NewProduct>(options.database, productsTable);
    collection(app, {
        path: "/products",
        noun: "product",
        repository,
        itemSchema: productSchema,
        createSchema: newProductSchema,
        changed: publishChanges(publisher),
    });
    return app;
}
