#!/usr/bin/env node
/**
 * npm run build:plugin: compiles the package (tsc: provider/, plugin/) and writes the plugin
 * folder dist/plugin-bin/ — the shim bin/pulumi-resource-alicloud-keypair with the path of this
 * package's dist/plugin/main.js written in — ready for
 *   pulumi plugin install resource alicloud-keypair <version> --file dist/plugin-bin
 * The installed plugin runs this package's compiled code and its node_modules with the `node` on PATH.
 */
"use strict";
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const { version } = require(path.join(root, "package.json"));
const schema = JSON.parse(fs.readFileSync(path.join(root, "schema.json"), "utf8"));
if (schema.version !== version) {
    console.error(`schema.json has version ${schema.version}, package.json ${version}: bump them together.`);
    process.exit(1);
}
execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(root, "tsconfig.json")], { stdio: "inherit" });
const main = path.join(root, "dist", "plugin", "main.js");
if (!fs.existsSync(main)) throw new Error(`tsc did not produce ${main}`);

const out = path.join(root, "dist", "plugin-bin");
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const shim = fs.readFileSync(path.join(root, "bin", "pulumi-resource-alicloud-keypair"), "utf8").replace("@PLUGIN_MAIN@", main);
fs.writeFileSync(path.join(out, "pulumi-resource-alicloud-keypair"), shim, { mode: 0o755 });
console.log(`alicloud-keypair ${version}: ${out}`);
console.log(`install: pulumi plugin install resource alicloud-keypair ${version} --file ${out}`);
