/** What the provider knows about an ECS instance, independent of the SDK's response classes. */

/** ECS instance states (ecs-api.md §3). */
export type InstanceStatus = "Pending" | "Running" | "Starting" | "Stopping" | "Stopped";

/** The states an instance leaves by itself; AttachKeyPair and RebootInstances refuse them. */
export const TRANSITIONAL_STATUSES: readonly string[] = ["Pending", "Starting", "Stopping"];

export interface InstanceFacts {
    instanceId: string;
    /** One of InstanceStatus, or a state a later ECS version adds (kept as ECS says it). */
    status: string;
    osType: string;
    ioOptimized: boolean;
    /** The bound key pair as DescribeInstances reports it; undefined when none is bound. */
    keyPairName?: string;
    lockedForSecurity: boolean;
    /**
     * The last start as DescribeInstances shows it (real ECS: to the minute, "2026-12-01T14:05Z").
     * Compared as a value, never against the clock: it moves when the instance has started again.
     */
    startTime?: string;
    /** The instance's tags (DescribeInstances `Tags.Tag[]`), key → value. */
    tags?: Record<string, string>;
}

/** A per-instance failure reported inside an HTTP 200 batch response, or by our own checks. */
export interface InstanceFailure {
    instanceId: string;
    code: string;
    message: string;
}
