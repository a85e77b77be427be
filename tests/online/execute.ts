/**
 * An opt-in effect for the emulator's registry of known scripts (emulator/cloudassistant.ts,
 * `knownScripts`: SHA-256 of the script as sent → its effect) that really runs the package's
 * authorized_keys script: the parameters substituted as the Cloud Assistant agent does, then bash as
 * root inside the sandbox's private mount namespace (tests/online/sandbox.ts), so that it changes the
 * sandbox's /root and /home and nothing of the host. The output is stdout then stderr, as Cloud
 * Assistant reports it. Only a test that passes this registry gets anything executed; by default the
 * emulator never executes what it receives.
 */
import type { KnownScripts, ScriptEffect } from "../../emulator";
import { AUTHORIZED_KEYS_SCRIPT_SHA256 } from "../../provider/online/script";
import type { Sandbox } from "./sandbox";

/** Runs the real script in the sandbox (synchronously: the emulator settles runs synchronously). */
export function sandboxScriptEffect(sandbox: Sandbox): ScriptEffect {
    return (_guest, parameters) => {
        const result = sandbox.runScript(parameters);
        return { exitCode: result.status ?? 1, output: result.stdout + result.stderr };
    };
}

/** A registry that knows only the package's script, run for real in `sandbox`. */
export function sandboxKnownScripts(sandbox: Sandbox): KnownScripts {
    return new Map([[AUTHORIZED_KEYS_SCRIPT_SHA256, sandboxScriptEffect(sandbox)]]);
}
