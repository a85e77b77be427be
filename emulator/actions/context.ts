/** What every action receives, and the parameter rules several actions share. */
import { errors } from "../errors";
import type { InstanceFailure } from "../faults";
import type { EcsModel, InstanceView } from "../model";
import type { Params } from "../params";

export interface ActionContext {
    model: EcsModel;
    params: Params;
    /** Injected per-instance failures for AttachKeyPair/DetachKeyPair and RunCommand (see faults.ts). */
    instanceFailures: readonly InstanceFailure[];
}

export type ActionBody = Record<string, unknown>;

/** ecs-api.md §2.1: more than 50 ids is a request-level 403. */
export const KEY_PAIR_BATCH_MAX = 50;
/** ecs-api.md §2.3/§2.4/§2.7: batch and Describe id lists take at most 100 ids. */
export const INSTANCE_ID_MAX = 100;

export function regionOf(ctx: ActionContext): string {
    const region = ctx.params.required("RegionId");
    if (!ctx.model.isKnownRegion(region)) {
        throw errors.regionNotFound(region);
    }
    return region;
}

/** Single-instance actions carry no RegionId: the endpoint implies it, and this one serves all. */
export function requireInstance(ctx: ActionContext): InstanceView {
    const id = ctx.params.required("InstanceId");
    const instance = ctx.model.instance(id);
    if (!instance) throw errors.instanceNotFound(id);
    return instance;
}

function operationLocks(instance: InstanceView) {
    return instance.lockedForSecurity ? [{ LockReason: "security", LockMsg: "The instance is locked for security reasons." }] : [];
}

/** The fields DescribeInstances items and DescribeInstanceAttribute share, in the same shape. */
export function commonInstanceFields(instance: InstanceView) {
    return {
        InstanceId: instance.id,
        InstanceName: instance.name,
        HostName: instance.name,
        Status: instance.status,
        RegionId: instance.region,
        ZoneId: instance.zoneId,
        InstanceType: instance.instanceType,
        InstanceNetworkType: "vpc",
        StoppedMode: instance.status === "Stopped" ? "KeepCharging" : "Not-applicable",
        OperationLocks: { LockReason: operationLocks(instance) },
        PublicIpAddress: { IpAddress: [] },
    };
}

/**
 * With `initializingAnswer: "ServiceUnavailable"`, a request naming an instance still in its
 * initialization window fails as a whole with 503 (what packer users see on fresh instances);
 * otherwise the model refuses such instances one by one with `IncorrectInstanceStatus.Initializing`.
 */
export function refuseWhileInitializing(ctx: ActionContext, region: string, ids: readonly string[]): void {
    if (ctx.model.settings().initializingAnswer !== "ServiceUnavailable") return;
    if (ids.some((id) => ctx.model.instanceIn(region, id) !== undefined && ctx.model.isInitializing(id))) throw errors.serviceUnavailable();
}

/** Tags as DescribeInstances and DescribeKeyPairs give them. */
export function tagsBody(tags: Readonly<Record<string, string>>) {
    return { Tag: Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) };
}
