/** How online activation reads in the summary line: which instances fell back and why, and what could not be removed. */
import type { InstanceFailure } from "../ecs/instance";
import { describeFailures, describeIds } from "../messages";

/**
 * Instances where Cloud Assistant could not make the change, with each reason: restarted instead, or
 * (restart.enabled false) left for their next start.
 */
export function fallbackNote(failures: readonly InstanceFailure[], restartEnabled = true): string {
    return restartEnabled
        ? `fell back to a restart (Cloud Assistant could not make the change): ${describeFailures(failures)}`
        : `Cloud Assistant could not make the change and restart.enabled is false, so it takes effect at their next start: ${describeFailures(failures)}`;
}

/** The replaced key pair no longer exists: the new key is installed, the old line stays. */
export function lineNotRemovedNote(kept: readonly { instanceId: string; keyPairName: string }[]): string {
    const byKey = new Map<string, string[]>();
    for (const { instanceId, keyPairName } of kept) {
        const ids = byKey.get(keyPairName);
        if (ids) ids.push(instanceId);
        else byKey.set(keyPairName, [instanceId]);
    }
    const parts = [...byKey].map(([keyPairName, ids]) => `key pair "${keyPairName}" on ${describeIds(ids)}`);
    return (
        `the new key is in effect, but the line of the replaced ${parts.join(", ")} could not be removed from authorized_keys ` +
        "(the key pair no longer exists, so its public key cannot be read): remove that line by hand, or restart the instance"
    );
}

export function onlineRemovalNote(ids: readonly string[]): string {
    return `the unbound key's line was removed without a restart (Cloud Assistant) on ${describeIds(ids)}`;
}

/** A delete in online mode with fallback "fail": the key is unbound, but its line is still on these instances. */
export function onlineUnbindFailedMessage(keyPairName: string, failures: readonly InstanceFailure[]): string {
    return (
        `Key pair "${keyPairName}" was unbound, but its line could not be removed from authorized_keys through Cloud Assistant on ` +
        `${failures.length} instance(s): ${describeFailures(failures)}. The key still logs on there until they restart: ` +
        "restart them (or remove the line by hand); the unbind itself is done, so `pulumi destroy` again completes."
    );
}
