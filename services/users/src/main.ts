import { serveWithDatabase } from "@berth/kit";
import { buildApp } from "./app";
import { migrations } from "./users";

serveWithDatabase("users", migrations, (database) => buildApp({ database }));
