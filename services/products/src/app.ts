import { collection, createService, TableRepository, type Database, type ServiceOptions } from "@berth/kit";
import { newProductSchema, productSchema, productsTable, type NewProduct, type Product } from "./products";

/** The products service: `GET /products`, `GET /products/:id`, `POST /products`, `DELETE /products/:id`, `GET /health`. */
export function buildApp(options: Partial<ServiceOptions> & { database: Database }) {
    const app = createService({ name: "products", ...options });
    const repository = new TableRepository<Product, NewProduct>(options.database, productsTable);
    collection(app, { path: "/products", noun: "product", repository, itemSchema: productSchema, createSchema: newProductSchema });
    return app;
}
