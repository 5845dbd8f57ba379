import { serveWithDatabase } from "@berth/kit";
import { publisherFromEnv } from "@berth/kit/messaging";
import { buildApp } from "./app";
import { migrations } from "./products";

// BERTH_TOPICS, set by the stack and by npm start: the product-changed topic.
const publisher = publisherFromEnv();
serveWithDatabase("products", migrations, (database) => buildApp({ database, publisher }));
