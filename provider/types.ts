/**
 * The resource contract (DESIGN §3): what a Pulumi program passes in and what the engine records.
 * Shared by the program side (resource.ts) and the provider side (lifecycle.ts).
 */
import type { Activation, OnlineSettings } from "./online/settings";

export type { Activation, OnlineFallback, OnlineSettings } from "./online/settings";

/** How instances are restarted so that a key change takes effect. */
export interface RestartSettings {
    /** Restart instances that were Running when their key changed. Default true. */
    enabled?: boolean;
    /** Forced reboot (power cycle) instead of a graceful one. Default false. */
    force?: boolean;
    /** Rolling restart: at most this many instances restarting at a time; 0 = all at once. */
    batchSize?: number;
    /** How long one restart batch may take to be Running again. Default 600. */
    timeoutSeconds?: number;
    /** Status polling interval, may be fractional. Default 2. */
    pollIntervalSeconds?: number;
    /** Also restart running instances after unbinding, so the removal takes effect now. Default false. */
    onUnbind?: boolean;
}

/** Inputs of a KeyPairAttachment, as the provider receives them (plain values). */
export interface KeyPairAttachmentInputs {
    keyPairName: string;
    instanceIds: string[];
    region?: string;
    restart?: RestartSettings;
    /**
     * When set, every instance this resource unbinds gets this password (ModifyInstanceAttribute) and
     * the running ones are restarted gracefully so that both the unbind and the password take effect.
     */
    passwordOnUnbind?: string;
    /** "restart" (default): reboot Running instances; "online": put the key in effect through Cloud Assistant. */
    activation?: Activation;
    /** Online activation settings (used when activation is "online"). */
    online?: OnlineSettings;
    /**
     * How long fresh instances may answer "not ready" (IncorrectInstanceStatus.Initializing,
     * ServiceUnavailable, InvalidOperation.Conflict) before the binding or restart fails, in seconds.
     * Default 300 (WAIT_FOR_READY_DEFAULT_SECONDS); 0 = retry only as any other call is retried.
     */
    waitForReadySeconds?: number;
}

/** Outputs recorded in the Pulumi state. */
export interface KeyPairAttachmentOutputs {
    keyPairName: string;
    /** The instances this resource holds bound now (after a refresh: only those still carrying the key). */
    instanceIds: string[];
    /** The region the binding lives in (the input, or the provider's configured region). */
    region: string;
    restart?: RestartSettings;
    /** Kept (as a secret) so that delete can set it too. */
    passwordOnUnbind?: string;
    /** Kept so that delete unbinds the same way. */
    activation?: Activation;
    online?: OnlineSettings;
    /** Running instances whose key was put in effect through Cloud Assistant, without a restart, by the latest create or update. */
    onlineActivatedInstanceIds?: string[];
    waitForReadySeconds?: number;
    /** Restarted by the latest create or update. */
    restartedInstanceIds: string[];
    /**
     * Bound, but the key is not in effect until their next start or restart (and, with
     * passwordOnUnbind, unbound stopped instances whose new password waits for their next start).
     */
    pendingRestartInstanceIds: string[];
    /** Unbound by this resource and given no password: reset it before password logon. */
    passwordResetRequiredInstanceIds: string[];
    /** Instance id → why setting passwordOnUnbind failed on it (it is also listed as needing a reset). */
    passwordResetFailures: Record<string, string>;
    /** Instance id → the key pair that this resource's binding replaced. */
    replacedKeyPairs: Record<string, string>;
    /**
     * Bound while Running, but their restart failed or was cut off, or came before DescribeInstances
     * showed the new key: the next update restarts them (they are also listed in pendingRestartInstanceIds).
     */
    restartOwedInstanceIds?: string[];
    /**
     * Instance id → a key pair of this resource that it still holds but should not (switching it to
     * keyPairName, or unbinding it, failed): the next update or the delete releases it.
     */
    leftoverKeyPairs?: Record<string, string>;
}

/**
 * Fresh instances answer "not ready" for minutes after RunInstances; the Terraform provider waits
 * out AttachKeyPair's ServiceUnavailable for 5 minutes (issue 11), so do we by default.
 */
export const WAIT_FOR_READY_DEFAULT_SECONDS = 300;

/** The readiness window of a resource, in milliseconds. */
export function readinessWindowMs(inputs: { waitForReadySeconds?: number }): number {
    return (inputs.waitForReadySeconds ?? WAIT_FOR_READY_DEFAULT_SECONDS) * 1000;
}

/** The defaults of DESIGN §3, applied wherever a setting is absent. */
export const RESTART_DEFAULTS: Required<RestartSettings> = {
    enabled: true,
    force: false,
    batchSize: 0,
    timeoutSeconds: 600,
    pollIntervalSeconds: 2,
    onUnbind: false,
};

export function restartSettingsWithDefaults(restart: RestartSettings | undefined): Required<RestartSettings> {
    return { ...RESTART_DEFAULTS, ...definedOnly(restart ?? {}) };
}

/**
 * Leaves out the keys whose value is undefined: defaults fill them, and the dynamic-provider host
 * cannot encode `undefined` in outputs ("Unexpected struct type").
 */
export function definedOnly<T extends object>(value: T): T {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
