/**
 * Cloud Assistant invocations (ecs-api.md §12.2): RunCommand creates one, each instance's run goes
 * Pending → Running → Success/Failed/Timeout on the scaled clock, settled lazily like transitions.
 *
 * The emulator NEVER executes a command it receives. It recognises known scripts by the SHA-256 of
 * their content (as sent, before `{{parameter}}` substitution) and applies a registered effect to
 * the model's guest; any other script fails with an output saying so.
 */
import { createHash, randomBytes } from "node:crypto";
import { INVOCATION_ERROR_CODES } from "./errors";
import type { Guest } from "./guest";

/** What a known script did on one instance. */
export interface ScriptResult {
    exitCode: number;
    output: string;
}

/** The model-level effect of a known script: changes the guest, never runs anything. */
export type ScriptEffect = (guest: Guest, parameters: Readonly<Record<string, string>>) => ScriptResult;

/** sha256 (hex) of a script's text → its effect. */
export type KnownScripts = ReadonlyMap<string, ScriptEffect>;

export function scriptHash(script: string): string {
    return createHash("sha256").update(script, "utf8").digest("hex");
}

export type RunStatus = "Pending" | "Running" | "Success" | "Failed" | "Timeout";

/** How one instance's run ends when it is not the known script's own result. */
export interface RunOutcome {
    status: "Failed" | "Timeout";
    errorCode: string;
    errorInfo: string;
    exitCode?: number;
    output?: string;
    /** Fails at delivery (agent offline, instance not running) rather than after running. */
    undelivered?: boolean;
}

export interface InstanceRun {
    instanceId: string;
    createdAt: number;
    /** When the agent picked the command up (Pending → Running). */
    startAt: number;
    /** When it ended; until then Running. */
    finishAt: number;
    status: RunStatus;
    exitCode?: number;
    output: string;
    errorCode: string;
    errorInfo: string;
}

export interface Invocation {
    invokeId: string;
    commandId: string;
    type: string;
    /** Base64, as DescribeInvocations gives it. */
    commandContent: string;
    parameters: Record<string, string>;
    timeoutSeconds: number;
    username: string;
    createdAt: number;
    runs: InstanceRun[];
}

export interface InvocationRequest {
    type: string;
    script: string;
    parameters: Record<string, string>;
    timeoutSeconds: number;
    username: string;
    instanceIds: string[];
    /** Per instance, a fixed outcome (agent offline, injected failure, timeout); absent = run the script. */
    outcomes: ReadonlyMap<string, RunOutcome>;
}

/** Before timeScale: how long the agent takes to pick a command up, and to run it. */
export interface CommandDurations {
    deliveryMs: number;
    runMs: number;
}

export const DEFAULT_COMMAND_DURATIONS: CommandDurations = { deliveryMs: 500, runMs: 1500 };

export const ARBITRARY_SCRIPT_OUTPUT =
    "ecs-emulator: this emulator does not run arbitrary scripts. It recognises only known scripts by their SHA-256 " +
    "(the package's own authorized_keys script) and applies their effect to its model; this script is not one of them.\n";

interface Pending {
    run: InstanceRun;
    settle: () => ScriptResult | RunOutcome;
}

export class CloudAssistant {
    private readonly invocations = new Map<string, Invocation>();
    private pending: Pending[] = [];

    constructor(
        private readonly clock: { now(): number },
        private readonly timeScale: number,
        private readonly guestOf: (instanceId: string) => Guest | undefined,
        private readonly knownScripts: KnownScripts,
        private readonly durations: CommandDurations = DEFAULT_COMMAND_DURATIONS,
    ) {}

    clear(): void {
        this.invocations.clear();
        this.pending = [];
    }

    invoke(request: InvocationRequest): Invocation {
        this.settle();
        const now = this.clock.now();
        const invocation: Invocation = {
            invokeId: `t-${randomBytes(8).toString("hex")}`,
            commandId: `c-${randomBytes(8).toString("hex")}`,
            type: request.type,
            commandContent: Buffer.from(request.script, "utf8").toString("base64"),
            parameters: request.parameters,
            timeoutSeconds: request.timeoutSeconds,
            username: request.username,
            createdAt: now,
            runs: [],
        };
        const effect = this.knownScripts.get(scriptHash(request.script));
        const startAt = now + this.durations.deliveryMs * this.timeScale;
        for (const instanceId of request.instanceIds) {
            const outcome = request.outcomes.get(instanceId);
            const finishAt = outcome?.undelivered
                ? startAt
                : outcome?.status === "Timeout"
                  ? startAt + request.timeoutSeconds * 1000 * this.timeScale
                  : startAt + this.durations.runMs * this.timeScale;
            const run: InstanceRun = {
                instanceId,
                createdAt: now,
                startAt,
                finishAt,
                status: "Pending",
                output: "",
                errorCode: "",
                errorInfo: "",
            };
            invocation.runs.push(run);
            this.pending.push({
                run,
                settle: () => outcome ?? this.runScript(instanceId, effect, request.parameters),
            });
        }
        this.invocations.set(invocation.invokeId, invocation);
        return invocation;
    }

    /** Every invocation, newest first (as DescribeInvocations lists them). */
    list(): Invocation[] {
        this.settle();
        return [...this.invocations.values()].reverse();
    }

    get(invokeId: string): Invocation | undefined {
        this.settle();
        return this.invocations.get(invokeId);
    }

    /** Moves every run to its status at the clock's time; a finished run applies its effect once. */
    settle(): void {
        const now = this.clock.now();
        const still: Pending[] = [];
        for (const pending of this.pending) {
            const { run } = pending;
            if (now < run.startAt) {
                still.push(pending);
            } else if (now < run.finishAt) {
                run.status = "Running";
                still.push(pending);
            } else {
                finish(run, pending.settle());
            }
        }
        this.pending = still;
    }

    private runScript(instanceId: string, effect: ScriptEffect | undefined, parameters: Record<string, string>): ScriptResult | RunOutcome {
        const guest = this.guestOf(instanceId);
        if (!guest)
            return { status: "Failed", errorCode: INVOCATION_ERROR_CODES.instanceReleased, errorInfo: "The instance was released." };
        if (!effect) return { exitCode: 126, output: ARBITRARY_SCRIPT_OUTPUT };
        return effect(guest, parameters);
    }
}

function finish(run: InstanceRun, result: ScriptResult | RunOutcome): void {
    if ("status" in result) {
        run.status = result.status;
        run.errorCode = result.errorCode;
        run.errorInfo = result.errorInfo;
        run.exitCode = result.exitCode;
        run.output = result.output ?? "";
        return;
    }
    run.exitCode = result.exitCode;
    run.output = result.output;
    run.status = result.exitCode === 0 ? "Success" : "Failed";
    if (result.exitCode !== 0) {
        run.errorCode = INVOCATION_ERROR_CODES.exitCodeNonzero;
        run.errorInfo = `The command exited with code ${result.exitCode}.`;
    }
}
