/**
 * The convergence steps shared by create, update and delete (DESIGN §3): read and validate, wait
 * out transitional states, unbind, bind (with the restart journal written ahead), restart, confirm
 * the attach where the restart did not show it, settle the journal — each step its own function,
 * and the outputs computed by outputs.ts from what the steps did. Written against the gateway and
 * the plan; nothing here knows about Pulumi.
 */
import type { Clock, Random } from "./clock";
import type { ProviderSettings } from "./config";
import type { BatchResult, EcsGateway } from "./ecs/gateway";
import type { InstanceFacts, InstanceFailure } from "./ecs/instance";
import type { RestartJournal } from "./journal";
import { changeNotVisibleNotice, ineligibleInstancesMessage, missingKeyPairMessage, restartedBeforeKeyShownNotice } from "./messages";
import { ConvergeRecord, UnbindOutcome, convergedOutputs, unique } from "./outputs";
import {
    BindPlan,
    difference,
    findIneligibleInstances,
    ownKeyPairNames,
    planBind,
    planRestart,
    planUnbind,
    trackedInstanceIds,
    transitionalInstanceIds,
} from "./plan";
import { BindingLookups, describeBinding } from "./preview";
import { RestartProgress, waitProgress } from "./progress";
import { RestartHistory, RestartOutcome, restartInstances, waitUntilStable } from "./restart";
import {
    KeyPairAttachmentInputs,
    KeyPairAttachmentOutputs,
    RestartSettings,
    readinessWindowMs,
    restartSettingsWithDefaults,
} from "./types";
import { confirmChange, visibilityWindowMs } from "./visibility";
import { NO_ONLINE_BIND, activateOnline, prefetchOnlineReads, prepareOnlineBind, removeUnboundKeysOnline } from "./online/activate";

export interface LifecycleDependencies {
    settings: ProviderSettings;
    gateway: EcsGateway;
    clock: Clock;
    random: Random;
    /** Restart times seen by this provider process (shared by its resources). */
    restartHistory: RestartHistory;
    /** Restarts owed by a run that died before it could record them in the state. */
    journal: RestartJournal;
    /** Where provider-side messages go: the dynamic provider's stdout, shown by the CLI as info lines. */
    log: (line: string) => void;
    /** The wait before the first re-read of a change ECS does not show yet, in milliseconds (visibility.ts). Default VISIBILITY_FIRST_DELAY_MS. */
    visibilityDelayMs?: number;
    /** Messages that ask the user to act (a delete's password resets, a failed restart); `log` when absent. */
    warn?: (line: string) => void;
    /** The preview's look-ups, kept briefly for the operation that follows (absent: every operation asks ECS). */
    bindingLookups?: BindingLookups;
}

export interface ConvergeResult {
    outputs: KeyPairAttachmentOutputs;
    unbound: UnbindOutcome;
    failures: InstanceFailure[];
    /** False when every change failed: then there is no partial state to record. */
    changedAnything: boolean;
    /** Extra parts of the summary line (online activation: fallbacks and their reasons). */
    notes: string[];
}

const EMPTY_BATCH: BatchResult = { succeeded: [], failed: [] };
const NO_RESTARTS: RestartOutcome = { restarted: [], failed: [], owed: [], lastSeen: new Map() };

const isRunning = (facts: ReadonlyMap<string, InstanceFacts>) => (id: string) => facts.get(id)?.status === "Running";
const holds = (keyPairName: string) => (f: InstanceFacts | undefined) => f?.keyPairName === keyPairName;

/**
 * Brings the instances to the desired binding: validate every instance before changing any, wait
 * out transitional states, detach the removed instances that still hold the previous key, attach
 * the key where it is missing, restart what changed and was Running. Shared by create and update.
 */
export async function converge(
    deps: LifecycleDependencies,
    region: string,
    desired: KeyPairAttachmentInputs,
    previous?: KeyPairAttachmentOutputs,
): Promise<ConvergeResult> {
    const restart = restartSettingsWithDefaults(desired.restart);
    const ownKeys = ownKeyPairNames(previous);
    const removed = difference(trackedInstanceIds(previous), desired.instanceIds);
    const involved = unique([...desired.instanceIds, ...removed]);

    // Online activation's own reads go out with the validating read (nothing is sent before validation).
    const onlinePrefetch = prefetchOnlineReads(deps, region, desired, trackedInstanceIds(previous));
    let facts = await describeAndValidate(deps, region, desired, involved);
    facts = await waitOutTransitions(deps, region, desired.keyPairName, involved, facts, restart);

    const bind = planBind(desired.keyPairName, desired.instanceIds, facts, ownKeys);
    // Online activation reads its public keys and agents before anything is sent (undefined: restart mode).
    const onlinePreparation = await prepareOnlineBind(deps, region, desired, facts, bind.attach, onlinePrefetch);
    const onlineUnbind = await removeUnboundKeysOnline(
        deps,
        region,
        desired,
        await unbindInstances(deps, region, ownKeys, removed, facts, desired),
        facts,
    );
    const unbound = onlineUnbind.unbound;
    // Restarts a dead run owes (see journal.ts), read before anything is sent.
    const owedInJournal = await deps.journal.owed(region, desired.keyPairName, facts);
    // In restart mode the Running instances are rebooted right after the attach, unconfirmed: the restart's polls confirm it.
    const confirmedByRestart = new Set(onlinePreparation ? [] : planRestart(bind.attach, facts, restart.enabled).restart);
    const { attached, owedIfInterrupted, confirmation } = await attachKeyPair(deps, region, desired, bind, facts, confirmedByRestart);
    // The script changes authorized_keys, not what DescribeInstances shows: online, both go on
    // together; in restart mode the confirmation (Stopped and unrestarted instances) comes first.
    const online = onlinePreparation
        ? await activateOnline(deps, region, desired.keyPairName, onlinePreparation, attached.succeeded, facts, restart).finally(
              () => confirmation,
          )
        : await confirmation.then(() => ({ ...NO_ONLINE_BIND, toRestartPlan: attached.succeeded }));

    const bindRestart = planRestart(online.toRestartPlan, facts, restart.enabled);
    const owedRetried = restart.enabled ? owedByEarlierRuns(desired, previous, owedInJournal, bind, facts) : [];
    const restarts = await restartChanged(
        deps,
        region,
        desired.keyPairName,
        restart,
        [...bindRestart.restart, ...owedRetried],
        unbound.restart,
        { facts, readyWithinMs: readinessWindowMs(desired) },
    );
    const restartedBeforeShown = await confirmAfterRestart(
        deps,
        region,
        desired,
        bindRestart.restart.filter((id) => confirmedByRestart.has(id)),
        restarts,
    );

    // From here on the state carries what is still owed (restartOwedInstanceIds); an unbound instance owes nothing.
    const owedPerJournal = desired.instanceIds.filter((id) => owedInJournal.has(id));
    await deps.journal.settle(region, desired.keyPairName, unique([...owedIfInterrupted, ...owedPerJournal, ...unbound.detached]), facts);

    const record: ConvergeRecord = {
        region,
        desired,
        previous,
        facts,
        ownKeys,
        unbound,
        bind,
        attached,
        online,
        bindRestart,
        owedRetried,
        restarts,
        restartedBeforeShown,
    };
    return {
        outputs: convergedOutputs(record),
        // A failed password reset is reported in the outputs, not as a failure of the binding.
        failures: [...unbound.failed, ...onlineUnbind.failed, ...attached.failed, ...online.failed, ...restarts.failed],
        changedAnything: unbound.detached.length + attached.succeeded.length > 0,
        unbound,
        notes: [...onlineUnbind.notes, ...online.notes],
    };
}

/**
 * Reads the instances and the key pair (both reads, asked together — or answered by the look-up of
 * the check or diff just before, see preview.ts) and refuses before any change when an instance
 * cannot use key pairs or the key pair does not exist.
 */
async function describeAndValidate(
    deps: LifecycleDependencies,
    region: string,
    desired: KeyPairAttachmentInputs,
    involved: readonly string[],
): Promise<Map<string, InstanceFacts>> {
    const { facts, keyPairExists } = await describeBinding(deps.gateway, deps.bindingLookups, region, involved, desired.keyPairName);
    const ineligible = findIneligibleInstances(desired.instanceIds, facts, region);
    if (ineligible.length) throw new Error(ineligibleInstancesMessage(desired.keyPairName, ineligible));
    if (!keyPairExists) throw new Error(missingKeyPairMessage(desired.keyPairName, region));
    return facts;
}

/** AttachKeyPair and reboots refuse Pending, Starting and Stopping: wait those out, then read again. */
async function waitOutTransitions(
    deps: LifecycleDependencies,
    region: string,
    keyPairName: string,
    involved: readonly string[],
    facts: Map<string, InstanceFacts>,
    restart: Required<RestartSettings>,
): Promise<Map<string, InstanceFacts>> {
    const transitional = transitionalInstanceIds(involved, facts);
    if (transitional.length === 0) return facts;
    const waitOptions = { timeoutSeconds: restart.timeoutSeconds, pollIntervalSeconds: restart.pollIntervalSeconds };
    const onPoll = waitProgress(deps.clock, deps.log, progressSubject(keyPairName, region), transitional.length);
    await waitUntilStable(deps.gateway, region, transitional, { ...waitOptions, onPoll }, deps.clock);
    return deps.gateway.describeInstances(region, involved);
}

/** AttachKeyPair of the desired key, waiting out fresh instances within the readiness window (also the resend of a confirmation). */
function attachFor(deps: LifecycleDependencies, region: string, desired: KeyPairAttachmentInputs) {
    return (ids: readonly string[]) =>
        deps.gateway.attachKeyPair(region, desired.keyPairName, ids, { readyWithinMs: readinessWindowMs(desired) });
}

/**
 * Attaches the key where it is missing. Written ahead: the Running instances about to be bound are
 * noted in the journal first (ECS tags, see tag-journal.ts), so that if this run dies between
 * AttachKeyPair and the reboots, the next one knows their restart is owed. Then confirmed (the returned `confirmation`, which the caller awaits), as
 * DescribeInstances may lag the change — except `confirmedByRestart`: the instances restarted
 * right after, which confirmAfterRestart confirms from the restart's own polls.
 */
async function attachKeyPair(
    deps: LifecycleDependencies,
    region: string,
    desired: KeyPairAttachmentInputs,
    bind: BindPlan,
    facts: ReadonlyMap<string, InstanceFacts>,
    confirmedByRestart: ReadonlySet<string>,
): Promise<{ attached: BatchResult; owedIfInterrupted: string[]; confirmation: Promise<void> }> {
    const { keyPairName } = desired;
    const owedIfInterrupted = restartSettingsWithDefaults(desired.restart).enabled ? bind.attach.filter(isRunning(facts)) : [];
    if (owedIfInterrupted.length) await deps.journal.note(region, keyPairName, owedIfInterrupted, facts);
    if (bind.attach.length === 0) return { attached: EMPTY_BATCH, owedIfInterrupted, confirmation: Promise.resolve() };
    const attach = attachFor(deps, region, desired);
    const attached = await attach(bind.attach);
    const confirmNow = attached.succeeded.filter((id) => !confirmedByRestart.has(id));
    // Not awaited here: converge runs online activation alongside it.
    const confirmation = confirmAndSay(deps, region, keyPairName, "AttachKeyPair", confirmNow, holds(keyPairName), attach);
    return { attached, owedIfInterrupted, confirmation };
}

/**
 * Confirms the attach of the instances rebooted right after it. The poll that saw an instance
 * Running again after its reboot shows its key pair too, so most need no further read; only those
 * it did not show (and those whose reboot was refused or cut off) are confirmed as attachKeyPair
 * confirms. A restarted instance that showed the key only after its restart may have booted
 * without it: it is returned (its restart is owed again), and the log says so.
 */
async function confirmAfterRestart(
    deps: LifecycleDependencies,
    region: string,
    desired: KeyPairAttachmentInputs,
    instanceIds: readonly string[],
    restarts: RestartOutcome,
): Promise<string[]> {
    const { keyPairName } = desired;
    const unconfirmed = instanceIds.filter((id) => !holds(keyPairName)(restarts.lastSeen.get(id)));
    await confirmAndSay(deps, region, keyPairName, "AttachKeyPair", unconfirmed, holds(keyPairName), attachFor(deps, region, desired));
    const restarted = new Set(restarts.restarted);
    const beforeShown = unconfirmed.filter((id) => restarted.has(id));
    if (beforeShown.length) (deps.warn ?? deps.log)(restartedBeforeKeyShownNotice(keyPairName, beforeShown));
    return beforeShown;
}

/** Confirms a change (visibility.ts) and names the instances ECS accepted it for but never showed it. */
async function confirmAndSay(
    deps: LifecycleDependencies,
    region: string,
    keyPairName: string,
    action: "AttachKeyPair" | "DetachKeyPair",
    instanceIds: readonly string[],
    shows: (facts: InstanceFacts | undefined) => boolean,
    resend: (ids: readonly string[]) => Promise<BatchResult>,
): Promise<void> {
    if (instanceIds.length === 0) return;
    try {
        const unconfirmed = await confirmChange(deps.gateway, region, instanceIds, shows, resend, deps.clock, deps.visibilityDelayMs);
        if (unconfirmed.length) deps.log(changeNotVisibleNotice(action, keyPairName, unconfirmed));
    } catch (error) {
        // ECS accepted the change; a failed look at it must not lose what it did from the state.
        deps.log(changeNotVisibleNotice(action, keyPairName, instanceIds, error));
    }
}

/**
 * Restarts that an earlier run owes — recorded in the state (refused or cut-off reboots) or, when
 * that run died before reporting, in the journal — for instances still bound and Running. (An
 * instance attached afresh is restarted as a fresh bind instead.)
 */
function owedByEarlierRuns(
    desired: KeyPairAttachmentInputs,
    previous: KeyPairAttachmentOutputs | undefined,
    owedInJournal: ReadonlySet<string>,
    bind: Pick<BindPlan, "alreadyBound">,
    facts: ReadonlyMap<string, InstanceFacts>,
): string[] {
    const alreadyBound = new Set(bind.alreadyBound);
    const running = isRunning(facts);
    return unique([...(previous?.restartOwedInstanceIds ?? []), ...desired.instanceIds.filter((id) => owedInJournal.has(id))]).filter(
        (id) => alreadyBound.has(id) && running(id),
    );
}

/**
 * Detaches the instances that still hold the key (never one holding another key), sets
 * `passwordOnUnbind` on them when given (the ECS docs: after an unbind the password must be reset
 * before password logon, and a password set through the API takes effect after a restart through
 * the API), and says which of them to restart: those given a password, and all with `restart.onUnbind`.
 */
export async function unbindInstances(
    deps: LifecycleDependencies,
    region: string,
    ownKeys: ReadonlySet<string>,
    instanceIds: readonly string[],
    facts: ReadonlyMap<string, InstanceFacts>,
    settings: { restart?: RestartSettings; passwordOnUnbind?: string; waitForReadySeconds?: number },
): Promise<UnbindOutcome> {
    const plan = planUnbind(ownKeys, instanceIds, facts);
    const results = await Promise.all(
        Object.entries(plan.detach).map(async ([keyPairName, ids]) => {
            const detach = (some: readonly string[]) =>
                deps.gateway.detachKeyPair(region, keyPairName, some, { readyWithinMs: readinessWindowMs(settings) });
            const result = await detach(ids);
            await confirmAndSay(
                deps,
                region,
                keyPairName,
                "DetachKeyPair",
                result.succeeded,
                (f) => f?.keyPairName !== keyPairName,
                detach,
            );
            return result;
        }),
    );
    const detached = { succeeded: results.flatMap((r) => r.succeeded), failed: results.flatMap((r) => r.failed) };
    const password = settings.passwordOnUnbind;
    const passwords =
        password && detached.succeeded.length ? await deps.gateway.setInstancePasswords(region, detached.succeeded, password) : EMPTY_BATCH;
    const changed = restartSettingsWithDefaults(settings.restart).onUnbind ? detached.succeeded : passwords.succeeded;
    const running = isRunning(facts);
    return {
        detached: detached.succeeded,
        failed: detached.failed,
        passwordSet: passwords.succeeded,
        passwordFailures: passwords.failed,
        restart: changed.filter(running),
        pending: passwords.succeeded.filter((id) => !running(id)),
    };
}

/**
 * Restarts what changed: bound instances as `restart.force` says, unbound ones always gracefully (a
 * password or an unbind needs no power cycle). One wave sequence when both are graceful. Each wave
 * that is Running again is settled in the journal at once, so a run lost in a later wave leaves
 * notes only for what it had not restarted.
 */
export async function restartChanged(
    deps: LifecycleDependencies,
    region: string,
    keyPairName: string,
    restart: Required<RestartSettings>,
    bound: readonly string[],
    unbound: readonly string[],
    seen: { facts: ReadonlyMap<string, InstanceFacts>; readyWithinMs: number },
): Promise<RestartOutcome> {
    const boundSet = new Set(bound);
    const options = {
        timeoutSeconds: restart.timeoutSeconds,
        pollIntervalSeconds: restart.pollIntervalSeconds,
        batchSize: restart.batchSize,
        readyWithinMs: seen.readyWithinMs,
        // A bound instance whose restart poll did not show the key yet keeps its note until
        // confirmAfterRestart has decided whether its restart is owed again (converge settles it then).
        onRestarted: (ids: readonly string[], lastSeen: ReadonlyMap<string, InstanceFacts>) =>
            deps.journal.settle(
                region,
                keyPairName,
                ids.filter((id) => !boundSet.has(id) || lastSeen.get(id)?.keyPairName === keyPairName),
            ),
        // A lagging DescribeInstances must not pass for an instance already back (see restart.ts).
        startTimeBefore: new Map([...bound, ...unbound].map((id) => [id, seen.facts.get(id)?.startTime])),
        laggingViewMs: visibilityWindowMs(deps.visibilityDelayMs),
    };
    const progress = new RestartProgress(deps.clock, deps.log, progressSubject(keyPairName, region));
    const run = (ids: readonly string[], force: boolean) =>
        ids.length
            ? restartInstances(deps.gateway, region, ids, { ...options, force }, deps.clock, deps.restartHistory, progress)
            : Promise.resolve(NO_RESTARTS);
    if (!restart.force) return run([...bound, ...unbound], false);
    const [forced, graceful] = [await run(bound, true), await run(unbound, false)];
    return {
        restarted: [...forced.restarted, ...graceful.restarted],
        failed: [...forced.failed, ...graceful.failed],
        owed: [...forced.owed, ...graceful.owed],
        lastSeen: new Map([...forced.lastSeen, ...graceful.lastSeen]),
    };
}

/**
 * Delete: detaches every tracked instance that still holds one of this resource's keys, and
 * finishes what it unbound (journal, password restart) even when other instances failed. Returns
 * the unbind and the restarts that failed after it.
 */
export async function unbindAll(
    deps: LifecycleDependencies,
    props: KeyPairAttachmentOutputs,
): Promise<{ unbound: UnbindOutcome; restartFailures: InstanceFailure[]; onlineFailures: InstanceFailure[]; notes: string[] }> {
    const tracked = trackedInstanceIds(props);
    const facts = await deps.gateway.describeInstances(props.region, tracked);
    const online = await removeUnboundKeysOnline(
        deps,
        props.region,
        props,
        await unbindInstances(deps, props.region, ownKeyPairNames(props), tracked, facts, props),
        facts,
    );
    const { unbound } = online;
    if (unbound.detached.length === 0) return { unbound, restartFailures: [], onlineFailures: [], notes: [] };
    // An unbound instance owes nothing any more: its key is gone.
    await deps.journal.settle(props.region, props.keyPairName, unbound.detached, facts);
    const restarts = await restartChanged(
        deps,
        props.region,
        props.keyPairName,
        restartSettingsWithDefaults(props.restart),
        [],
        unbound.restart,
        { facts, readyWithinMs: readinessWindowMs(props) },
    );
    return { unbound, restartFailures: restarts.failed, onlineFailures: online.failed, notes: online.notes };
}

/** Who a progress line is about (restartChanged and waits know the key pair, not the resource id). */
function progressSubject(keyPairName: string, region: string): string {
    return `KeyPairAttachment for key pair "${keyPairName}" in ${region}`;
}
