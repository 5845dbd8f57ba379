#!/usr/bin/env node
// `npx berth` from the checkout: the TypeScript sources run through ts-node, as the npm scripts do.
const path = require("path");
require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
const { run, realDeps } = require("./main");
run(process.argv.slice(2), realDeps(path.join(__dirname, ".."))).then((code) => {
    process.exitCode = code;
});
