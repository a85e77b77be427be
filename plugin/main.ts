#!/usr/bin/env node
/**
 * `pulumi-resource-alicloud-keypair`: the entry point the engine runs (through the shim that
 * `npm run build:plugin` writes). Prints the port of its gRPC server; stops when the engine
 * closes its stdin-less lifetime by killing it.
 */
import { serve } from "./server";

serve(process.argv.slice(2)).then(
    ({ port }) => console.log(String(port)),
    (error: unknown) => {
        console.error(`pulumi-resource-alicloud-keypair could not start: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
    },
);
