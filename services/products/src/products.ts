import { seed, type Migration, type TableSpec } from "@berth/kit";

export interface Product {
    id: number;
    sku: string;
    name: string;
    /** In the currency's minor unit (cents), so that no price is a float. */
    priceCents: number;
    currency: "EUR" | "USD";
    stock: number;
}

export type NewProduct = Omit<Product, "id">;

export const productSchema = {
    type: "object",
    properties: {
        id: { type: "integer" },
        sku: { type: "string" },
        name: { type: "string" },
        priceCents: { type: "integer" },
        currency: { type: "string" },
        stock: { type: "integer" },
    },
    required: ["id", "sku", "name", "priceCents", "currency", "stock"],
} as const;

export const newProductSchema = {
    type: "object",
    additionalProperties: false,
    properties: {
        sku: { type: "string", pattern: "^[A-Z0-9-]{3,32}$" },
        name: { type: "string", minLength: 1, maxLength: 200 },
        // Bounded by what a JSON number holds exactly (2^53-1): a larger one arrives already rounded.
        priceCents: { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
        currency: { type: "string", enum: ["EUR", "USD"] },
        // The column is a PostgreSQL integer (at most 2^31-1).
        stock: { type: "integer", minimum: 0, maximum: 2_147_483_647 },
    },
    required: ["sku", "name", "priceCents", "currency", "stock"],
} as const;

export const seedProducts: Product[] = [
    { id: 1, sku: "KB-MECH-01", name: "Mechanical keyboard", priceCents: 12900, currency: "EUR", stock: 42 },
    { id: 2, sku: "MS-ERGO-02", name: "Ergonomic mouse", priceCents: 5900, currency: "EUR", stock: 120 },
    { id: 3, sku: "MON-27-4K", name: "27-inch 4K monitor", priceCents: 38900, currency: "EUR", stock: 15 },
    { id: 4, sku: "HUB-USBC-7", name: "USB-C hub, 7 ports", priceCents: 4500, currency: "EUR", stock: 0 },
];

export const productsTable: TableSpec<Product> = {
    table: "products",
    columns: { id: "id", sku: "sku", name: "name", priceCents: "price_cents", currency: "currency", stock: "stock" },
    unique: { products_sku_key: "sku" },
};

/** The schema of `products`, in versions; see `Migration` before changing it. */
export const migrations: Migration[] = [
    {
        version: 1,
        name: "create products",
        up: `
            CREATE TABLE products (
                id bigint GENERATED ALWAYS AS IDENTITY (MAXVALUE 9007199254740991) PRIMARY KEY,
                sku text NOT NULL CONSTRAINT products_sku_key UNIQUE,
                name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
                price_cents bigint NOT NULL CHECK (price_cents BETWEEN 0 AND 9007199254740991),
                currency text NOT NULL CHECK (currency IN ('EUR', 'USD')),
                stock integer NOT NULL CHECK (stock >= 0)
            );`,
    },
    seed(2, productsTable, seedProducts),
];
