/**
 * What a Cloud Assistant agent does with a received RunShellScript command, for tests that opt in to
 * running it for real: substitute the `{{name}}` parameters into the script text verbatim (as the agent
 * does), then run it with bash as root inside the sandbox's private mount namespace, so that it changes
 * the sandbox's /root and /home and nothing of the host. The output is stdout then stderr, as Cloud
 * Assistant reports it.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";

import { substituteCloudAssistantParameters } from "../../provider/online/script";
import type { Sandbox } from "./sandbox";

export interface ScriptRun {
    exitCode: number;
    output: string;
}

export type ScriptExecutor = (script: string, parameters: Readonly<Record<string, string>>, instanceId: string) => Promise<ScriptRun>;

let runs = 0;

export function sandboxExecutor(sandbox: Sandbox): ScriptExecutor {
    return (script, parameters, instanceId) =>
        new Promise((resolve, reject) => {
            const scriptPath = path.join(sandbox.base, `received-${instanceId}-${++runs}.sh`);
            writeFileSync(scriptPath, substituteCloudAssistantParameters(script, parameters), { mode: 0o700 });
            const [command, ...args] = sandbox.namespaceArgv(["bash", scriptPath]);
            const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
            child.once("error", reject);
            child.once("close", (code) => resolve({ exitCode: code ?? 1, output: stdout + stderr }));
        });
}
