/**
 * Shared by the reliability tests: the one test fixture (a lifecycle wired to an in-process emulator
 * through the real SDK, tests/integration/fixture.ts) under its reliability name, and the one
 * assertion every fault case ends with — the emulator holds exactly what the hook returned, or what its
 * PartialBindingError carried.
 */
import { Emulator, InstanceView, Seed } from "../../emulator";
import { PartialBindingError } from "../../provider/lifecycle";
import { Fixture, FixtureOptions, HookError, startFixture } from "../integration/fixture";
import type { KeyPairAttachmentOutputs } from "../../provider/types";

export {
    FAST_RESTART,
    REGION,
    allCallsAnswered,
    callSeen,
    eventually,
    inputs,
    linuxInstances,
    quickRetry,
    recordedOutputs,
    rejectionOf,
    settingsFor,
    steppingClock,
    wireLifecycle,
} from "../integration/fixture";

/** The reliability tests' name for the one test fixture (tests/integration/fixture.ts). */
export type Rig = Fixture;
export type RigOptions = FixtureOptions;
export const startRig: (seed: Seed, options?: RigOptions) => Promise<Rig> = startFixture;

export type Snapshot = Map<string, InstanceView>;

export function snapshot(emulator: Emulator): Snapshot {
    return new Map(emulator.model.instances().map((i) => [i.id, { ...i }]));
}

/** The outputs a hook returned, or those its PartialBindingError carried; `error` when it failed. */
export interface HookResult {
    outs?: KeyPairAttachmentOutputs;
    error?: HookError;
}

export async function settle(run: Promise<{ outs: object }>): Promise<HookResult> {
    try {
        return { outs: (await run).outs as KeyPairAttachmentOutputs };
    } catch (error) {
        const outs = error instanceof PartialBindingError ? (error.properties as unknown as KeyPairAttachmentOutputs) : undefined;
        return { outs, error: error as HookError };
    }
}

export interface MatchOptions {
    /** Instances the test itself changed (deleted, stopped, held in Starting): their power state is not checked. */
    touched?: string[];
    /** Instances whose restart was cut off (timed out): rebooted at most once, key in effect not required. */
    cutOff?: string[];
}

/**
 * The emulator's state matches what a hook returned (or carried in its partial-state error):
 * - instances in `instanceIds` hold the key, no other instance changed its binding, except those
 *   listed as unbound (`passwordResetRequiredInstanceIds`);
 * - each instance in `restartedInstanceIds` was rebooted exactly once, is Running and runs the key;
 * - no other instance was rebooted (unless its restart was cut off) or started.
 * Without outputs (a failure that changed nothing) every instance must be as it was.
 */
export function expectStateMatches(emulator: Emulator, before: Snapshot, result: HookResult, options: MatchOptions = {}): void {
    const touched = new Set(options.touched ?? []);
    const cutOff = new Set(options.cutOff ?? []);
    const outs = result.outs;
    const bound = new Set<string>(outs?.instanceIds ?? []);
    const restarted = new Set<string>(outs?.restartedInstanceIds ?? []);
    const unbound = new Set<string>(outs?.passwordResetRequiredInstanceIds ?? []);
    const problems: string[] = [];
    const check = (ok: boolean, what: string) => ok || problems.push(what);
    for (const now of emulator.model.instances()) {
        const was = before.get(now.id);
        if (!was) continue;
        const id = now.id;
        if (bound.has(id)) check(now.keyPairName === outs!.keyPairName, `${id} should hold ${outs!.keyPairName}, holds ${now.keyPairName}`);
        else if (unbound.has(id) && was.keyPairName === outs?.keyPairName)
            check(now.keyPairName === undefined, `${id} should be unbound, holds ${now.keyPairName}`);
        else
            check(
                now.keyPairName === was.keyPairName,
                `${id} binding changed ${was.keyPairName} → ${now.keyPairName} but the result does not say so`,
            );
        check(now.startCount === was.startCount, `${id} was started`);
        const reboots = now.rebootCount - was.rebootCount;
        if (restarted.has(id)) {
            check(reboots === 1, `${id} restarted ${reboots} times, expected once`);
            check(now.status === "Running", `${id} restarted but ${now.status}`);
            check(now.effectiveKeyPairName === now.keyPairName, `${id} restarted but runs key ${now.effectiveKeyPairName}`);
        } else if (cutOff.has(id) || touched.has(id)) {
            check(reboots <= 1, `${id} rebooted ${reboots} times`);
        } else {
            check(reboots === 0, `${id} rebooted ${reboots} times but is not in restartedInstanceIds`);
            check(now.effectiveKeyPairName === was.effectiveKeyPairName, `${id} guest key changed without a restart`);
            check(now.status === was.status, `${id} status ${was.status} → ${now.status}`);
        }
    }
    for (const id of outs?.pendingRestartInstanceIds ?? [])
        check(bound.has(id) && !restarted.has(id), `${id} pending but not bound, or restarted`);
    expect(problems).toEqual([]);
}

/** The calls of one action that the emulator refused or never answered. */
export function faultedCalls(emulator: Emulator, action: string): number {
    return emulator.calls.filter((c) => c.action === action && c.status !== 200).length;
}
