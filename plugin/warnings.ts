/**
 * Warnings attached to the resource by the operation that caused them, once: what an operation's
 * outputs say that the state before it did not. Wording is the dynamic resource's (outputWarnings).
 */
import { outputWarnings } from "../provider/resource";
import type { KeyPairAttachmentOutputs } from "../provider/types";

function added(now: readonly string[] | undefined, before: readonly string[] | undefined): string[] {
    const seen = new Set(before ?? []);
    return (now ?? []).filter((id) => !seen.has(id));
}

function addedEntries(now: Record<string, string> | undefined, before: Record<string, string> | undefined): Record<string, string> {
    return Object.fromEntries(Object.entries(now ?? {}).filter(([id, value]) => before?.[id] !== value));
}

export function operationWarnings(before: Partial<KeyPairAttachmentOutputs> | undefined, after: KeyPairAttachmentOutputs): string[] {
    const warnings = outputWarnings(
        after.keyPairName,
        added(after.passwordResetRequiredInstanceIds, before?.passwordResetRequiredInstanceIds),
        added(after.pendingRestartInstanceIds, before?.pendingRestartInstanceIds),
        addedEntries(after.replacedKeyPairs, before?.replacedKeyPairs),
        addedEntries(after.passwordResetFailures, before?.passwordResetFailures),
    );
    const owed = added(after.restartOwedInstanceIds, before?.restartOwedInstanceIds);
    if (owed.length) {
        warnings.push(
            `${owed.join(", ")} still ${owed.length === 1 ? "needs" : "need"} a restart for key pair "${after.keyPairName}": the next \`pulumi up\` restarts ${owed.length === 1 ? "it" : "them"}.`,
        );
    }
    return warnings;
}
