/**
 * DescribeInstances without the SDK's response classes. The SDK signs and sends the call (the
 * client's own `callApi`, with the query and `Params` its `describeInstancesWithOptions` builds,
 * but the body handed over unread), and the plain JSON body is read here: casting every answer into model classes cost more CPU and
 * garbage than everything else a large fleet's run does (issue 14). Errors are the SDK's own, since
 * they come out of `callApi` unchanged.
 *
 * Field names are ECS's (PascalCase, as in `DescribeInstancesResponseBody.names()`). The body is
 * read defensively, as the SDK's cast would: missing fields are skipped, numbers and booleans may
 * come as strings.
 */
import type EcsClient from "@alicloud/ecs20140526";
import { $OpenApiUtil, OpenApiUtil } from "@alicloud/openapi-core";
import * as dara from "@darabonba/typescript";
import type { Readable } from "node:stream";
import type { InstanceFacts } from "./instance";

/** The fields of a DescribeInstances request the provider sets. */
export interface DescribeInstancesQuery {
    regionId: string;
    /** A JSON array of instance ids. */
    instanceIds?: string;
    keyPairName?: string;
    maxResults?: number;
    nextToken?: string;
}

/** What the provider reads of one page of DescribeInstances. */
export interface DescribeInstancesPage {
    instances: InstanceFacts[];
    nextToken?: string;
}

/** The part of DescribeInstances' JSON body that is read (any field may be missing or of another type). */
interface RawInstance {
    InstanceId?: unknown;
    Status?: unknown;
    OSType?: unknown;
    IoOptimized?: unknown;
    KeyPairName?: unknown;
    StartTime?: unknown;
    OperationLocks?: unknown;
    Tags?: unknown;
}

/** A string field as the SDK's cast reads it: numbers and booleans become strings, anything else is absent. */
function text(value: unknown): string | undefined {
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return value.toString();
    return undefined;
}

/** A boolean field as the SDK's cast reads it (true, "true" or 1). */
function flag(value: unknown): boolean {
    return value === true || value === "true" || value === 1;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null;
}

const NONE: readonly unknown[] = [];

/** The array's items (only objects are read), or none: read in place, never copied. */
function list(value: unknown): readonly unknown[] {
    return Array.isArray(value) ? (value as unknown[]) : NONE;
}

function field(value: unknown, name: string): unknown {
    return isObject(value) ? value[name] : undefined;
}

function instanceFacts(instanceId: string, instance: RawInstance): InstanceFacts {
    let lockedForSecurity = false;
    for (const lock of list(field(instance.OperationLocks, "LockReason"))) {
        if (isObject(lock) && text(lock.LockReason) === "security") lockedForSecurity = true;
    }
    const tags: Record<string, string> = {};
    for (const tag of list(field(instance.Tags, "Tag"))) {
        if (!isObject(tag)) continue;
        const key = text(tag.TagKey);
        if (key) tags[key] = text(tag.TagValue) ?? "";
    }
    return {
        instanceId,
        status: text(instance.Status) ?? "Unknown",
        osType: text(instance.OSType) ?? "linux",
        ioOptimized: flag(instance.IoOptimized),
        keyPairName: text(instance.KeyPairName) || undefined,
        lockedForSecurity,
        startTime: text(instance.StartTime) || undefined,
        tags,
    };
}

/** Reads one page of DescribeInstances' JSON body; instances without an id are skipped. */
export function readDescribeInstancesBody(body: unknown): DescribeInstancesPage {
    const instances: InstanceFacts[] = [];
    for (const instance of list(field(field(body, "Instances"), "Instance"))) {
        if (!isObject(instance)) continue;
        const instanceId = text(instance.InstanceId);
        if (instanceId) instances.push(instanceFacts(instanceId, instance));
    }
    return { instances, nextToken: text(field(body, "NextToken")) || undefined };
}

/** One DescribeInstances call, signed and sent by the SDK exactly as `describeInstancesWithOptions` would. */
export async function describeInstancesPage(
    client: EcsClient,
    fields: DescribeInstancesQuery,
    runtime: dara.RuntimeOptions,
): Promise<DescribeInstancesPage> {
    // The query in the SDK's order, with only the fields that are set.
    const query: Record<string, string | number> = {};
    if (fields.instanceIds !== undefined) query["InstanceIds"] = fields.instanceIds;
    if (fields.keyPairName !== undefined) query["KeyPairName"] = fields.keyPairName;
    if (fields.maxResults !== undefined) query["MaxResults"] = fields.maxResults;
    if (fields.nextToken !== undefined) query["NextToken"] = fields.nextToken;
    query["RegionId"] = fields.regionId;
    const request = new $OpenApiUtil.OpenApiRequest({ query: OpenApiUtil.query(query) });
    const params = new $OpenApiUtil.Params({
        action: "DescribeInstances",
        version: "2014-05-26",
        protocol: "HTTPS",
        pathname: "/",
        method: "POST",
        authType: "AK",
        style: "RPC",
        reqBodyType: "formData",
        // The SDK's "json" reads the body as below, but its text and parsed tree then wait in line
        // with every other answer arriving at the same time; read here, the text is parsed and the
        // facts taken from it in one step, and only the facts outlive it (issue 14).
        bodyType: "binary",
    });
    const response = await client.callApi(params, request, runtime);
    // Read as the SDK's readAsJSON reads it: the same bytes, text and errors (a page that is not JSON is a SyntaxError).
    const bytes = await dara.Stream.readAsBytes(response.body as Readable);
    return readDescribeInstancesBody(JSON.parse(bytes.toString()));
}
