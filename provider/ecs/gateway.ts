/**
 * The only module that talks to the ECS SDK: batching to the API limits, NextToken paging, reading
 * per-instance results, retries. Callers see plain facts (`InstanceFacts`, `InstanceFailure`), never
 * the SDK's request or response classes.
 */
import Credential, { CLIProfileCredentialsProvider } from "@alicloud/credentials";
import EcsClient, * as ecs from "@alicloud/ecs20140526";
import { $OpenApiUtil } from "@alicloud/openapi-core";
import * as dara from "@darabonba/typescript";
import { ProviderSettings } from "../config";
import { chunk } from "../plan";
import { InstanceFacts, InstanceFailure } from "./instance";
import { DEFAULT_RETRY_OPTIONS, RetryOptions, errorCode, isNetworkError, withRetries } from "./retry";

// API limits (ecs-api.md §2, DESIGN §6).
export const ATTACH_DETACH_BATCH = 50;
export const DESCRIBE_INSTANCES_BATCH = 100;
export const REBOOT_BATCH = 100;

// Timeouts of one HTTP call, so that no call can wait forever (a hung connection is retried).
export const CONNECT_TIMEOUT_MS = 5_000;
export const READ_TIMEOUT_MS = 30_000;

/** Batches of one call sent at once: enough to hide latency, few enough not to trip throttling. */
const BATCH_CONCURRENCY = 4;

/** An ECS call that failed: names the action, the instances, the ECS code and the request id. */
export class EcsCallError extends Error {
    readonly code?: string;
    readonly requestId?: string;
    constructor(action: string, instanceIds: readonly string[], cause: unknown) {
        const code = errorCode(cause);
        const requestId = (cause as { data?: { RequestId?: string } })?.data?.RequestId;
        const detail = cause instanceof Error ? cause.message : String(cause);
        const subject = instanceIds.length ? ` for ${describeIds(instanceIds)}` : "";
        super(`ECS ${action}${subject} failed: ${detail}${requestId && !detail.includes(requestId) ? ` (request id ${requestId})` : ""}`);
        this.name = "EcsCallError";
        this.code = code;
        this.requestId = requestId;
    }
}

export function describeIds(ids: readonly string[], max = 20): string {
    return ids.length <= max ? ids.join(", ") : `${ids.slice(0, max).join(", ")} and ${ids.length - max} more`;
}

export interface BatchResult {
    succeeded: string[];
    failed: InstanceFailure[];
}

/** The ECS operations the provider needs, in its own vocabulary. */
export interface EcsGateway {
    describeInstances(region: string, instanceIds: readonly string[]): Promise<Map<string, InstanceFacts>>;
    keyPairExists(region: string, keyPairName: string): Promise<boolean>;
    attachKeyPair(region: string, keyPairName: string, instanceIds: readonly string[]): Promise<BatchResult>;
    detachKeyPair(region: string, keyPairName: string, instanceIds: readonly string[]): Promise<BatchResult>;
    rebootInstances(region: string, instanceIds: readonly string[], force: boolean): Promise<BatchResult>;
}

/** The SDK turns numbers and booleans into strings; accept both (DESIGN §6). */
function truthy(value: unknown): boolean {
    return value === true || value === "true";
}

async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
        while (next < items.length) {
            const index = next++;
            results[index] = await fn(items[index]);
        }
    });
    await Promise.all(workers);
    return results;
}

function mergeBatchResults(results: BatchResult[]): BatchResult {
    return { succeeded: results.flatMap((r) => r.succeeded), failed: results.flatMap((r) => r.failed) };
}

function createClient(settings: ProviderSettings, region: string): EcsClient {
    const config = new $OpenApiUtil.Config({ regionId: region });
    const credentials = settings.credentials;
    if (credentials.kind === "static") {
        config.accessKeyId = credentials.accessKeyId;
        config.accessKeySecret = credentials.accessKeySecret;
        if (credentials.securityToken) config.securityToken = credentials.securityToken;
    } else if (credentials.kind === "profile") {
        config.credential = new Credential(null, CLIProfileCredentialsProvider.builder().withProfileName(credentials.profile).build());
    } else {
        config.credential = new Credential();
    }
    if (settings.endpoint) {
        config.endpoint = settings.endpoint.host;
        config.protocol = settings.endpoint.protocol;
    }
    return new EcsClient(config);
}

export class SdkEcsGateway implements EcsGateway {
    private readonly clients = new Map<string, EcsClient>();
    private readonly runtime = new dara.RuntimeOptions({
        autoretry: false,
        connectTimeout: CONNECT_TIMEOUT_MS,
        readTimeout: READ_TIMEOUT_MS,
    });

    constructor(
        private readonly settings: ProviderSettings,
        private readonly retry: RetryOptions = DEFAULT_RETRY_OPTIONS,
    ) {}

    private client(region: string): EcsClient {
        let client = this.clients.get(region);
        if (!client) {
            client = createClient(this.settings, region);
            this.clients.set(region, client);
        }
        return client;
    }

    private async call<T>(action: string, instanceIds: readonly string[], send: () => Promise<T>): Promise<T> {
        try {
            return await withRetries(send, this.retry);
        } catch (error) {
            throw new EcsCallError(action, instanceIds, error);
        }
    }

    async describeInstances(region: string, instanceIds: readonly string[]): Promise<Map<string, InstanceFacts>> {
        const facts = new Map<string, InstanceFacts>();
        const client = this.client(region);
        const batches = chunk([...new Set(instanceIds)], DESCRIBE_INSTANCES_BATCH);
        await mapConcurrently(batches, BATCH_CONCURRENCY, async (batch) => {
            let nextToken: string | undefined;
            do {
                const request = new ecs.DescribeInstancesRequest({
                    regionId: region,
                    instanceIds: JSON.stringify(batch),
                    maxResults: DESCRIBE_INSTANCES_BATCH,
                    nextToken,
                });
                const response = await this.call("DescribeInstances", batch, () =>
                    client.describeInstancesWithOptions(request, this.runtime),
                );
                for (const instance of response.body?.instances?.instance ?? []) {
                    if (!instance.instanceId) continue;
                    facts.set(instance.instanceId, {
                        instanceId: instance.instanceId,
                        status: instance.status ?? "Unknown",
                        osType: instance.OSType ?? "linux",
                        ioOptimized: truthy(instance.ioOptimized),
                        keyPairName: instance.keyPairName || undefined,
                        lockedForSecurity: (instance.operationLocks?.lockReason ?? []).some((l) => l.lockReason === "security"),
                    });
                }
                nextToken = response.body?.nextToken || undefined;
            } while (nextToken);
        });
        return facts;
    }

    async keyPairExists(region: string, keyPairName: string): Promise<boolean> {
        const request = new ecs.DescribeKeyPairsRequest({ regionId: region, keyPairName, pageSize: 10 });
        const response = await this.call("DescribeKeyPairs", [], () =>
            this.client(region).describeKeyPairsWithOptions(request, this.runtime),
        );
        // A bare name is an exact match, but compare anyway: the API also does wildcard matching.
        return (response.body?.keyPairs?.keyPair ?? []).some((k) => k.keyPairName === keyPairName);
    }

    attachKeyPair(region: string, keyPairName: string, instanceIds: readonly string[]): Promise<BatchResult> {
        return this.keyPairBatches("AttachKeyPair", region, keyPairName, instanceIds);
    }

    detachKeyPair(region: string, keyPairName: string, instanceIds: readonly string[]): Promise<BatchResult> {
        return this.keyPairBatches("DetachKeyPair", region, keyPairName, instanceIds);
    }

    /**
     * AttachKeyPair and DetachKeyPair share their shape: at most 50 ids as a JSON array, per-instance
     * results inside an HTTP 200 (`FailCount`, `Results.Result[]`). Both are safe to send again.
     */
    private async keyPairBatches(
        action: "AttachKeyPair" | "DetachKeyPair",
        region: string,
        keyPairName: string,
        instanceIds: readonly string[],
    ): Promise<BatchResult> {
        const client = this.client(region);
        const results = await mapConcurrently(chunk(instanceIds, ATTACH_DETACH_BATCH), BATCH_CONCURRENCY, async (batch) => {
            const fields = { regionId: region, keyPairName, instanceIds: JSON.stringify(batch) };
            const response =
                action === "AttachKeyPair"
                    ? await this.call(action, batch, () => client.attachKeyPairWithOptions(new ecs.AttachKeyPairRequest(fields), this.runtime))
                    : await this.call(action, batch, () => client.detachKeyPairWithOptions(new ecs.DetachKeyPairRequest(fields), this.runtime));
            const requestId = response.body?.requestId;
            const entries = response.body?.results?.result ?? [];
            const result: BatchResult = { succeeded: [], failed: [] };
            for (const instanceId of batch) {
                const entry = entries.find((e) => e.instanceId === instanceId);
                if (entry && truthy(entry.success)) {
                    result.succeeded.push(instanceId);
                } else {
                    result.failed.push({
                        instanceId,
                        code: entry?.code ?? "NoResult",
                        message: `${entry?.message ?? `${action} returned no result for this instance`} (request id ${requestId})`,
                    });
                }
            }
            return result;
        });
        return mergeBatchResults(results);
    }

    /**
     * RebootInstances with per-instance results (BatchOptimization=SuccessFirst), at most 100 ids a
     * call. A reboot is never retried blindly: when the answer was lost (connection reset, timeout)
     * the request may have been carried out, so before sending it again the instances are described
     * and only those still Running are rebooted; the others count as rebooting.
     */
    async rebootInstances(region: string, instanceIds: readonly string[], force: boolean): Promise<BatchResult> {
        const client = this.client(region);
        const results = await mapConcurrently(chunk(instanceIds, REBOOT_BATCH), BATCH_CONCURRENCY, async (batch) => {
            let pending = [...batch];
            const alreadyRebooting: string[] = [];
            const send = async () => {
                const request = new ecs.RebootInstancesRequest({
                    regionId: region,
                    instanceId: pending,
                    forceReboot: force,
                    batchOptimization: "SuccessFirst",
                });
                return client.rebootInstancesWithOptions(request, this.runtime);
            };
            let response: ecs.RebootInstancesResponse | undefined;
            try {
                response = await withRetries(send, this.retry, {
                    beforeRetry: async (error) => {
                        if (!isNetworkError(error)) return "retry";
                        const facts = await this.describeInstances(region, pending);
                        const stillRunning = pending.filter((id) => facts.get(id)?.status === "Running");
                        alreadyRebooting.push(...pending.filter((id) => !stillRunning.includes(id)));
                        pending = stillRunning;
                        return pending.length ? "retry" : "stop";
                    },
                });
            } catch (error) {
                if (pending.length === 0) return { succeeded: alreadyRebooting, failed: [] };
                throw new EcsCallError("RebootInstances", pending, error);
            }
            const requestId = response.body?.requestId;
            const entries = response.body?.instanceResponses?.instanceResponse ?? [];
            const result: BatchResult = { succeeded: [...alreadyRebooting], failed: [] };
            for (const instanceId of pending) {
                const entry = entries.find((e) => e.instanceId === instanceId);
                // SuccessFirst reports "200" per instance; an older shape without entries means all accepted.
                if (!entry || entry.code === undefined || String(entry.code) === "200") result.succeeded.push(instanceId);
                else result.failed.push({ instanceId, code: String(entry.code), message: `${entry.message ?? "reboot refused"} (request id ${requestId})` });
            }
            return result;
        });
        return mergeBatchResults(results);
    }
}
