#!/usr/bin/env node
/**
 * Makes `require("pulumi-alicloud-keypair-attachment")` resolve inside this repository — at the root
 * and in examples/* — by linking node_modules/pulumi-alicloud-keypair-attachment to `..` (relative),
 * the way npm links a `file:` dependency. The serialized provider loads the package by name from the
 * Pulumi program's directory, so the examples need it; one copy of @pulumi/pulumi (the root's) is
 * used everywhere because the link resolves to the repository itself.
 *
 * Idempotent: run from the root `prepare` script after the build. Leaves a real install alone.
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const name = require(path.join(root, "package.json")).name;
const link = path.join(root, "node_modules", name);
const target = ".."; // node_modules/<name> -> the repository root

function main() {
    fs.mkdirSync(path.dirname(link), { recursive: true });
    let stat;
    try {
        stat = fs.lstatSync(link);
    } catch {
        stat = undefined;
    }
    if (stat?.isSymbolicLink()) {
        if (fs.readlinkSync(link) === target || safeRealpath(link) === root) return;
        fs.unlinkSync(link); // a stale link (e.g. an absolute one from a moved checkout)
    } else if (stat) {
        console.log(`link-self: ${path.relative(root, link)} exists and is not a link; leaving it alone`);
        return;
    }
    // "junction" only matters on Windows, where a directory symlink may need privileges.
    fs.symlinkSync(target, link, process.platform === "win32" ? "junction" : "dir");
    console.log(`link-self: ${path.relative(root, link)} -> ${target}`);
}

function safeRealpath(p) {
    try {
        return fs.realpathSync(p);
    } catch {
        return undefined;
    }
}

main();
