import { collection, createService, InMemoryRepository, type ServiceOptions } from "../../kit/src";
import { newProductSchema, productSchema, seedProducts, type NewProduct, type Product } from "./products";

/** The products service: `GET /products`, `GET /products/:id`, `POST /products`, `GET /health`. */
export function buildApp(options: Partial<ServiceOptions> = {}) {
    const app = createService({ name: "products", ...options });
    const repository = new InMemoryRepository<Product, NewProduct>(seedProducts, (id, input) => ({ id, ...input }));
    collection(app, { path: "/products", noun: "product", repository, itemSchema: productSchema, createSchema: newProductSchema });
    return app;
}
