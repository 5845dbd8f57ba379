import { serve } from "../../kit/src";
import { buildApp } from "./app";

serve(buildApp()).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
});
