/**
 * DescribeInstances can lag a change: right after AttachKeyPair or DetachKeyPair answered Success,
 * it may still show the old binding for a while (issue 11; the Terraform provider re-reads after
 * DetachKeyPair and sends it again until no instance holds the key). So the provider never takes
 * its own change for drift: after a change it re-reads (and resends where the old binding stays),
 * and a refresh re-reads instances that look drifted before dropping them — each within a short,
 * bounded window. An attach to instances rebooted right after it is confirmed by the restart's
 * status polls first, and re-read here only where those did not show it (converge.ts).
 */
import type { Clock } from "./clock";
import type { BatchResult, EcsGateway } from "./ecs/gateway";
import type { InstanceFacts } from "./ecs/instance";

/** Reads after a change (the first at once), each after twice the wait of the one before. */
export const VISIBILITY_READS = 4;
/** The wait before the second read, in milliseconds: 0.5 + 1 + 2 s in all before giving up. */
export const VISIBILITY_FIRST_DELAY_MS = 500;

/** How long the re-reads after a change span, in milliseconds: the lag the provider allows DescribeInstances. */
export function visibilityWindowMs(firstDelayMs = VISIBILITY_FIRST_DELAY_MS): number {
    return firstDelayMs * (2 ** (VISIBILITY_READS - 1) - 1);
}

type Shows = (facts: InstanceFacts | undefined) => boolean;

/**
 * Re-reads until every instance shows the change (`shows`); from the second read on, the
 * instances that still show the old binding are sent the change again (AttachKeyPair and
 * DetachKeyPair are idempotent). Returns the instances that never showed it: ECS accepted the
 * change for them, so they stay bound (or unbound) as it said, and the caller says so.
 */
export async function confirmChange(
    gateway: EcsGateway,
    region: string,
    instanceIds: readonly string[],
    shows: Shows,
    resend: (ids: readonly string[]) => Promise<BatchResult>,
    clock: Clock,
    firstDelayMs = VISIBILITY_FIRST_DELAY_MS,
): Promise<string[]> {
    let pending = [...instanceIds];
    for (let read = 1; pending.length && read <= VISIBILITY_READS; read++) {
        if (read > 1) await clock.sleep(firstDelayMs * 2 ** (read - 2));
        const facts = await gateway.describeInstances(region, pending);
        pending = pending.filter((id) => !shows(facts.get(id)));
        if (pending.length && read > 1 && read < VISIBILITY_READS) await resend(pending);
    }
    return pending;
}

/**
 * A refresh: the recorded instances that do not show `keyPairName` are read again (bounded, as
 * above) before they count as drifted, so a refresh right after an `up` does not drop a binding
 * ECS has not shown yet. Returns the facts with the later reads merged in.
 */
export async function rereadDrifted(
    gateway: EcsGateway,
    region: string,
    keyPairName: string,
    instanceIds: readonly string[],
    facts: ReadonlyMap<string, InstanceFacts>,
    clock: Clock,
    firstDelayMs = VISIBILITY_FIRST_DELAY_MS,
): Promise<Map<string, InstanceFacts>> {
    const merged = new Map(facts);
    const holds = (id: string) => merged.get(id)?.keyPairName === keyPairName;
    let drifted = instanceIds.filter((id) => !holds(id));
    for (let read = 2; drifted.length && read <= VISIBILITY_READS; read++) {
        await clock.sleep(firstDelayMs * 2 ** (read - 2));
        for (const [id, instance] of await gateway.describeInstances(region, drifted)) merged.set(id, instance);
        drifted = drifted.filter((id) => !holds(id));
    }
    return merged;
}
