/** Messages between the benchmark (parent, runs the emulator) and the provider process (child). */
import type { KeyPairAttachmentInputs, KeyPairAttachmentOutputs } from "pulumi-alicloud-keypair-attachment";

/** What the engine hands the provider: inputs or state, with the serialized provider beside them. */
export type Inputs = KeyPairAttachmentInputs & { __provider?: string };
export type State = KeyPairAttachmentOutputs & { __provider?: string };

/** One resource operation, run as the engine runs it (check before create; check, diff before update). */
export type Operation =
    | { hook: "create"; inputs: Inputs }
    | { hook: "update"; id: string; olds: State; news: Inputs }
    | { hook: "read"; id: string; props: State }
    | { hook: "delete"; id: string; props: State };

export type OperationResult = { ok: true; id: string; outs?: State } | { ok: false; error: string };

/** Parent → child: run these operations concurrently (as `pulumi up` runs independent resources). */
export interface PhaseRequest {
    type: "phase";
    operations: Operation[];
    /** Record a CPU profile of the phase (inspector) and return its self time by category. */
    profile?: boolean;
}

export interface ProcessUsage {
    /** process.cpuUsage(), user + system, since the process started. */
    cpuMs: number;
    /** process.resourceUsage().maxRSS: the peak resident set so far, in KB. */
    maxRssKb: number;
}

/** perf_hooks.monitorEventLoopDelay over one phase, in milliseconds. */
export interface LoopDelay {
    meanMs: number;
    p99Ms: number;
    maxMs: number;
}

/** The SDK's HTTP calls as the child saw them (diagnostics_channel): request created → response headers. */
export interface ClientCalls {
    requests: number;
    meanMs: number;
    p99Ms: number;
    maxMs: number;
}

/** Self time of a CPU profile, by what the code is (SDK signing, SDK models, HTTP, provider, GC…). */
export interface ProfileSummary {
    totalMs: number;
    byCategory: Record<string, number>;
    /** The functions with the most self time: "name (file:line)" → ms. */
    topFunctions: { fn: string; ms: number }[];
    /**
     * Memory allocated during the phase (V8 sampling heap profiler, objects later collected
     * included), by the same categories and by function, in MB.
     */
    allocatedMb?: number;
    allocatedByCategory?: Record<string, number>;
    topAllocators?: { fn: string; mb: number }[];
}

/** Child → parent, once the lifecycle module is loaded. */
export interface ReadyMessage extends ProcessUsage {
    type: "ready";
    /**
     * Where the lifecycle takes `activation: "online"` (issue 14, item 3): at the top of the inputs,
     * under `restart`, or nowhere yet (it accepts "online" there and refuses a made-up mode).
     */
    activationOnline?: "inputs" | "restart";
}

/** Child → parent, when every operation of a phase has settled. */
export interface PhaseReply extends ProcessUsage {
    type: "phase-done";
    results: OperationResult[];
    /** From the first hook call to the last one settling, measured in the child. */
    wallMs: number;
    /** The phase's start and end on the wall clock (epoch ms), to line up with the emulator's call log. */
    startedAtEpochMs: number;
    endedAtEpochMs: number;
    loopDelay: LoopDelay;
    client: ClientCalls;
    profile?: ProfileSummary;
}

export type ChildMessage = ReadyMessage | PhaseReply;
