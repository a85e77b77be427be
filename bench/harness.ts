/**
 * One benchmark session: the emulator in this process (127.0.0.1, port 0) and the provider in a
 * child process that reaches it over HTTP, so the child's CPU time and peak memory are the
 * provider's alone. A phase resets the emulator's call log, sends the child its operations and
 * reads back the child's wall time, CPU time and peak RSS.
 */
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import {
    DEFAULT_ACCESS_KEY,
    startEmulator,
    type ApiCall,
    type Emulator,
    type EmulatorOptions,
} from "pulumi-alicloud-keypair-attachment/emulator";
import type {
    ChildMessage,
    ClientCalls,
    LoopDelay,
    Operation,
    OperationResult,
    PhaseReply,
    ProcessUsage,
    ProfileSummary,
} from "./protocol";
import { loopDelayMs } from "./profile";

export const REGION = "cn-hangzhou";

export interface PhaseMeasurement {
    results: OperationResult[];
    wallMs: number;
    /** The child's CPU time during the phase. */
    cpuMs: number;
    /** The child's peak RSS so far (the phase's or an earlier one's). */
    rssMb: number;
    callsByAction: Record<string, number>;
    calls: number;
    /** Calls refused by the emulator's throttle during the phase. */
    throttled: number;
    /** The emulator's log of the phase's calls. */
    callLog: ApiCall[];
    /** The phase's start and end in the child, on the wall clock (the call log's clock). */
    startedAtEpochMs: number;
    endedAtEpochMs: number;
    /** The provider process's event loop during the phase. */
    loopDelay: LoopDelay;
    /** The emulator's (this process's) event loop during the phase: a slow emulator delays answers. */
    emulatorLoopDelay: LoopDelay;
    /** This process's CPU time during the phase: the emulator's work (it does nothing else meanwhile). */
    emulatorCpuMs: number;
    /** The SDK's HTTP calls seen from the child. */
    client: ClientCalls;
    profile?: ProfileSummary;
}

export interface Session {
    emulator: Emulator;
    /** The child's usage once the lifecycle module was loaded, before any hook ran. */
    baseline: ProcessUsage;
    /** Where the lifecycle takes `activation: "online"`, if it supports the mode. */
    activationOnline?: "inputs" | "restart";
    runPhase(operations: Operation[], timeoutMs: number, options?: { profile?: boolean }): Promise<PhaseMeasurement>;
    close(): Promise<void>;
}

/** Lines of the child's output kept for an error message; the rest is dropped. */
const KEPT_OUTPUT_LINES = 20;
const CHILD_START_TIMEOUT_MS = 30_000;

function keepTail(lines: string[], chunk: Buffer): void {
    lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - KEPT_OUTPUT_LINES));
}

function nextMessage<T extends ChildMessage["type"]>(child: ChildProcess, type: T, timeoutMs: number, output: string[]) {
    return new Promise<Extract<ChildMessage, { type: T }>>((resolve, reject) => {
        const cleanup = () => {
            clearTimeout(timer);
            child.off("message", onMessage);
            child.off("exit", onExit);
        };
        const onMessage = (message: ChildMessage) => {
            if (message.type !== type) return;
            cleanup();
            resolve(message as Extract<ChildMessage, { type: T }>);
        };
        const onExit = (code: number | null, signal: string | null) => {
            cleanup();
            reject(new Error(`provider process exited (code ${code}, signal ${signal}): ${output.join(" | ")}`));
        };
        const timer = setTimeout(() => {
            cleanup();
            reject(new Error(`no "${type}" from the provider process within ${timeoutMs} ms`));
        }, timeoutMs);
        child.on("message", onMessage);
        child.once("exit", onExit);
    });
}

export async function startSession(emulatorOptions: EmulatorOptions): Promise<Session> {
    const emulator = await startEmulator({ ...emulatorOptions, host: "127.0.0.1" });
    const output: string[] = [];
    const child = fork(join(__dirname, "provider-process.js"), [], {
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        execArgv: [],
        env: {
            ...process.env,
            ALIBABA_CLOUD_ECS_ENDPOINT: emulator.url,
            ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCESS_KEY.accessKeyId,
            ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCESS_KEY.accessKeySecret,
            ALIBABA_CLOUD_REGION_ID: REGION,
        },
    });
    child.stdout?.on("data", (chunk: Buffer) => keepTail(output, chunk));
    child.stderr?.on("data", (chunk: Buffer) => keepTail(output, chunk));
    const close = async () => {
        if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((resolve) => child.once("exit", resolve));
            child.kill();
            await exited;
        }
        await emulator.close();
    };

    let baseline: ProcessUsage;
    let activationOnline: "inputs" | "restart" | undefined;
    try {
        const ready = await nextMessage(child, "ready", CHILD_START_TIMEOUT_MS, output);
        baseline = { cpuMs: ready.cpuMs, maxRssKb: ready.maxRssKb };
        activationOnline = ready.activationOnline;
    } catch (error) {
        await close();
        throw error;
    }
    let lastCpuMs = baseline.cpuMs;

    return {
        emulator,
        baseline,
        activationOnline,
        async runPhase(operations, timeoutMs, options = {}) {
            emulator.resetCalls();
            const throttledBefore = emulator.faults.throttledCount();
            const reply = nextMessage(child, "phase-done", timeoutMs, output);
            const loop = monitorEventLoopDelay({ resolution: 1 });
            loop.enable();
            const cpuBefore = process.cpuUsage();
            child.send({ type: "phase", operations, profile: options.profile });
            let done: PhaseReply;
            try {
                done = await reply;
            } catch (error) {
                // A phase that hangs or dies leaves the child in an unknown state: end the session.
                await close();
                throw error;
            } finally {
                loop.disable();
            }
            const cpuMs = done.cpuMs - lastCpuMs;
            lastCpuMs = done.cpuMs;
            return {
                results: done.results,
                wallMs: done.wallMs,
                cpuMs,
                rssMb: done.maxRssKb / 1024,
                callsByAction: emulator.callCounts(),
                calls: emulator.calls.length,
                throttled: emulator.faults.throttledCount() - throttledBefore,
                callLog: [...emulator.calls],
                startedAtEpochMs: done.startedAtEpochMs,
                endedAtEpochMs: done.endedAtEpochMs,
                loopDelay: done.loopDelay,
                emulatorLoopDelay: loopDelayMs(loop),
                emulatorCpuMs: (() => {
                    const used = process.cpuUsage(cpuBefore);
                    return Math.round((used.user + used.system) / 1000);
                })(),
                client: done.client,
                ...(done.profile ? { profile: done.profile } : {}),
            };
        },
        close,
    };
}
