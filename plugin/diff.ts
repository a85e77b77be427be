/**
 * The detailed diff of `pulumi preview --diff`, on top of the lifecycle's decision (whether there
 * is a change, and whether it replaces): `instanceIds` as a set — one entry per instance id added
 * or removed, none for a reordering — and a plain statement of which instances the change restarts.
 */
import type { KeyPairAttachmentInputs, KeyPairAttachmentOutputs } from "../provider/types";
import { restartSettingsWithDefaults } from "../provider/types";
import { INPUT_PROPERTIES, containsUnknown } from "../provider/validate";
import { isOnline, normalizedActivation } from "../provider/online/settings";

export type PropertyDiffKind = "add" | "delete" | "update" | "update-replace";

/** One entry of DiffResponse.detailedDiff: `path` in the engine's property-path syntax (`instanceIds[2]`). */
export interface PropertyChange {
    path: string;
    kind: PropertyDiffKind;
    /**
     * The engine shows an entry against the old and new inputs (true) or outputs (false): additions
     * index into the new inputs, removals into the recorded outputs (which a refresh may have changed).
     */
    inputDiff: boolean;
}

const COMPARED = ["keyPairName", "restart", "passwordOnUnbind", "waitForReadySeconds", "activation", "online"] as const;

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
        changes.push({ path: "region", kind: replaces.includes("region") ? "update-replace" : "update", inputDiff: true });
    }
    for (const key of COMPARED) {
        const restartSame =
            key === "restart" && sameValue(restartSettingsWithDefaults(olds.restart), restartSettingsWithDefaults(news.restart));
        // activation and online compare with their defaults applied, as the lifecycle's diff does.
        const activationSame = (key === "activation" || key === "online") && normalizedActivation(olds) === normalizedActivation(news);
        if (containsUnknown(news[key]) || (!restartSame && !activationSame && !sameValue(olds[key], news[key])))
            changes.push({ path: key, kind: "update", inputDiff: true });
    }
    const oldIds = olds.instanceIds ?? [];
    const newIds = news.instanceIds ?? [];
    if (containsUnknown(newIds)) {
        changes.push({ path: "instanceIds", kind: "update", inputDiff: true });
    } else {
        const oldSet = new Set(oldIds);
        const newSet = new Set(newIds);
        newIds.forEach((id, index) => {
            if (!oldSet.has(id) && newIds.indexOf(id) === index)
                changes.push({ path: `instanceIds[${index}]`, kind: "add", inputDiff: true });
        });
        oldIds.forEach((id, index) => {
            if (newSet.has(id)) return;
            // A path is one entry: an id added at the index another was removed from shows as `old => new`.
            const added = changes.find((c) => c.path === `instanceIds[${index}]`);
            if (added) Object.assign(added, { kind: "update", inputDiff: false });
            else changes.push({ path: `instanceIds[${index}]`, kind: "delete", inputDiff: false });
        });
    }
    if ((olds.restartOwedInstanceIds ?? []).length) changes.push({ path: "restartOwedInstanceIds", kind: "update", inputDiff: false });
    if (Object.keys(olds.leftoverKeyPairs ?? {}).length) changes.push({ path: "leftoverKeyPairs", kind: "update", inputDiff: false });
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
/** The plan of an update in words: the instance ids added and removed, and what restarts. */
export function changeSummary(olds: KeyPairAttachmentOutputs, news: KeyPairAttachmentInputs): string | undefined {
    const parts: string[] = [];
    if (!containsUnknown(news.instanceIds)) {
        const { added, removed } = instanceSetChange(olds.instanceIds ?? [], news.instanceIds ?? []);
        if (added.length || removed.length) {
            parts.push(`instanceIds: adds ${added.join(", ") || "none"}; removes ${removed.join(", ") || "none"}.`);
        }
    }
    const forecast = restartForecast(olds, news);
    if (forecast) parts.push(forecast);
    else if (!containsUnknown(news.restart) && !containsUnknown(news.instanceIds)) parts.push("This update restarts no instance.");
    return parts.length ? parts.join(" ") : undefined;
}

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
    if (isOnline(news) && bound.length) {
        // Online activation: the bound ones get the key through Cloud Assistant; only fallbacks restart.
        return (
            `This update puts the key in effect through Cloud Assistant, without a restart, on the Running instances among ` +
            `${bound.join(", ")} (those where it cannot run follow online.fallback), ${waves}` +
            (parts.length > 1 ? `; it restarts those among these that are Running: ${parts.slice(1).join("; ")}.` : ".")
        );
    }
    return `This update restarts the instances among these that are Running: ${parts.join("; ")} — ${waves}.`;
}

/**
 * Whether the program's inputs differ from those recorded: the engine also calls Diff during a
 * refresh (to show what the refresh changed), with the recorded inputs as `news` — no restart is
 * coming then, so the forecast is given only when the program changed something.
 */
export function programChanged(oldInputs: Partial<KeyPairAttachmentInputs>, news: Partial<KeyPairAttachmentInputs>): boolean {
    return INPUT_PROPERTIES.some((key) =>
        key === "instanceIds"
            ? !sameValue([...new Set(oldInputs.instanceIds ?? [])].sort(), [...new Set(news.instanceIds ?? [])].sort())
            : !sameValue(oldInputs[key], news[key]),
    );
}
