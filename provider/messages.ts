/** How instance lists and failures read in errors and log lines: short, and naming every instance up to a limit. */
import type { InstanceFailure } from "./ecs/instance";

export function describeIds(ids: readonly string[], max = 20): string {
    return ids.length <= max ? ids.join(", ") : `${ids.slice(0, max).join(", ")} and ${ids.length - max} more`;
}

/** One entry per distinct failure, naming its instances: a batch-wide error is said once, not 50 times. */
export function describeFailures(failures: readonly InstanceFailure[]): string {
    const groups = new Map<string, string[]>();
    for (const f of failures) {
        const reason = `${f.code} ${f.message}`;
        groups.set(reason, [...(groups.get(reason) ?? []), f.instanceId]);
    }
    return [...groups].map(([reason, ids]) => `${describeIds(ids)}: ${reason}`).join("; ");
}

/**
 * Why a binding is refused before anything is changed: instances that cannot use key pairs. One
 * wording for `up` (converge) and the preview, so that what a preview refuses reads as `up` would.
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
