/** How instances, failures and outcomes read in errors and log lines: short, naming every instance up to a limit, and saying what to do next. */
import type { InstanceFailure } from "./ecs/instance";
import { errorMessage } from "./ecs/retry";

export function describeIds(ids: readonly string[], max = 20): string {
    return ids.length <= max ? ids.join(", ") : `${ids.slice(0, max).join(", ")} and ${ids.length - max} more`;
}

/** One entry per distinct failure, naming its instances: a batch-wide error is said once, not 50 times. */
export function describeFailures(failures: readonly InstanceFailure[]): string {
    const groups = new Map<string, string[]>();
    for (const f of failures) {
        const reason = `${f.code} ${f.message}`;
        const ids = groups.get(reason);
        if (ids) ids.push(f.instanceId);
        else groups.set(reason, [f.instanceId]);
    }
    return [...groups].map(([reason, ids]) => `${describeIds(ids)}: ${reason}`).join("; ");
}

/**
 * Validation found instances that cannot use key pairs: nothing was sent. One wording for `up`
 * (converge) and the preview (impact.ts), so that what a preview refuses reads as `up` would.
 */
export function ineligibleInstancesMessage(keyPairName: string, ineligible: readonly InstanceFailure[]): string {
    return (
        `Key pair "${keyPairName}" cannot be bound: ${ineligible.length} instance(s) cannot use SSH key pairs — ` +
        `${describeFailures(ineligible)}. Nothing was changed. Remove these instances from instanceIds and run again.`
    );
}

export function missingKeyPairMessage(keyPairName: string, region: string): string {
    return (
        `Key pair "${keyPairName}" does not exist in region ${region}. Nothing was changed. ` +
        "Create or import it first (ECS console → Key Pairs, or alicloud.ecs.EcsKeyPair), or fix keyPairName."
    );
}

/** Every change of a create or update failed: there is no partial state to record. */
export function nothingChangedMessage(keyPairName: string, failures: readonly InstanceFailure[]): string {
    return `Key pair "${keyPairName}": ${describeFailures(failures)}. Nothing was changed. Fix the cause and run \`pulumi up\` again.`;
}

/** Some changes of a create or update failed, the others are recorded in the state. */
export function partialBindingMessage(keyPairName: string, failures: readonly InstanceFailure[], boundNow: readonly string[]): string {
    return (
        `Key pair "${keyPairName}": ${failures.length} instance(s) failed — ${describeFailures(failures)}. ` +
        `The other changes were made and are recorded in the state (bound now: ${describeIds(boundNow) || "none"}). ` +
        "Fix the cause and run `pulumi up` again; only the missing changes will be made."
    );
}

/** The info line after a create or update. */
export function summary(
    id: string,
    verb: "created" | "updated",
    outputs: {
        keyPairName: string;
        instanceIds: readonly string[];
        restartedInstanceIds: readonly string[];
        pendingRestartInstanceIds: readonly string[];
        onlineActivatedInstanceIds?: readonly string[];
    },
    /** Further parts (online activation: fallbacks with their reasons, lines that could not be removed). */
    notes: readonly string[] = [],
): string {
    const parts = [`${outputs.instanceIds.length} instance(s) hold key pair "${outputs.keyPairName}"`];
    if (outputs.onlineActivatedInstanceIds?.length)
        parts.push(`in effect without a restart (Cloud Assistant): ${describeIds(outputs.onlineActivatedInstanceIds)}`);
    if (outputs.restartedInstanceIds.length) parts.push(`restarted: ${describeIds(outputs.restartedInstanceIds)}`);
    if (outputs.pendingRestartInstanceIds.length)
        parts.push(`change takes effect at next start: ${describeIds(outputs.pendingRestartInstanceIds)}`);
    parts.push(...notes);
    return `KeyPairAttachment ${id} ${verb}: ${parts.join("; ")}. Password logon is disabled on instances bound to a key pair.`;
}

/** The info line after an unbind: what was unbound, the password, and what the user must reset. */
export function unbindNotice(
    id: string,
    keyPairName: string,
    unbound: { detached: readonly string[]; passwordSet: readonly string[]; passwordFailures: readonly InstanceFailure[] },
): string {
    if (unbound.detached.length === 0) return `KeyPairAttachment ${id}: no instance needed unbinding from key pair "${keyPairName}".`;
    const parts = [`KeyPairAttachment ${id}: unbound key pair "${keyPairName}" from ${describeIds(unbound.detached)}.`];
    if (unbound.passwordSet.length) parts.push(`passwordOnUnbind was set on ${describeIds(unbound.passwordSet)}.`);
    if (unbound.passwordFailures.length) parts.push(`Setting the password failed: ${describeFailures(unbound.passwordFailures)}.`);
    const passwordSet = new Set(unbound.passwordSet);
    const needReset = unbound.detached.filter((instanceId) => !passwordSet.has(instanceId));
    if (needReset.length) {
        parts.push(
            `Reset the password of ${describeIds(needReset)} before logging on with one ` +
                "(ECS console → Reset Instance Password, or ModifyInstanceAttribute then a restart; or set passwordOnUnbind).",
        );
    }
    return parts.join(" ");
}

/** A delete that could not unbind every instance: the resource stays, and a second destroy retries. */
export function unbindFailedMessage(keyPairName: string, failed: readonly InstanceFailure[], detached: readonly string[]): string {
    return (
        `Key pair "${keyPairName}" could not be unbound from ${failed.length} instance(s): ${describeFailures(failed)}. ` +
        `Unbound: ${describeIds(detached) || "none"}. Fix the cause and run \`pulumi destroy\` again.`
    );
}

/** The unbind of a delete is done (a second destroy has nothing left to do); only the restart is missing. */
export function restartAfterUnbindFailedNotice(id: string, failures: readonly InstanceFailure[]): string {
    return (
        `KeyPairAttachment ${id}: restarting after the unbind failed: ${describeFailures(failures)}. ` +
        "Restart these instances from the ECS console or API for the unbind (and any new password) to take effect."
    );
}

/** Read without recorded outputs: what `pulumi import` would ask, and a binding has nothing to import from. */
export function importNotSupportedMessage(id: string): string {
    return (
        `KeyPairAttachment ${id} cannot be read without its recorded state (import is not supported): ` +
        "declare the KeyPairAttachment in the program and run `pulumi up`; instances that already hold the key are left alone."
    );
}

/** ECS answered Success but DescribeInstances kept showing the old binding through every re-read (or could not be read). */
export function changeNotVisibleNotice(
    action: "AttachKeyPair" | "DetachKeyPair",
    keyPairName: string,
    instanceIds: readonly string[],
    readError?: unknown,
): string {
    const shows = action === "AttachKeyPair" ? `without key pair "${keyPairName}"` : `still holding key pair "${keyPairName}"`;
    const seen = readError
        ? `could not confirm it: DescribeInstances failed (${errorMessage(readError)})`
        : `DescribeInstances still shows them ${shows} after several re-reads`;
    return (
        `KeyPairAttachment: ECS accepted ${action} for ${describeIds(instanceIds)}, but ${seen}. ` +
        "They are recorded as ECS answered; run `pulumi refresh` later to confirm."
    );
}

/**
 * Rebooted right after AttachKeyPair, but DescribeInstances showed the key only after the reboot:
 * the instances may have booted without it, so the next `pulumi up` restarts them again.
 */
export function restartedBeforeKeyShownNotice(keyPairName: string, instanceIds: readonly string[]): string {
    return (
        `KeyPairAttachment: ${describeIds(instanceIds)} restarted before DescribeInstances showed key pair "${keyPairName}" on them, ` +
        "so they may have booted without it. They are bound and recorded as owed a restart (restartOwedInstanceIds): " +
        "run `pulumi up` again to restart them."
    );
}
