#!/usr/bin/env node
/**
 * `ecs-emulator --port 8080 --seed seed.json [--time-scale 0.1] [--latency-ms 20] [--host 127.0.0.1]`
 * `--seed demo` loads the sample fleet shipped with the package (emulator/seed.example.json).
 *
 * Prints `ecs-emulator listening on http://HOST:PORT` (tests parse that line) and the access key to
 * use, then serves until SIGINT/SIGTERM.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_ACCESS_KEY, loadSeedFile } from "./seed";
import { startEmulator } from "./server";

const USAGE =
    "usage: ecs-emulator [--port 8080] [--host 127.0.0.1] [--seed seed.json|demo] [--time-scale 1] [--latency-ms 0] [--no-verify-signatures]";

function numberOption(name: string, value: string | undefined): number | undefined {
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} expects a number >= 0, got "${value}"`);
    return parsed;
}

/** `--seed demo`: emulator/seed.example.json, next to this file (sources) or two levels up (dist/emulator). */
function seedPath(seed: string): string {
    if (seed !== "demo") return seed;
    const candidates = [path.join(__dirname, "seed.example.json"), path.join(__dirname, "..", "..", "emulator", "seed.example.json")];
    return candidates.find((file) => fs.existsSync(file)) ?? candidates[candidates.length - 1];
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            port: { type: "string" },
            host: { type: "string" },
            seed: { type: "string" },
            "time-scale": { type: "string" },
            "latency-ms": { type: "string" },
            "no-verify-signatures": { type: "boolean" },
            help: { type: "boolean" },
        },
    });
    if (values.help) {
        console.log(USAGE);
        return;
    }
    const seed = values.seed === undefined ? undefined : loadSeedFile(seedPath(values.seed));
    const emulator = await startEmulator({
        port: numberOption("port", values.port) ?? 8080,
        host: values.host,
        seed,
        timeScale: numberOption("time-scale", values["time-scale"]),
        latencyMs: numberOption("latency-ms", values["latency-ms"]),
        verifySignatures: !values["no-verify-signatures"],
    });
    console.log(`ecs-emulator listening on ${emulator.url}`);
    const keys = [DEFAULT_ACCESS_KEY, ...(seed?.accessKeys ?? [])].map((key) => key.accessKeyId);
    // The default key's secret is a published constant; seeded secrets stay in the seed file.
    console.log(`access key id: ${keys.join(", ")} (default secret: ${DEFAULT_ACCESS_KEY.accessKeySecret})`);

    const stop = (signal: string) => {
        console.log(`ecs-emulator stopping (${signal})`);
        emulator.close().then(
            () => process.exit(0),
            () => process.exit(1),
        );
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
    console.error(`ecs-emulator: ${error instanceof Error ? error.message : String(error)}`);
    console.error(USAGE);
    process.exit(2);
});
