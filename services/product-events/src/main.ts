/**
 * The product-events worker: consumes `product-changed` (the products service's creates and deletes) from
 * its queue and keeps an audit of them, one log line per event with the running counts.
 */
import { jsonLog, runWorker } from "@berth/kit/messaging";
import { ProductAudit } from "./audit";

const log = jsonLog("product-events");
const audit = new ProductAudit();

runWorker(
    async (message) => {
        const { entry, fresh } = audit.record(message);
        log.info({ event: entry, receiveCount: message.receiveCount, duplicate: !fresh, counts: audit.counts }, "product changed");
    },
    { log },
);
log.info({}, "consuming product-changed");
