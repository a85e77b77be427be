/**
 * Online activation (issue 12, DESIGN §10): put a key change in effect on Running Linux instances
 * through Cloud Assistant instead of a restart.
 *
 *   describe (public keys, agents) → AttachKeyPair → RunCommand (≤100 ids) → DescribeInvocationResults
 *      (paged ≤50) → per instance: Success → online; else fallback ("restart" | "fail")
 *
 * The public keys and agent states are read before AttachKeyPair (a missing permission fails before
 * anything changes). The command is provider/online/authorized-keys.sh: it adds the new key's line
 * and removes the line of the key the binding replaced, touching nothing else. With
 * `restart.batchSize` the instances go in waves; a wave in which any instance was not changed
 * online stops the run: the instances of later waves are left bound but owed (the next update
 * restarts them), so that a bad change never reaches more than one wave.
 */
import type { LifecycleDependencies } from "../converge";
import { FINISHED_INVOCATION_STATUSES, InvocationResult, RUN_COMMAND_BATCH } from "../ecs/cloud-assistant-api";
import type { InstanceFacts, InstanceFailure } from "../ecs/instance";
import { classifyError, errorCode } from "../ecs/retry";
import type { UnbindOutcome } from "../outputs";
import { chunk } from "../plan";
import type { KeyPairAttachmentInputs, RestartSettings } from "../types";
import { fallbackNote, lineNotRemovedNote, onlineRemovalNote } from "./messages";
import { AuthorizedKeysChange, buildAuthorizedKeysCommand } from "./script";
import { OnlineSettings, isOnline, onlineSettingsWithDefaults } from "./settings";

/** Beyond the command's own timeout, how long a result may take to arrive (delivery, the agent's report). */
export const RESULT_GRACE_MS = 30_000;
/** How long at most between two reads of an invocation's results, in milliseconds. */
const MAX_RESULT_POLL_MS = 5_000;

export const ONLINE_FAILURE_CODES = {
    agent: "CloudAssistant.AgentNotRunning",
    publicKey: "CloudAssistant.PublicKeyUnavailable",
    command: "CloudAssistant.CommandFailed",
    noResult: "CloudAssistant.NoResult",
    waveStopped: "CloudAssistant.WaveStopped",
} as const;

type ActivationSettings = Pick<KeyPairAttachmentInputs, "activation" | "online" | "restart">;

/** What is read before AttachKeyPair for an online bind. */
export interface OnlineBindPreparation {
    settings: Required<OnlineSettings>;
    /** The bound key's public key; undefined when it could not be read. */
    newPublicKey?: string;
    /** Instance → the key pair it held before the attach (DescribeInstances), to remove that key's line. */
    previousKeyPairs: Map<string, string>;
    /** Key pair name → its public key, undefined when the key pair no longer exists. */
    previousPublicKeys: Map<string, string | undefined>;
    /** Instance → Cloud Assistant agent working. */
    agents: Map<string, boolean>;
}

/** What online activation did for the freshly attached instances. */
export interface OnlineBindOutcome {
    /** The key is in effect now, without a restart. */
    activated: string[];
    /** Key not in effect: failed with fallback "fail", or cut off by a failed wave (they are also `owed`). */
    pending: string[];
    /** Cut off by a failed wave: the next update restarts them. */
    owed: string[];
    /** The attached instances left to the restart plan: Stopped ones (pending) and the fallbacks to a restart. */
    toRestartPlan: string[];
    /** Failures of the run (fallback "fail", and the cut-off instances). */
    failed: InstanceFailure[];
    /** For the summary line: fallbacks and lines that could not be removed. */
    notes: string[];
}

/** A bind in restart mode: nothing online (the caller sets `toRestartPlan` to every attached instance). */
export const NO_ONLINE_BIND: Omit<OnlineBindOutcome, "toRestartPlan"> = { activated: [], pending: [], owed: [], failed: [], notes: [] };

export interface OnlineUnbindOutcome {
    /** The unbind, with the instances that fell back to a restart added to `restart`. */
    unbound: UnbindOutcome;
    /** The unbound key's line was removed online. */
    removed: string[];
    failed: InstanceFailure[];
    notes: string[];
}

const isRunning = (facts: ReadonlyMap<string, InstanceFacts>) => (id: string) => facts.get(id)?.status === "Running";

async function publicKeys(deps: LifecycleDependencies, region: string, names: Iterable<string>): Promise<Map<string, string | undefined>> {
    const unique = [...new Set(names)];
    const keys = await Promise.all(unique.map((name) => deps.gateway.cloudAssistant.publicKey(region, name)));
    return new Map(unique.map((name, index) => [name, keys[index]]));
}

/** Reads what an online bind needs, before anything is sent; undefined when the inputs do not ask for online activation. */
export async function prepareOnlineBind(
    deps: LifecycleDependencies,
    region: string,
    desired: KeyPairAttachmentInputs,
    facts: ReadonlyMap<string, InstanceFacts>,
    attach: readonly string[],
): Promise<OnlineBindPreparation | undefined> {
    if (!isOnline(desired)) return undefined;
    const settings = onlineSettingsWithDefaults(desired.online);
    const running = attach.filter(isRunning(facts));
    const previousKeyPairs = new Map<string, string>();
    for (const id of running) {
        const held = facts.get(id)?.keyPairName;
        if (held && held !== desired.keyPairName) previousKeyPairs.set(id, held);
    }
    if (running.length === 0) return { settings, previousKeyPairs, previousPublicKeys: new Map(), agents: new Map() };
    const [keys, agents] = await Promise.all([
        publicKeys(deps, region, [desired.keyPairName, ...previousKeyPairs.values()]),
        deps.gateway.cloudAssistant.agentStatus(region, running),
    ]);
    const newPublicKey = keys.get(desired.keyPairName);
    keys.delete(desired.keyPairName);
    // A previous key that is also the new key cannot happen (those are not attached); the map holds only old keys.
    return { settings, newPublicKey, previousKeyPairs, previousPublicKeys: keys, agents };
}

interface Target {
    instanceId: string;
    change: AuthorizedKeysChange;
}

interface WaveOutcome {
    succeeded: string[];
    failed: InstanceFailure[];
    /** Never tried: an earlier wave failed. */
    cutOff: string[];
}

function oneLine(text: string, max = 300): string {
    const flat = text.trim().replace(/\s*\n\s*/g, " / ");
    return flat.length <= max ? flat : `…${flat.slice(flat.length - max)}`;
}

/** Why an invocation did not put the change in effect: its status, exit code, error and output. */
export function invocationFailureMessage(result: InvocationResult): string {
    const parts = [`Cloud Assistant command ended ${result.status}`];
    if (result.exitCode !== undefined) parts.push(`exit code ${result.exitCode}`);
    if (result.errorCode || result.errorInfo) parts.push(`${result.errorCode ?? "error"}: ${result.errorInfo ?? ""}`.trim());
    const output = oneLine(result.output);
    return `${parts.join(", ")}${output ? `; output: ${output}` : ""}`;
}

function succeeded(result: InvocationResult): boolean {
    return result.status === "Success" && (result.exitCode === undefined || result.exitCode === 0);
}

/**
 * Runs the targets' changes wave by wave (`batchSize` instances a wave; 0: one wave). In a wave,
 * instances with the same change share RunCommand calls of at most 100; the results are read until
 * every instance finished or the command's timeout (plus a grace) passed.
 */
async function runInWaves(
    deps: LifecycleDependencies,
    region: string,
    targets: readonly Target[],
    settings: Required<OnlineSettings>,
    restart: Required<Pick<RestartSettings, "batchSize" | "pollIntervalSeconds">>,
    purpose: string,
): Promise<WaveOutcome> {
    const outcome: WaveOutcome = { succeeded: [], failed: [], cutOff: [] };
    const waves = restart.batchSize > 0 ? chunk(targets, restart.batchSize) : [[...targets]];
    for (const [index, wave] of waves.entries()) {
        if (wave.length === 0) continue;
        const { succeeded: ok, failed } = await runWave(deps, region, wave, settings, restart.pollIntervalSeconds, purpose);
        outcome.succeeded.push(...ok);
        outcome.failed.push(...failed);
        if (failed.length && index < waves.length - 1) {
            outcome.cutOff.push(...waves.slice(index + 1).flatMap((w) => w.map((t) => t.instanceId)));
            break;
        }
    }
    return outcome;
}

async function runWave(
    deps: LifecycleDependencies,
    region: string,
    wave: readonly Target[],
    settings: Required<OnlineSettings>,
    pollIntervalSeconds: number,
    purpose: string,
): Promise<{ succeeded: string[]; failed: InstanceFailure[] }> {
    const failed: InstanceFailure[] = [];
    const groups = new Map<string, Target[]>();
    for (const target of wave) {
        const key = JSON.stringify(target.change);
        const group = groups.get(key);
        if (group) group.push(target);
        else groups.set(key, [target]);
    }
    // Send every group's calls, then read all invocations together.
    const invocations: { invokeId: string; instanceIds: string[] }[] = [];
    await Promise.all(
        [...groups.values()].map(async (group) => {
            let command;
            try {
                command = buildAuthorizedKeysCommand(group[0].change);
            } catch (error) {
                const message = error instanceof Error ? error.message : String(error);
                failed.push(...group.map((t) => ({ instanceId: t.instanceId, code: ONLINE_FAILURE_CODES.publicKey, message })));
                return;
            }
            for (const ids of chunk(
                group.map((t) => t.instanceId),
                RUN_COMMAND_BATCH,
            )) {
                try {
                    const invokeId = await deps.gateway.cloudAssistant.runCommand(region, {
                        command,
                        instanceIds: ids,
                        timeoutSeconds: settings.timeoutSeconds,
                        name: `pulumi-kpa ${purpose}`,
                    });
                    invocations.push({ invokeId, instanceIds: ids });
                } catch (error) {
                    const code = (error as { code?: string }).code ?? "RequestFailed";
                    const message = `RunCommand was refused: ${error instanceof Error ? error.message : String(error)}`;
                    failed.push(...ids.map((instanceId) => ({ instanceId, code, message })));
                }
            }
        }),
    );
    const { results, readErrors } = await awaitResults(deps, region, invocations, settings.timeoutSeconds, pollIntervalSeconds);
    const ok: string[] = [];
    for (const { invokeId, instanceIds } of invocations) {
        const readError = readErrors.get(invokeId);
        for (const instanceId of instanceIds) {
            const result = results.get(instanceId);
            if (result && succeeded(result)) ok.push(instanceId);
            else if (readError !== undefined && !(result && FINISHED_INVOCATION_STATUSES.includes(result.status)))
                failed.push({
                    instanceId,
                    code: errorCode(readError) ?? ONLINE_FAILURE_CODES.noResult,
                    message: `the result of Cloud Assistant invocation ${invokeId} could not be read: ${readError instanceof Error ? readError.message : JSON.stringify(readError)}`,
                });
            else if (result && FINISHED_INVOCATION_STATUSES.includes(result.status))
                failed.push({ instanceId, code: ONLINE_FAILURE_CODES.command, message: invocationFailureMessage(result) });
            else
                failed.push({
                    instanceId,
                    code: ONLINE_FAILURE_CODES.noResult,
                    message:
                        `the Cloud Assistant command did not finish within ${settings.timeoutSeconds} s plus ${RESULT_GRACE_MS / 1000} s` +
                        (result ? ` (last status ${result.status})` : " (it was not delivered)"),
                });
        }
    }
    return { succeeded: ok, failed };
}

/**
 * Reads the invocations' results until every instance finished or the deadline passed: the last
 * result of each instance, and the invocations whose results could not be read (a fatal error, such
 * as a missing permission: waiting would not help).
 */
async function awaitResults(
    deps: LifecycleDependencies,
    region: string,
    invocations: readonly { invokeId: string; instanceIds: string[] }[],
    timeoutSeconds: number,
    pollIntervalSeconds: number,
): Promise<{ results: Map<string, InvocationResult>; readErrors: Map<string, unknown> }> {
    const results = new Map<string, InvocationResult>();
    const readErrors = new Map<string, unknown>();
    if (invocations.length === 0) return { results, readErrors };
    const deadline = deps.clock.now() + timeoutSeconds * 1000 + RESULT_GRACE_MS;
    const intervalMs = Math.min(pollIntervalSeconds * 1000, MAX_RESULT_POLL_MS);
    const finished = (id: string) => FINISHED_INVOCATION_STATUSES.includes(results.get(id)?.status ?? "");
    let open = [...invocations];
    while (open.length) {
        const remainingMs = deadline - deps.clock.now();
        if (remainingMs <= 0) break;
        await deps.clock.sleep(Math.min(intervalMs, remainingMs));
        await Promise.all(
            open.map(async ({ invokeId }) => {
                try {
                    for (const [id, result] of await deps.gateway.cloudAssistant.invocationResults(region, invokeId))
                        results.set(id, result);
                } catch (error) {
                    // The gateway has retried; a transient failure just costs this poll (the deadline still holds).
                    if (classifyError(error) === "fatal") readErrors.set(invokeId, error);
                }
            }),
        );
        open = open.filter(({ invokeId, instanceIds }) => !readErrors.has(invokeId) && !instanceIds.every(finished));
    }
    return { results, readErrors };
}

/**
 * After AttachKeyPair: runs the script on the attached instances that are Running with a working
 * agent, and decides for each the others' fate (Stopped: pending as with restarts; no agent, failed
 * or timed out: the fallback).
 */
export async function activateOnline(
    deps: LifecycleDependencies,
    region: string,
    keyPairName: string,
    preparation: OnlineBindPreparation,
    attached: readonly string[],
    facts: ReadonlyMap<string, InstanceFacts>,
    restart: Required<RestartSettings>,
): Promise<OnlineBindOutcome> {
    const { settings } = preparation;
    const running = attached.filter(isRunning(facts));
    const fallback: InstanceFailure[] = [];
    const targets: Target[] = [];
    const linesKept: { instanceId: string; keyPairName: string }[] = [];
    for (const instanceId of running) {
        if (preparation.newPublicKey === undefined) {
            fallback.push({
                instanceId,
                code: ONLINE_FAILURE_CODES.publicKey,
                message: `the public key of key pair "${keyPairName}" could not be read (DescribeKeyPairs IncludePublicKey=true)`,
            });
        } else if (preparation.agents.get(instanceId) !== true) {
            fallback.push({
                instanceId,
                code: ONLINE_FAILURE_CODES.agent,
                message: `its Cloud Assistant agent is not running (DescribeCloudAssistantStatus: ${preparation.agents.has(instanceId) ? "false" : "not reported"})`,
            });
        } else {
            const previous = preparation.previousKeyPairs.get(instanceId);
            const previousKey = previous === undefined ? undefined : preparation.previousPublicKeys.get(previous);
            if (previous !== undefined && previousKey === undefined) linesKept.push({ instanceId, keyPairName: previous });
            targets.push({
                instanceId,
                change: {
                    users: settings.users,
                    addPublicKey: preparation.newPublicKey,
                    removePublicKeys: previousKey ? [previousKey] : [],
                },
            });
        }
    }
    const waves = await runInWaves(deps, region, targets, settings, restart, `bind ${keyPairName}`);
    fallback.push(...waves.failed);
    const activated = new Set(waves.succeeded);
    const cutOff = new Set(waves.cutOff);

    const failFallback = settings.fallback === "fail";
    const failedHere = new Set(failFallback ? fallback.map((f) => f.instanceId) : []);
    const cutOffFailures = [...cutOff].map((instanceId) => ({
        instanceId,
        code: ONLINE_FAILURE_CODES.waveStopped,
        message:
            "bound, but its key was not put in effect: an earlier online wave failed, so the rest were not tried " +
            "(restart.batchSize). Fix the cause and run `pulumi up` again: it restarts these instances",
    }));
    const notes: string[] = [];
    if (!failFallback && fallback.length) notes.push(fallbackNote(fallback, restart.enabled));
    const kept = linesKept.filter((l) => activated.has(l.instanceId));
    if (kept.length) notes.push(lineNotRemovedNote(kept));
    return {
        activated: running.filter((id) => activated.has(id)),
        pending: [...failedHere, ...cutOff],
        owed: [...cutOff],
        toRestartPlan: attached.filter((id) => !activated.has(id) && !failedHere.has(id) && !cutOff.has(id)),
        failed: [...(failFallback ? fallback : []), ...cutOffFailures],
        notes,
    };
}

/**
 * After DetachKeyPair in online mode: removes the unbound key's line on the detached instances that
 * are Running and not restarted anyway (a password, or `restart.onUnbind`). Those where the command
 * cannot run follow the fallback: a restart (added to the unbind's restarts), or a failure.
 */
export async function removeUnboundKeysOnline(
    deps: LifecycleDependencies,
    region: string,
    settings: ActivationSettings,
    unbound: UnbindOutcome,
    facts: ReadonlyMap<string, InstanceFacts>,
): Promise<OnlineUnbindOutcome> {
    const none: OnlineUnbindOutcome = { unbound, removed: [], failed: [], notes: [] };
    if (!isOnline(settings)) return none;
    const online = onlineSettingsWithDefaults(settings.online);
    const restartingAnyway = new Set(unbound.restart);
    const candidates = unbound.detached.filter((id) => isRunning(facts)(id) && !restartingAnyway.has(id));
    if (candidates.length === 0) return none;
    const heldKeys = new Map(candidates.map((id) => [id, facts.get(id)?.keyPairName ?? ""]));
    const [keys, agents] = await Promise.all([
        publicKeys(deps, region, heldKeys.values()),
        deps.gateway.cloudAssistant.agentStatus(region, candidates),
    ]);
    const fallback: InstanceFailure[] = [];
    const targets: Target[] = [];
    for (const instanceId of candidates) {
        const keyPairName = heldKeys.get(instanceId) ?? "";
        const publicKey = keys.get(keyPairName);
        if (publicKey === undefined) {
            fallback.push({
                instanceId,
                code: ONLINE_FAILURE_CODES.publicKey,
                message: `the public key of the unbound key pair "${keyPairName}" could not be read (it no longer exists), so its line could not be removed online`,
            });
        } else if (agents.get(instanceId) !== true) {
            fallback.push({
                instanceId,
                code: ONLINE_FAILURE_CODES.agent,
                message: `its Cloud Assistant agent is not running (DescribeCloudAssistantStatus: ${agents.has(instanceId) ? "false" : "not reported"})`,
            });
        } else {
            targets.push({ instanceId, change: { users: online.users, removePublicKeys: [publicKey] } });
        }
    }
    const restart = { batchSize: settings.restart?.batchSize ?? 0, pollIntervalSeconds: settings.restart?.pollIntervalSeconds ?? 2 };
    const waves = await runInWaves(deps, region, targets, online, restart, "unbind");
    fallback.push(...waves.failed);
    const cutOff = waves.cutOff.map((instanceId) => ({
        instanceId,
        code: ONLINE_FAILURE_CODES.waveStopped,
        message: "unbound, but its key's line was not removed online: an earlier online wave failed, so the rest were not tried",
    }));
    const notes = waves.succeeded.length ? [onlineRemovalNote(waves.succeeded)] : [];
    if (online.fallback === "fail") {
        return { unbound, removed: waves.succeeded, failed: [...fallback, ...cutOff], notes };
    }
    const restartEnabled = settings.restart?.enabled ?? true;
    if (fallback.length) notes.push(fallbackNote(fallback, restartEnabled));
    const restartNow = restartEnabled ? fallback.map((f) => f.instanceId) : [];
    return {
        unbound: { ...unbound, restart: [...unbound.restart, ...restartNow] },
        removed: waves.succeeded,
        failed: cutOff,
        notes,
    };
}
