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
}

export interface ProcessUsage {
    /** process.cpuUsage(), user + system, since the process started. */
    cpuMs: number;
    /** process.resourceUsage().maxRSS: the peak resident set so far, in KB. */
    maxRssKb: number;
}

/** Child → parent, once the lifecycle module is loaded. */
export interface ReadyMessage extends ProcessUsage {
    type: "ready";
}

/** Child → parent, when every operation of a phase has settled. */
export interface PhaseReply extends ProcessUsage {
    type: "phase-done";
    results: OperationResult[];
    /** From the first hook call to the last one settling, measured in the child. */
    wallMs: number;
}

export type ChildMessage = ReadyMessage | PhaseReply;
