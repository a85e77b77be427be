/**
 * KeyPairAttachment, the program side: typed arguments and outputs, and the warnings a user sees
 * in `pulumi up` (real warnings come only from the program side; provider output shows as info).
 */
import * as pulumi from "@pulumi/pulumi";
import { keyPairAttachmentProvider } from "./provider";
import type { RestartSettings } from "./types";

export interface KeyPairAttachmentArgs {
    /** The key pair to bind: 2–128 characters, starting with a letter. */
    keyPairName: pulumi.Input<string>;
    /** The instances to bind it to (a set: order does not matter). Any count: batching is internal. */
    instanceIds: pulumi.Input<pulumi.Input<string>[]>;
    /** ECS region id; defaults to `alicloud:region` (or ALIBABA_CLOUD_REGION_ID). Changing it replaces the resource. */
    region?: pulumi.Input<string>;
    /** How running instances are restarted so that the key takes effect. */
    restart?: pulumi.Input<RestartArgs>;
    /**
     * Opt-in: the password every instance this resource unbinds gets (ModifyInstanceAttribute), with a
     * graceful restart of the running ones so that it takes effect. Pass it as `pulumi.secret(...)`;
     * it is kept in the state only as a secret. 8–30 characters, at least three of upper case, lower
     * case, digits and ()`~!@#$%^&*-_+=|{}[]:;'<>,.?/
     */
    passwordOnUnbind?: pulumi.Input<string>;
    /**
     * How long fresh instances (created in the same `pulumi up`) may answer "not ready" —
     * IncorrectInstanceStatus.Initializing, ServiceUnavailable, InvalidOperation.Conflict — before the
     * binding or restart fails, in seconds. Default 300; 0 = no waiting beyond ordinary retries.
     */
    waitForReadySeconds?: pulumi.Input<number>;
}

export type RestartArgs = { [K in keyof RestartSettings]?: pulumi.Input<RestartSettings[K]> };

export class KeyPairAttachment extends pulumi.dynamic.Resource {
    declare readonly keyPairName: pulumi.Output<string>;
    /** The instances this resource holds bound now (after a refresh: only those that still carry the key). */
    declare readonly instanceIds: pulumi.Output<string[]>;
    declare readonly region: pulumi.Output<string>;
    declare readonly restart: pulumi.Output<RestartSettings | undefined>;
    /** Restarted by the latest create or update. */
    declare readonly restartedInstanceIds: pulumi.Output<string[]>;
    /** Bound, but the key is not in effect until their next start or restart. */
    declare readonly pendingRestartInstanceIds: pulumi.Output<string[]>;
    /** Unbound by this resource: their password must be reset before anyone logs on with one. */
    declare readonly passwordResetRequiredInstanceIds: pulumi.Output<string[]>;
    /** Instance id → the key pair that this resource's binding replaced. */
    declare readonly replacedKeyPairs: pulumi.Output<Record<string, string>>;
    /** Instance id → why setting passwordOnUnbind failed on it. */
    declare readonly passwordResetFailures: pulumi.Output<Record<string, string>>;
    declare readonly passwordOnUnbind: pulumi.Output<string | undefined>;

    constructor(name: string, args: KeyPairAttachmentArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            keyPairAttachmentProvider,
            name,
            {
                // Declared outputs are seeded as undefined so that preview shows them as unknown
                // (region too: it is an output even when the program leaves it to the provider).
                region: undefined,
                ...args,
                restartedInstanceIds: undefined,
                pendingRestartInstanceIds: undefined,
                passwordResetRequiredInstanceIds: undefined,
                replacedKeyPairs: undefined,
                passwordResetFailures: undefined,
            },
            // The password is an input; its output copy must stay a secret in the state too.
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "passwordOnUnbind"] },
            "alicloud-ecs",
            "KeyPairAttachment",
        );
        pulumi
            .all([
                this.keyPairName,
                this.passwordResetRequiredInstanceIds,
                this.pendingRestartInstanceIds,
                this.replacedKeyPairs,
                this.passwordResetFailures,
            ])
            .apply(([keyPairName, passwordReset, pending, replaced, resetFailures]) => {
                for (const message of outputWarnings(keyPairName, passwordReset, pending, replaced, resetFailures))
                    void pulumi.log.warn(message, this);
            });
    }
}

/** The warnings the outputs call for; pure, so that tests can check the wording. */
export function outputWarnings(
    keyPairName: string,
    passwordResetRequired: readonly string[] | undefined,
    pendingRestart: readonly string[] | undefined,
    replaced: Record<string, string> | undefined,
    passwordResetFailures: Record<string, string> | undefined = {},
): string[] {
    const warnings: string[] = [];
    const failures = Object.entries(passwordResetFailures ?? {});
    if (failures.length) {
        warnings.push(
            `Setting passwordOnUnbind failed on ${failures.map(([id, reason]) => `${id} (${reason})`).join(", ")}: reset their passwords by hand.`,
        );
    }
    if (passwordResetRequired?.length) {
        warnings.push(
            `${passwordResetRequired.join(", ")} ${passwordResetRequired.length === 1 ? "no longer holds" : "no longer hold"} a key pair from this resource: ` +
                "reset the password before logging on with one (ECS console → Reset Instance Password, ModifyInstanceAttribute then a restart, or passwordOnUnbind).",
        );
    }
    if (pendingRestart?.length) {
        warnings.push(
            `Key pair "${keyPairName}" is bound to ${pendingRestart.join(", ")} but takes effect only at their next start or restart.`,
        );
    }
    const replacedEntries = Object.entries(replaced ?? {});
    if (replacedEntries.length) {
        warnings.push(
            `Binding "${keyPairName}" replaced another key pair on ${replacedEntries.map(([id, key]) => `${id} (was "${key}")`).join(", ")}: ` +
                "an instance holds one key pair, so the old key no longer logs on.",
        );
    }
    return warnings;
}
