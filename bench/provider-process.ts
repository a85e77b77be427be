/**
 * The provider process of the benchmark: loads the package's lifecycle module by name, as the
 * serialized provider does inside the Pulumi dynamic-provider host, and runs the hooks the parent
 * asks for. Configured only through the environment (ALIBABA_CLOUD_ECS_ENDPOINT, credentials,
 * region), so its CPU time and memory are the provider's alone; the emulator runs in the parent.
 *
 * It also measures, without touching the provider: the event loop's delay during a phase
 * (perf_hooks.monitorEventLoopDelay), every HTTP call the SDK makes (diagnostics_channel: request
 * created → response headers), and on request a CPU profile of the phase (node:inspector).
 */
import { subscribe } from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";
import { Session } from "node:inspector";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type {
    ChildMessage,
    ClientCalls,
    Inputs,
    Operation,
    OperationResult,
    PhaseReply,
    PhaseRequest,
    ProcessUsage,
    State,
} from "./protocol";
import { loopDelayMs, summarizeAllocations, summarizeProfile, type CpuProfile, type HeapSamplingProfile } from "./profile";

/**
 * The hooks the benchmark calls, as the lifecycle module exports them. Stated here rather than taken
 * from `typeof import("pulumi-alicloud-keypair-attachment/lifecycle")`: ESLint's program
 * (tsconfig.lint.json, classic node resolution) cannot see the package's `exports` subpaths, and
 * every use would be an unresolved type to it. A mismatch fails the first phase loudly.
 */
interface Lifecycle {
    configure(request: { config: { get(key: string): string | undefined } }): void;
    check(olds: unknown, news: Inputs): Promise<{ inputs: Inputs; failures: unknown[] }>;
    diff(id: string, olds: State, news: Inputs): Promise<{ changes: boolean }>;
    create(inputs: Inputs): Promise<{ id: string; outs: State }>;
    update(id: string, olds: State, news: Inputs): Promise<{ outs: State }>;
    read(id: string, props: State): Promise<{ id: string; props: State }>;
    delete(id: string, props: State): Promise<void>;
}

// Loaded by name at run time, as the serialized provider loads it; an `import` would make ESLint's
// program resolve the subpath it cannot see (above).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see the two lines above
const lifecycle = require("pulumi-alicloud-keypair-attachment/lifecycle") as Lifecycle;
// The host hands configure() the stack configuration; the benchmark sets none (all from the environment).
lifecycle.configure({ config: { get: () => undefined } });

const epochNow = () => performance.timeOrigin + performance.now();

function usage(): ProcessUsage {
    const cpu = process.cpuUsage();
    return { cpuMs: (cpu.user + cpu.system) / 1000, maxRssKb: process.resourceUsage().maxRSS };
}

function send(message: ChildMessage): void {
    process.send?.(message);
}

// Every HTTP call of the phase: when the request was created and when its response headers came.
const requestStarts = new WeakMap<ClientRequest, number>();
let callDurations: number[] = [];
subscribe("http.client.request.start", (message) => {
    requestStarts.set((message as { request: ClientRequest }).request, performance.now());
});
subscribe("http.client.response.finish", (message) => {
    const started = requestStarts.get((message as { request: ClientRequest }).request);
    if (started !== undefined) callDurations.push(performance.now() - started);
});

function clientCalls(durations: number[]): ClientCalls {
    const sorted = [...durations].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
        requests: sorted.length,
        meanMs: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
        p99Ms: round(at(0.99)),
        maxMs: round(sorted[sorted.length - 1] ?? 0),
    };
}

const inspector = new Session();
inspector.connect();
function post<T = unknown>(method: string, params?: object): Promise<T> {
    return new Promise((resolve, reject) =>
        inspector.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as T))),
    );
}

/** One operation as the engine drives it: check before create; check then diff before update. */
async function run(operation: Operation): Promise<OperationResult> {
    switch (operation.hook) {
        case "create": {
            const checked = await lifecycle.check({}, operation.inputs);
            if (checked.failures.length) return { ok: false, error: `check: ${JSON.stringify(checked.failures)}` };
            const created = await lifecycle.create(checked.inputs);
            return { ok: true, id: created.id, outs: { ...operation.inputs, ...created.outs } };
        }
        case "update": {
            const checked = await lifecycle.check(operation.olds, operation.news);
            if (checked.failures.length) return { ok: false, error: `check: ${JSON.stringify(checked.failures)}` };
            const diff = await lifecycle.diff(operation.id, operation.olds, checked.inputs);
            if (!diff.changes) return { ok: true, id: operation.id, outs: operation.olds };
            const updated = await lifecycle.update(operation.id, operation.olds, checked.inputs);
            return { ok: true, id: operation.id, outs: { ...operation.news, ...updated.outs } };
        }
        case "read": {
            const read = await lifecycle.read(operation.id, operation.props);
            return { ok: true, id: read.id, outs: read.props };
        }
        case "delete":
            await lifecycle.delete(operation.id, operation.props);
            return { ok: true, id: operation.id };
    }
}

async function runPhase(request: PhaseRequest): Promise<PhaseReply> {
    if (request.profile) {
        await post("Profiler.enable");
        await post("Profiler.setSamplingInterval", { interval: 500 });
        await post("Profiler.start");
        await post("HeapProfiler.enable");
        // Objects collected before the end count too: what the phase allocated, not what it kept.
        await post("HeapProfiler.startSampling", {
            samplingInterval: 32_768,
            includeObjectsCollectedByMajorGC: true,
            includeObjectsCollectedByMinorGC: true,
        });
    }
    callDurations = [];
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const startedAtEpochMs = epochNow();
    const startedAt = performance.now();
    const settled = await Promise.allSettled(request.operations.map(run));
    const wallMs = performance.now() - startedAt;
    const endedAtEpochMs = epochNow();
    loop.disable();
    const profile = request.profile
        ? {
              ...summarizeProfile((await post<{ profile: CpuProfile }>("Profiler.stop")).profile),
              ...summarizeAllocations((await post<{ profile: HeapSamplingProfile }>("HeapProfiler.stopSampling")).profile),
          }
        : undefined;
    if (request.profile) {
        await post("Profiler.disable");
        await post("HeapProfiler.disable");
    }
    const results = settled.map((s): OperationResult =>
        s.status === "fulfilled" ? s.value : { ok: false, error: String((s.reason as Error | undefined)?.message ?? s.reason) },
    );
    return {
        type: "phase-done",
        results,
        wallMs,
        startedAtEpochMs,
        endedAtEpochMs,
        loopDelay: loopDelayMs(loop),
        client: clientCalls(callDurations),
        ...(profile ? { profile } : {}),
        ...usage(),
    };
}

/**
 * Where the lifecycle takes `activation: "online"`: check() must accept "online" and refuse a mode
 * that does not exist (a lifecycle that ignores unknown inputs accepts both, so it is not taken as
 * supporting the mode).
 */
async function activationSupport(): Promise<"inputs" | "restart" | undefined> {
    const base: Inputs = { keyPairName: "probe-key", instanceIds: ["i-probe00000"] };
    const places = {
        inputs: (mode: string) => ({ ...base, activation: mode }),
        restart: (mode: string) => ({ ...base, restart: { activation: mode } }),
    };
    for (const [place, inputs] of Object.entries(places) as ["inputs" | "restart", (mode: string) => Inputs][]) {
        // Checked as for an existing resource (olds given): validation only, no look-up in ECS.
        const online = await lifecycle.check(base, inputs("online"));
        const bogus = await lifecycle.check(base, inputs("no-such-mode"));
        if (online.failures.length === 0 && bogus.failures.length > 0) return place;
    }
    return undefined;
}

process.on("message", (message: PhaseRequest) => {
    if (message.type !== "phase") return;
    runPhase(message).then(send, (error: unknown) => {
        console.error(`bench provider process: ${String(error)}`);
        process.exit(1);
    });
});
// The parent closes the channel when it is done; leave with it.
process.on("disconnect", () => process.exit(0));
activationSupport().then(
    (activationOnline) => send({ type: "ready", ...usage(), ...(activationOnline ? { activationOnline } : {}) }),
    (error: unknown) => {
        console.error(`bench provider process: probing activation: ${String(error)}`);
        process.exit(1);
    },
);
