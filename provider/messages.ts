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
