/**
 * The outputs of a create or update, computed from what the run did: a pure function of the
 * previous outputs, what DescribeInstances showed before anything was sent, and the result of each
 * step. No I/O; pinned field by field by tests/unit/outputs.test.ts.
 *
 * Two words carry the restart bookkeeping, and each means one thing:
 * - pending: the instance's change (a new key, or a password after an unbind) is not in effect
 *   yet; it will be at the instance's next start or restart, whoever does it.
 * - owed: this provider owes the instance a restart it did not carry out (refused, or cut off by a
 *   failed rolling wave); the next update restarts it. Every owed instance is also pending.
 */
import type { BatchResult } from "./ecs/gateway";
import type { OnlineBindOutcome } from "./online/activate";
import type { InstanceFacts } from "./ecs/instance";
import type { BindPlan, RestartPlan } from "./plan";
import type { RestartOutcome } from "./restart";
import { KeyPairAttachmentInputs, KeyPairAttachmentOutputs, definedOnly } from "./types";

export function unique(ids: readonly string[]): string[] {
    return [...new Set(ids)];
}

/** The entries of `map` whose instance is in `keep`. */
export function pick(map: Record<string, string> | undefined, keep: ReadonlySet<string>): Record<string, string> {
    return Object.fromEntries(Object.entries(map ?? {}).filter(([id]) => keep.has(id)));
}

/** What unbinding did (see converge.ts, unbindInstances). */
export interface UnbindOutcome {
    detached: string[];
    failed: BatchResult["failed"];
    /** Given `passwordOnUnbind`. */
    passwordSet: string[];
    passwordFailures: BatchResult["failed"];
    /** Running and changed: to restart so that the unbind (and the password) take effect now. */
    restart: string[];
    /** Given a password but not running: it takes effect at their next start. */
    pending: string[];
}

/** Everything a convergence run knew and did, in the order it happened. */
export interface ConvergeRecord {
    region: string;
    desired: KeyPairAttachmentInputs;
    /** The outputs of the run before (update), or none (create). */
    previous?: KeyPairAttachmentOutputs;
    /** The instances as DescribeInstances showed them before anything was sent. */
    facts: ReadonlyMap<string, InstanceFacts>;
    /** The key pairs this resource may have bound (its previous key, and its leftover keys). */
    ownKeys: ReadonlySet<string>;
    unbound: UnbindOutcome;
    bind: Pick<BindPlan, "alreadyBound" | "replaced">;
    attached: BatchResult;
    /**
     * Online activation of the freshly attached instances (empty in restart mode): in effect now, not
     * in effect (failed with fallback "fail", or cut off by a failed wave), and owed a restart (cut off).
     */
    online: Pick<OnlineBindOutcome, "activated" | "pending" | "owed">;
    /** Which of the freshly attached instances were to restart, and which wait for their next start. */
    bindRestart: Pick<RestartPlan, "pending">;
    /** Restarts owed by an earlier run (in the state or the journal) that this run carried out or tried. */
    owedRetried: readonly string[];
    restarts: Pick<RestartOutcome, "restarted" | "failed" | "owed">;
    /**
     * Restarted before DescribeInstances showed their new key (seen only by the reads after the
     * restart, see converge.ts): they may have booted without it, so their restart does not count.
     */
    restartedBeforeShown: readonly string[];
}

export function convergedOutputs(record: ConvergeRecord): KeyPairAttachmentOutputs {
    const { desired, previous, facts, unbound, bind, attached, restarts } = record;
    const attachedSet = new Set(attached.succeeded);
    const alreadyBound = new Set(bind.alreadyBound);
    // Bound now: what this run attached, and what already held the key. An instance whose attach
    // failed is not bound, even if it was before (it still holds an older key: see leftovers).
    const bound = new Set(desired.instanceIds.filter((id) => attachedSet.has(id) || alreadyBound.has(id)));
    // Restarted for the change: not those that may have booted before the key showed (owed again, below).
    const beforeShown = new Set(record.restartedBeforeShown);
    const restartedInstanceIds = restarts.restarted.filter((id) => !beforeShown.has(id));
    const restarted = new Set(restartedInstanceIds);
    // Given the password on unbind: no longer bound, but its password (or its unbind) may still wait for a restart.
    const passwordSet = new Set(unbound.passwordSet);
    const running = (id: string) => facts.get(id)?.status === "Running";
    const owedRetried = new Set(record.owedRetried);

    // Pending, from five sources: an earlier pending change not replaced by a fresh attach (the new
    // attach decides afresh); freshly attached but not Running (or restarts disabled); unbound with a
    // password but not Running; every restart this run tried that did not end Running (refused,
    // timed out, cut off); and every restart that came before the key showed. Only instances this
    // resource still cares about (bound, or given its password) and that were not restarted in the end.
    const pendingBefore = (previous?.pendingRestartInstanceIds ?? []).filter((id) => !attachedSet.has(id));
    const restartNotFinished = [...restarts.failed.map((f) => f.instanceId), ...restarts.owed, ...beforeShown];
    const pendingRestartInstanceIds = unique([
        ...pendingBefore,
        ...record.bindRestart.pending,
        ...record.online.pending,
        ...unbound.pending,
        ...restartNotFinished,
    ]).filter((id) => (bound.has(id) || passwordSet.has(id)) && !restarted.has(id));

    // Reset needed: every instance this resource unbound without giving it a password, until it is
    // bound again (then password logon is off anyway) or a later unbind sets the password.
    const notBoundNorPassworded = (id: string) => !bound.has(id) && !passwordSet.has(id);
    const passwordResetRequiredInstanceIds = unique([...(previous?.passwordResetRequiredInstanceIds ?? []), ...unbound.detached]).filter(
        notBoundNorPassworded,
    );
    // Why the password failed, kept as long as the instance is listed as needing a reset.
    const passwordFailures: [string, string][] = [
        ...Object.entries(previous?.passwordResetFailures ?? {}),
        ...unbound.passwordFailures.map((f): [string, string] => [f.instanceId, `${f.code}: ${f.message}`]),
    ];
    const passwordResetFailures = Object.fromEntries(passwordFailures.filter(([id]) => notBoundNorPassworded(id)));

    // Replaced keys: remembered while the instance stays bound; a fresh attach reports what it replaced.
    const replacedKeyPairs = { ...pick(previous?.replacedKeyPairs, bound), ...pick(bind.replaced, attachedSet) };

    // Owed: what this run could not reboot at all (refused, or cut off by a failed wave), what it
    // rebooted before the key showed (a second reboot is safe then: the first one was seen over), and what
    // an earlier run owed that this run did not retry although the instance is Running (restarts
    // are disabled now, or its key changed again and the new attach decides). An earlier debt on an
    // instance that is not Running is dropped: it takes the key at its next start (it stays pending).
    // An instance rebooted but not seen Running again is not owed: a second reboot could interrupt
    // the first. Only while bound and not restarted.
    const owedBefore = (previous?.restartOwedInstanceIds ?? []).filter((id) => !owedRetried.has(id) && running(id));
    const restartOwedInstanceIds = unique([...owedBefore, ...restarts.owed, ...beforeShown, ...record.online.owed]).filter(
        (id) => bound.has(id) && !restarted.has(id),
    );

    // Leftovers: instances that still hold one of this resource's keys although they should not (a
    // failed switch to the new key, or a failed unbind), so that a later run releases them.
    const leftoverKeyPairs: Record<string, string> = {};
    for (const { instanceId } of [...attached.failed, ...unbound.failed]) {
        const held = facts.get(instanceId)?.keyPairName;
        if (held && record.ownKeys.has(held)) leftoverKeyPairs[instanceId] = held;
    }

    return definedOnly({
        keyPairName: desired.keyPairName,
        instanceIds: desired.instanceIds.filter((id) => bound.has(id)),
        region: record.region,
        restart: desired.restart,
        passwordOnUnbind: desired.passwordOnUnbind,
        activation: desired.activation,
        online: desired.online,
        waitForReadySeconds: desired.waitForReadySeconds,
        // Only what this run put in effect online (an instance restarted afterwards all the same is listed as restarted only).
        onlineActivatedInstanceIds: record.online.activated.filter((id) => bound.has(id) && !restarted.has(id)),
        restartedInstanceIds,
        pendingRestartInstanceIds,
        passwordResetRequiredInstanceIds,
        passwordResetFailures,
        replacedKeyPairs,
        restartOwedInstanceIds,
        leftoverKeyPairs,
    });
}

/**
 * Read (refresh): the recorded instances that are gone or no longer hold this key are dropped
 * (drift), and with them everything recorded about them; a leftover is kept only while the
 * instance still holds that leftover key.
 */
export function refreshedOutputs(props: KeyPairAttachmentOutputs, facts: ReadonlyMap<string, InstanceFacts>): KeyPairAttachmentOutputs {
    const stillBound = (props.instanceIds ?? []).filter((id) => facts.get(id)?.keyPairName === props.keyPairName);
    const bound = new Set(stillBound);
    const leftover = props.leftoverKeyPairs;
    return definedOnly({
        ...props,
        instanceIds: stillBound,
        pendingRestartInstanceIds: (props.pendingRestartInstanceIds ?? []).filter((id) => bound.has(id)),
        onlineActivatedInstanceIds: props.onlineActivatedInstanceIds?.filter((id) => bound.has(id)),
        replacedKeyPairs: pick(props.replacedKeyPairs, bound),
        restartOwedInstanceIds: props.restartOwedInstanceIds?.filter((id) => bound.has(id)),
        leftoverKeyPairs:
            leftover && Object.fromEntries(Object.entries(leftover).filter(([id, key]) => facts.get(id)?.keyPairName === key)),
    });
}

/** An update that changes only restart settings, passwordOnUnbind or waitForReadySeconds: no API call, nothing restarted. */
export function settingsOnlyOutputs(olds: KeyPairAttachmentOutputs, news: KeyPairAttachmentInputs): KeyPairAttachmentOutputs {
    return definedOnly({
        ...olds,
        restart: news.restart,
        passwordOnUnbind: news.passwordOnUnbind,
        activation: news.activation,
        online: news.online,
        waitForReadySeconds: news.waitForReadySeconds,
        restartedInstanceIds: [],
        onlineActivatedInstanceIds: [],
    });
}
