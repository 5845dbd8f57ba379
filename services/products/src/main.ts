import { serveWithDatabase } from "@berth/kit";
import { buildApp } from "./app";
import { migrations } from "./products";

serveWithDatabase("products", migrations, (database) => buildApp({ database }));
