/**
 * The detailed diff of `pulumi preview --diff`, on top of the lifecycle's decision (whether there
 * is a change, and whether it replaces): `instanceIds` as a set — one entry per instance id added
 * or removed, none for a reordering — and a plain statement of which instances the change restarts.
 */
import type { KeyPairAttachmentInputs, KeyPairAttachmentOutputs } from "../provider/types";
import { restartSettingsWithDefaults } from "../provider/types";
import { containsUnknown } from "../provider/validate";

export type PropertyDiffKind = "add" | "delete" | "update" | "update-replace";

/** One entry of DiffResponse.detailedDiff: `path` in the engine's property-path syntax (`instanceIds[2]`). */
export interface PropertyChange {
    path: string;
    kind: PropertyDiffKind;
}

const COMPARED = ["keyPairName", "restart", "passwordOnUnbind"] as const;

function sameValue(a: unknown, b: unknown): boolean {
    return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Paths index into the recorded outputs for removals and into the new inputs for additions (the
 * engine's display looks them up there). `replaces` comes from the lifecycle's diff.
 */
export function detailedDiff(olds: KeyPairAttachmentOutputs, news: KeyPairAttachmentInputs, replaces: readonly string[]): PropertyChange[] {
    const changes: PropertyChange[] = [];
    if (replaces.includes("region") || (news.region !== undefined && news.region !== olds.region)) {
        changes.push({ path: "region", kind: replaces.includes("region") ? "update-replace" : "update" });
    }
    for (const key of COMPARED) {
        const restartSame =
            key === "restart" && sameValue(restartSettingsWithDefaults(olds.restart), restartSettingsWithDefaults(news.restart));
        if (containsUnknown(news[key]) || (!restartSame && !sameValue(olds[key], news[key]))) changes.push({ path: key, kind: "update" });
    }
    const oldIds = olds.instanceIds ?? [];
    const newIds = news.instanceIds ?? [];
    if (containsUnknown(newIds)) {
        changes.push({ path: "instanceIds", kind: "update" });
    } else {
        const oldSet = new Set(oldIds);
        const newSet = new Set(newIds);
        newIds.forEach((id, index) => {
            if (!oldSet.has(id) && newIds.indexOf(id) === index) changes.push({ path: `instanceIds[${index}]`, kind: "add" });
        });
        oldIds.forEach((id, index) => {
            if (!newSet.has(id)) changes.push({ path: `instanceIds[${index}]`, kind: "delete" });
        });
    }
    if ((olds.restartOwedInstanceIds ?? []).length) changes.push({ path: "restartOwedInstanceIds", kind: "update" });
    if (Object.keys(olds.leftoverKeyPairs ?? {}).length) changes.push({ path: "leftoverKeyPairs", kind: "update" });
    return changes;
}

/** Added and removed instance ids, in input order (set semantics). */
export function instanceSetChange(olds: readonly string[], news: readonly string[]): { added: string[]; removed: string[] } {
    const oldSet = new Set(olds);
    const newSet = new Set(news);
    return { added: [...new Set(news.filter((id) => !oldSet.has(id)))], removed: olds.filter((id) => !newSet.has(id)) };
}

/**
 * Which instances an update restarts (those Running when it happens — the diff makes no API
 * call, so it cannot know which are), or undefined when it restarts none.
 */
export function restartForecast(olds: KeyPairAttachmentOutputs, news: KeyPairAttachmentInputs): string | undefined {
    if (containsUnknown(news.instanceIds) || containsUnknown(news.keyPairName) || containsUnknown(news.restart)) return undefined;
    const restart = restartSettingsWithDefaults(news.restart);
    const { added, removed } = instanceSetChange(olds.instanceIds ?? [], news.instanceIds ?? []);
    const keyChanged = news.keyPairName !== olds.keyPairName;
    const bound = restart.enabled ? (keyChanged ? [...new Set(news.instanceIds)] : added) : [];
    const owed = restart.enabled ? (olds.restartOwedInstanceIds ?? []).filter((id) => !bound.includes(id)) : [];
    const unbound = news.passwordOnUnbind !== undefined || restart.onUnbind ? removed : [];
    const parts: string[] = [];
    if (bound.length)
        parts.push(
            `${bound.join(", ")} (${keyChanged ? `key pair changes to "${news.keyPairName}"` : "newly bound"}${restart.force ? ", forced" : ""})`,
        );
    if (owed.length) parts.push(`${owed.join(", ")} (restart owed by an earlier run)`);
    if (unbound.length)
        parts.push(`${unbound.join(", ")} (unbound${news.passwordOnUnbind !== undefined ? ", new password" : ""}, graceful)`);
    if (!parts.length) return undefined;
    const waves = restart.batchSize > 0 ? `in waves of ${restart.batchSize}` : "all at once";
    return `This update restarts the instances among these that are Running: ${parts.join("; ")} — ${waves}.`;
}
