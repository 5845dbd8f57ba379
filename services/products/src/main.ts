import { serveWithDatabase } from "../../kit/src";
import { buildApp } from "./app";
import { migrations } from "./products";

serveWithDatabase("products", migrations, (database) => buildApp({ database }));
