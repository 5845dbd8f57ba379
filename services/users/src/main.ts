import { serveWithDatabase } from "../../kit/src";
import { buildApp } from "./app";
import { migrations } from "./users";

serveWithDatabase("users", migrations, (database) => buildApp({ database }));
