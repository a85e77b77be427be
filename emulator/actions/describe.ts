/** DescribeInstances, DescribeInstanceStatus (ecs-api.md §2.3, §2.4). */
import { errors } from "../errors";
import type { InstanceView } from "../model";
import { ecsMinuteTime, matchesWildcard } from "../params";
import { INSTANCE_STATUSES, type InstanceStatus } from "../seed";
import { type ActionBody, type ActionContext, INSTANCE_ID_MAX, commonInstanceFields, regionOf, tagsBody } from "./context";
import { cursorPage, numberedPage } from "./paging";

export function DescribeInstances(ctx: ActionContext): ActionBody {
    const region = regionOf(ctx);
    const ids = ctx.params.jsonStringArray("InstanceIds", errors.instanceIdsMalformed);
    if (ids && ids.length > INSTANCE_ID_MAX) throw errors.tooManyInstanceIds();
    const status = ctx.params.optional("Status");
    if (status !== undefined && !INSTANCE_STATUSES.includes(status as InstanceStatus)) {
        throw errors.statusNotFound(status);
    }
    const keyPairName = ctx.params.optional("KeyPairName");
    const namePattern = ctx.params.optional("InstanceName");
    const zoneId = ctx.params.optional("ZoneId");
    const tags = ctx.params.objectList("Tag", ["Key", "Value"] as const);
    const matching = ctx.model
        // Looked up by id when given; unknown ids are left out silently, not reported as errors (ecs-api.md §11).
        .describedInstances(region, ids)
        .filter((instance) => keyPairName === undefined || instance.keyPairName === keyPairName)
        .filter((instance) => status === undefined || instance.status === status)
        .filter((instance) => namePattern === undefined || matchesWildcard(namePattern, instance.name))
        .filter((instance) => zoneId === undefined || instance.zoneId === zoneId)
        .filter((instance) => tags.every((tag) => hasTag(instance.tags, tag)));

    const page = cursorPage(ctx.params, matching, { minResults: 10, maxResults: 100, maxPageSize: 100 });
    return { ...page.body, Instances: { Instance: page.items.map(describeInstancesItem) } };
}

function describeInstancesItem(instance: InstanceView) {
    return {
        ...commonInstanceFields(instance),
        OSType: instance.osType,
        OSName: osName(instance),
        OSNameEn: osName(instance),
        // REAL captures leave KeyPairName out entirely when no key pair is bound (§2.3).
        ...(instance.keyPairName !== undefined ? { KeyPairName: instance.keyPairName } : {}),
        IoOptimized: instance.ioOptimized,
        ImageId: instance.imageId,
        CreationTime: ecsMinuteTime(instance.creationTime),
        StartTime: ecsMinuteTime(instance.startTime),
        Tags: tagsBody(instance.tags),
    };
}

function osName(instance: InstanceView): string {
    return instance.osType === "windows" ? "Windows Server 2022 Datacenter 64-bit" : "Alibaba Cloud Linux 3.2104 LTS 64 bit";
}

export function DescribeInstanceStatus(ctx: ActionContext): ActionBody {
    const region = regionOf(ctx);
    const ids = ctx.params.repeatList("InstanceId");
    if (ids.length > INSTANCE_ID_MAX) throw errors.tooManyInstanceIds();
    const zoneId = ctx.params.optional("ZoneId");
    const matching = ctx.model
        .instances(region)
        .filter((instance) => ids.length === 0 || ids.includes(instance.id))
        .filter((instance) => zoneId === undefined || instance.zoneId === zoneId);
    const page = numberedPage(ctx.params, matching, 50);
    return {
        ...page.body,
        InstanceStatuses: {
            InstanceStatus: page.items.map((instance) => ({ InstanceId: instance.id, Status: instance.status })),
        },
    };
}

/** A `Tag.N` filter: the key must be there; the value too, when the filter gives one. */
function hasTag(tags: Readonly<Record<string, string>>, { Key, Value }: { Key?: string; Value?: string }): boolean {
    if (Key === undefined) return true;
    return Object.hasOwn(tags, Key) && (Value === undefined || tags[Key] === Value);
}
