/**
 * Pure planning: desired bindings vs what DescribeInstances reports → what to attach, detach,
 * restart and flag. No I/O; every rule cites the ECS fact behind it.
 */
import { InstanceFacts, InstanceFailure, TRANSITIONAL_STATUSES } from "./ecs/instance";
import type { KeyPairAttachmentOutputs } from "./types";

/** The key pairs this resource may have bound: its key, and keys it failed to switch away from. */
export function ownKeyPairNames(outputs: Pick<KeyPairAttachmentOutputs, "keyPairName" | "leftoverKeyPairs"> | undefined): Set<string> {
    return new Set(outputs ? [outputs.keyPairName, ...Object.values(outputs.leftoverKeyPairs ?? {})] : []);
}

/** The instances a resource answers for: those bound, and those still holding a key it failed to release. */
export function trackedInstanceIds(outputs: Pick<KeyPairAttachmentOutputs, "instanceIds" | "leftoverKeyPairs"> | undefined): string[] {
    return outputs ? [...new Set([...(outputs.instanceIds ?? []), ...Object.keys(outputs.leftoverKeyPairs ?? {})])] : [];
}

/**
 * Instances that cannot take a key pair, each with the reason. Checked for every instance before
 * anything is changed ("Bind or unbind an SSH key pair", Limits: Windows and non-I/O-optimized
 * Generation I instances cannot use key pairs).
 */
export function findIneligibleInstances(
    instanceIds: readonly string[],
    facts: ReadonlyMap<string, InstanceFacts>,
    region: string,
): InstanceFailure[] {
    const failures: InstanceFailure[] = [];
    for (const instanceId of instanceIds) {
        const instance = facts.get(instanceId);
        if (!instance) {
            failures.push({
                instanceId,
                code: "InvalidInstanceId.NotFound",
                message: `does not exist in region ${region} (deleted, mistyped, or in another region)`,
            });
        } else if (instance.osType.toLowerCase() === "windows") {
            failures.push({
                instanceId,
                code: "DependencyViolation.WindowsInstance",
                message: "is a Windows instance; Windows instances cannot use SSH key pairs",
            });
        } else if (!instance.ioOptimized) {
            failures.push({
                instanceId,
                code: "DependencyViolation.IoOptimize",
                message: "is not I/O optimized (Generation I); such instances cannot use SSH key pairs",
            });
        } else if (instance.lockedForSecurity) {
            failures.push({
                instanceId,
                code: "InstanceLockedForSecurity",
                message: "is locked for security reasons; ECS refuses every operation on it",
            });
        }
    }
    return failures;
}

export function transitionalInstanceIds(instanceIds: readonly string[], facts: ReadonlyMap<string, InstanceFacts>): string[] {
    return instanceIds.filter((id) => TRANSITIONAL_STATUSES.includes(facts.get(id)?.status ?? ""));
}

export interface BindPlan {
    /** Instances whose key must change: AttachKeyPair targets. */
    attach: string[];
    /** Instances that already hold the key: nothing to do (create and update are idempotent). */
    alreadyBound: string[];
    /** Instance → a key pair other than `previousKeyPairName` that the binding will replace. */
    replaced: Record<string, string>;
}

/**
 * What binding `keyPairName` to `instanceIds` changes. An instance holds one key pair; binding a
 * new one replaces the old (ECS Limits), so an instance holding another key is an attach target and
 * its old key is reported — unless that old key is one of this resource's own (`ownKeyPairNames`:
 * its previous key, or a key it failed to switch away from).
 */
export function planBind(
    keyPairName: string,
    instanceIds: readonly string[],
    facts: ReadonlyMap<string, InstanceFacts>,
    ownKeyPairNames: ReadonlySet<string> = new Set(),
): BindPlan {
    const plan: BindPlan = { attach: [], alreadyBound: [], replaced: {} };
    for (const instanceId of instanceIds) {
        const current = facts.get(instanceId)?.keyPairName;
        if (current === keyPairName) {
            plan.alreadyBound.push(instanceId);
            continue;
        }
        plan.attach.push(instanceId);
        if (current && !ownKeyPairNames.has(current)) plan.replaced[instanceId] = current;
    }
    return plan;
}

export interface UnbindPlan {
    /**
     * Key pair → the instances that still hold it: DetachKeyPair targets. Instances that hold
     * another key are never touched (unbinding them would remove someone else's key); those that
     * hold no key, or no longer exist, need nothing.
     */
    detach: Record<string, string[]>;
}

/** What unbinding this resource's keys (`ownKeyPairNames`) from `instanceIds` changes. */
export function planUnbind(
    ownKeyPairNames: ReadonlySet<string>,
    instanceIds: readonly string[],
    facts: ReadonlyMap<string, InstanceFacts>,
): UnbindPlan {
    const plan: UnbindPlan = { detach: {} };
    for (const instanceId of instanceIds) {
        const current = facts.get(instanceId)?.keyPairName;
        if (current && ownKeyPairNames.has(current)) (plan.detach[current] ??= []).push(instanceId);
    }
    return plan;
}

export interface RestartPlan {
    /** Were Running when their key changed: restart them so the change takes effect. */
    restart: string[];
    /** Not running (or restarts disabled): the change takes effect at their next start or restart. */
    pending: string[];
}

/**
 * Which changed instances to restart. A running instance must be restarted for a new key to take
 * effect; a stopped one takes it at its next start and is never started by us (ECS Limits).
 */
export function planRestart(
    changedInstanceIds: readonly string[],
    facts: ReadonlyMap<string, InstanceFacts>,
    restartEnabled: boolean,
): RestartPlan {
    const plan: RestartPlan = { restart: [], pending: [] };
    for (const instanceId of changedInstanceIds) {
        if (restartEnabled && facts.get(instanceId)?.status === "Running") plan.restart.push(instanceId);
        else plan.pending.push(instanceId);
    }
    return plan;
}

/** Order-insensitive comparison: `instanceIds` is a set (DESIGN §3). */
export function sameInstanceSet(a: readonly string[], b: readonly string[]): boolean {
    const left = new Set(a);
    const right = new Set(b);
    return left.size === right.size && [...left].every((id) => right.has(id));
}

export function difference(a: readonly string[], b: readonly string[]): string[] {
    const exclude = new Set(b);
    return a.filter((id) => !exclude.has(id));
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
    const chunks: T[][] = [];
    for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
    return chunks;
}
