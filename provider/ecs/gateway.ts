/**
 * The only module that talks to the ECS SDK: batching to the API limits, NextToken paging, reading
 * per-instance results, retries. Callers see plain facts (`InstanceFacts`, `InstanceFailure`), never
 * the SDK's request or response classes.
 */
import Credential, { CLIProfileCredentialsProvider } from "@alicloud/credentials";
import EcsClient, * as ecs from "@alicloud/ecs20140526";
import { $OpenApiUtil } from "@alicloud/openapi-core";
import * as dara from "@darabonba/typescript";
import { Clock, Random, realClock, realRandom } from "../clock";
import { ProviderSettings } from "../config";
import { describeIds } from "../messages";
import type { CloudAssistantGateway } from "./cloud-assistant-api";
import { SdkCloudAssistant } from "./cloud-assistant";
import { chunk } from "../plan";
import { describeInstancesPage } from "./describe-instances";
import { InstanceFacts, InstanceFailure } from "./instance";
import { Coalescer, Settled, splitSettled } from "./coalesce";
import { RateLimiters } from "./rate-limiter";
import { ExplainedEcsError, explainEcsError } from "./explain-error";
import { RoundResult, untilReady } from "./readiness";
import {
    DEFAULT_RETRY_OPTIONS,
    INSTANCE_CAUSED_CODES,
    RetryOptions,
    classifyError,
    errorCode,
    errorMessage,
    isTimeout,
    isUnreadableAnswer,
    withRetries,
} from "./retry";

// API limits (ecs-api.md §2, DESIGN §6).
export const ATTACH_DETACH_BATCH = 50;
export const DESCRIBE_INSTANCES_BATCH = 100;
export const REBOOT_BATCH = 100;
/** TagResources / UntagResources: at most 50 resource ids and 20 tags (or tag keys) a call (ecs-api.md §12.3). */
export const TAG_RESOURCES_BATCH = 50;
export const TAGS_PER_CALL = 20;

// Timeouts of one HTTP call, so that no call can wait forever (a hung connection is retried).
export const CONNECT_TIMEOUT_MS = 5_000;
export const READ_TIMEOUT_MS = 30_000;

/**
 * Batches of one action in flight at once once ECS has throttled it (then the limiter's rate, if
 * higher, allows more). Until then every batch of a step is sent at once: neither ECS nor the SDK
 * caps concurrent calls, so a step costs one round trip at any fleet size.
 */
const BATCH_CONCURRENCY = 4;
/** Password resets in flight at once (one call per instance). */
const PASSWORD_CONCURRENCY = 4;
/**
 * Idle window, in milliseconds: a call waits for concurrent resources' requests to join it until
 * none arrived for this long (or the call is full)… Only while more than one resource operation
 * runs (`operation`): one alone has nobody to wait for. The 200 attachments of one `pulumi up`
 * reach a step in clumps a few milliseconds apart (each clump released by the answer of a shared
 * call); 5 ms and the coalescer's rule that the rest of a full batch keeps gathering turned their
 * 24–28 TagResources and AttachKeyPair calls into the minimum 20 (benchmark, issue 14), which under
 * a 20-a-second quota is the difference between throttling and none.
 */
export const COALESCE_WINDOW_MS = 5;
/** …but never longer than this in all, in milliseconds, while requests keep arriving. */
export const COALESCE_MAX_WAIT_MS = 50;
/** How often instances are looked at while deciding whether a timed-out reboot happened, in milliseconds. */
const REBOOT_WATCH_POLL_MS = 1_000;
/** How long a key pair seen to exist is believed, in milliseconds. */
const KEY_PAIR_EXISTS_TTL_MS = 10_000;

/** An ECS call that failed: names the action, the instances, the ECS code and the request id. */
export class EcsCallError extends Error {
    readonly code?: string;
    readonly requestId?: string;
    constructor(action: string, instanceIds: readonly string[], cause: unknown) {
        const code = errorCode(cause);
        const requestId = (cause as { data?: { RequestId?: string } })?.data?.RequestId;
        const detail = errorMessage(cause);
        const subject = instanceIds.length ? ` for ${describeIds(instanceIds)}` : "";
        super(
            `ECS ${action}${subject} failed: ${detail}${requestId && !detail.includes(requestId) ? ` (request id ${requestId})` : ""}.` +
                (cause instanceof ExplainedEcsError
                    ? ""
                    : " It was retried where retrying is safe; fix what the ECS code names (credentials, permissions, region, endpoint) and run again."),
        );
        this.name = "EcsCallError";
        this.code = code;
        this.requestId = requestId;
    }
}

export interface BatchResult {
    succeeded: string[];
    failed: InstanceFailure[];
}

/** How a change is sent to instances that may be fresh (see readiness.ts). */
export interface ChangeOptions {
    /** Wait out "not ready" answers this long, in milliseconds; default 0 (send once). */
    readyWithinMs?: number;
}

/** The ECS operations the provider needs, in its own vocabulary. */
export interface EcsGateway {
    describeInstances(region: string, instanceIds: readonly string[]): Promise<Map<string, InstanceFacts>>;
    /** `fresh`: ask ECS now (a refresh must see a deletion), instead of a recent answer. */
    keyPairExists(region: string, keyPairName: string, options?: { fresh?: boolean }): Promise<boolean>;
    attachKeyPair(region: string, keyPairName: string, instanceIds: readonly string[], options?: ChangeOptions): Promise<BatchResult>;
    detachKeyPair(region: string, keyPairName: string, instanceIds: readonly string[], options?: ChangeOptions): Promise<BatchResult>;
    /** Never resent blindly: before sending again, the instances are described and only those still Running and not started since are sent. */
    rebootInstances(region: string, instanceIds: readonly string[], force: boolean, options?: ChangeOptions): Promise<BatchResult>;
    /** TagResources on instances (batched to the API limits); throws EcsCallError, e.g. with Forbidden / NoPermission. */
    tagInstances(region: string, instanceIds: readonly string[], tags: Record<string, string>): Promise<void>;
    /** UntagResources on instances (batched to the API limits). */
    untagInstances(region: string, instanceIds: readonly string[], tagKeys: readonly string[]): Promise<void>;
    /** ModifyInstanceAttribute(Password), one call per instance (there is no batch form). */
    setInstancePasswords(region: string, instanceIds: readonly string[], password: string): Promise<BatchResult>;
    /** Online activation's calls (cloud-assistant.ts), under the same rate limits, retries and coalescing. */
    readonly cloudAssistant: CloudAssistantGateway;
    /**
     * Runs one resource operation (a hook), counted while it runs: a request waits for other
     * resources' requests to join its call only while more than one operation is running.
     * Optional, so that test gateways need not have it.
     */
    operation?<T>(run: () => Promise<T>): Promise<T>;
    /** Every instance of the region holding the key pair (for import); optional, so that test gateways need not have it. */
    describeInstancesByKeyPair?(region: string, keyPairName: string): Promise<Map<string, InstanceFacts>>;
}

/** The SDK turns numbers and booleans into strings; accept both (DESIGN §6). */
function truthy(value: unknown): boolean {
    return value === true || value === "true";
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

type BatchOutcome = "ok" | InstanceFailure;

/** The code of a gateway's page that is not JSON (an HTML 502/504): no ECS code came back. */
export const UNREADABLE_ANSWER_CODE = "UnreadableAnswer";

/** A request-level error of one batch becomes a failure of each of its instances, so a partial result is never lost. */
function batchFailure(error: unknown): Omit<InstanceFailure, "instanceId"> {
    const message = errorMessage(error);
    if (isUnreadableAnswer(error)) {
        return { code: UNREADABLE_ANSWER_CODE, message: `the answer was not an ECS response (a gateway's error page?): ${message}` };
    }
    return { code: errorCode(error) ?? "RequestFailed", message };
}

/** Throws the first request-level error among the settled items, naming the instances it failed. */
function throwIfAnyFailed(action: string, settled: Map<string, Settled<unknown>>): void {
    const failed: string[] = [];
    let first: unknown;
    for (const [id, outcome] of settled) {
        if (outcome.ok) continue;
        if (failed.length === 0) first = outcome.error;
        failed.push(id);
    }
    if (failed.length) throw new EcsCallError(action, failed, first);
}

/** Instance ids that a request-level error names in its message (ECS puts the id in parentheses). */
function namedInstances(error: unknown, instanceIds: readonly string[]): string[] {
    const message = errorMessage(error);
    return instanceIds.filter((id) => new RegExp(`\\b${id}\\b`).test(message));
}

/** The reboot reached the instance: it left Running, is gone, or has started again since `startTimeBefore`. */
function rebootedSince(facts: InstanceFacts | undefined, startTimeBefore: string | undefined): boolean {
    if (!facts || facts.status !== "Running") return true;
    return startTimeBefore !== undefined && facts.startTime !== undefined && facts.startTime !== startTimeBefore;
}

function toBatchResult(instanceIds: readonly string[], settled: Map<string, Settled<BatchOutcome>>): BatchResult {
    const result: BatchResult = { succeeded: [], failed: [] };
    for (const instanceId of instanceIds) {
        const outcome = settled.get(instanceId);
        if (outcome?.ok && outcome.value === "ok") result.succeeded.push(instanceId);
        else if (outcome?.ok && outcome.value) result.failed.push(outcome.value as InstanceFailure);
        else if (outcome && !outcome.ok) result.failed.push({ instanceId, ...batchFailure(outcome.error) });
        else result.failed.push({ instanceId, code: "NoResult", message: "the API returned no result for this instance" });
    }
    return result;
}

/**
 * One gateway serves every resource of a provider process. Concurrent requests of one action are
 * merged into shared calls (up to the API's batch limit), each action has an adaptive rate limit,
 * and retries draw on one budget — so 200 attachments in one `pulumi up` cost about what one
 * attachment of the same 1000 instances costs.
 */
export interface CallTimeouts {
    connectTimeoutMs: number;
    readTimeoutMs: number;
}

export interface GatewayOptions {
    /** Default: DEFAULT_RETRY_OPTIONS. */
    retry?: RetryOptions;
    /** Default: CONNECT_TIMEOUT_MS and READ_TIMEOUT_MS. */
    timeouts?: CallTimeouts;
    /** Drives the coalescing window, the rate limits, the reboot watch and the key pair cache. Default: realClock. */
    clock?: Clock;
    /** The coalescing idle window. Default: COALESCE_WINDOW_MS (the longest wait: COALESCE_MAX_WAIT_MS, or this if longer). */
    coalesceWindowMs?: number;
    /** RunCommand's client tokens. Default: realRandom. */
    random?: Random;
    /** First wait before fresh instances are sent a change again, in milliseconds. Default: READINESS_BASE_DELAY_MS. */
    readinessDelayMs?: number;
}

/** A key pair lookup, shared while in flight and believed until `expiresAt` once it said "exists". */
interface KeyPairLookup {
    exists: Promise<boolean>;
    expiresAt: number;
}

export class SdkEcsGateway implements EcsGateway {
    private readonly clients = new Map<string, EcsClient>();
    private readonly runtime: dara.RuntimeOptions;
    private readonly retry: RetryOptions;
    private readonly timeouts: CallTimeouts;
    private readonly clock: Clock;
    private readonly limiters: RateLimiters;
    private readonly readinessDelayMs?: number;
    private readonly keyPairLookups = new Map<string, KeyPairLookup>();
    /** The StartTime DescribeInstances showed last, per instance: what a lost reboot is compared against. */
    private readonly startTimes = new Map<string, string>();
    private readonly describeCoalescer: Coalescer<string, InstanceFacts>;
    private readonly keyPairCoalescer: Coalescer<string, BatchOutcome>;
    private readonly rebootCoalescer: Coalescer<string, BatchOutcome>;
    readonly cloudAssistant: CloudAssistantGateway;
    /** Tagging of concurrent resources shares calls too: the notes of 200 attachments cost a few calls, not 200. */
    private readonly tagCoalescer: Coalescer<string, true>;
    /** Resource operations running (operation()); undefined until the first, e.g. when the gateway is used on its own. */
    private operations?: number;
    /** ECS calls sent and not yet answered (send()). */
    private callsInFlight = 0;

    constructor(
        private readonly settings: ProviderSettings,
        options: GatewayOptions = {},
    ) {
        const timeouts = options.timeouts ?? { connectTimeoutMs: CONNECT_TIMEOUT_MS, readTimeoutMs: READ_TIMEOUT_MS };
        this.retry = options.retry ?? DEFAULT_RETRY_OPTIONS;
        this.timeouts = timeouts;
        this.clock = options.clock ?? realClock;
        this.limiters = new RateLimiters(this.clock);
        this.readinessDelayMs = options.readinessDelayMs;
        const windowMs = options.coalesceWindowMs ?? COALESCE_WINDOW_MS;
        this.runtime = new dara.RuntimeOptions({
            autoretry: false,
            connectTimeout: timeouts.connectTimeoutMs,
            readTimeout: timeouts.readTimeoutMs,
        });
        const coalescer = <R>(
            action: (key: string) => string,
            maxBatch: number,
            send: (key: string, ids: string[]) => Promise<Map<string, R>>,
            isolateInstanceErrors = false,
        ) =>
            new Coalescer<string, R>(
                {
                    maxBatch,
                    // One operation alone has nobody to wait for: its requests go at once.
                    windowMs: () => (this.operations === 1 ? 0 : windowMs),
                    maxWaitMs: Math.max(windowMs, COALESCE_MAX_WAIT_MS),
                    concurrency: (key) => {
                        const rate = this.limiters.for(action(key)).rate();
                        return Number.isFinite(rate) ? Math.max(BATCH_CONCURRENCY, Math.floor(rate)) : Infinity;
                    },
                    ready: (key) => this.limiters.for(action(key)).ready(),
                    busy: () => this.callsInFlight > 0,
                    clock: this.clock,
                    isolate: isolateInstanceErrors ? (error) => INSTANCE_CAUSED_CODES.includes(errorCode(error) ?? "") : undefined,
                    culprits: namedInstances,
                },
                send,
            );
        this.describeCoalescer = coalescer(
            () => "DescribeInstances",
            DESCRIBE_INSTANCES_BATCH,
            (region, ids) => this.describeBatch(region, ids),
        );
        this.keyPairCoalescer = coalescer(
            (key) => (JSON.parse(key) as [string])[0],
            ATTACH_DETACH_BATCH,
            (key, ids) => {
                const [action, region, keyPairName] = JSON.parse(key) as ["AttachKeyPair" | "DetachKeyPair", string, string];
                return this.keyPairBatch(action, region, keyPairName, ids);
            },
            true,
        );
        this.tagCoalescer = coalescer(
            (key) => (JSON.parse(key) as [string])[0],
            TAG_RESOURCES_BATCH,
            (key, ids) => this.tagBatch(key, ids),
        );
        this.rebootCoalescer = coalescer(
            () => "RebootInstances",
            REBOOT_BATCH,
            (key, ids) => {
                const [region, force] = JSON.parse(key) as [string, boolean];
                return this.rebootBatch(region, ids, force);
            },
        );
        this.cloudAssistant = new SdkCloudAssistant({
            client: (region) => this.client(region),
            send: (action, call) => this.send(action, call),
            runtime: this.runtime,
            coalescer: (action, maxBatch, send) => coalescer(() => action, maxBatch, send),
            random: options.random ?? realRandom,
            callError: (action, instanceIds, cause) => new EcsCallError(action, instanceIds, cause),
        });
    }

    async operation<T>(run: () => Promise<T>): Promise<T> {
        this.operations = (this.operations ?? 0) + 1;
        try {
            return await run();
        } finally {
            this.operations -= 1;
        }
    }

    /** Builds the region's client ahead of the first call (configure() does, for the default region). */
    prepare(region: string): void {
        this.client(region);
    }

    private client(region: string): EcsClient {
        let client = this.clients.get(region);
        if (!client) {
            client = createClient(this.settings, region);
            this.clients.set(region, client);
        }
        return client;
    }

    /** One API call: waits for the action's rate limit, retries within the shared budget, teaches the limiter. */
    private send<T>(action: string, send: () => Promise<T>, hooks: Parameters<typeof withRetries>[2] = {}): Promise<T> {
        const limiter = this.limiters.for(action);
        return withRetries(
            async () => {
                await limiter.acquire();
                this.callsInFlight++;
                try {
                    const result = await send();
                    limiter.onSuccess();
                    return result;
                } catch (error) {
                    if (classifyError(error) === "throttling") limiter.onThrottled();
                    throw error;
                } finally {
                    this.callsInFlight--;
                }
            },
            this.retry,
            hooks,
        );
    }

    async describeInstances(region: string, instanceIds: readonly string[]): Promise<Map<string, InstanceFacts>> {
        const { values: facts, failed, cause } = splitSettled(await this.describeCoalescer.request(region, instanceIds));
        if (failed.length)
            throw new EcsCallError("DescribeInstances", failed, explainEcsError(cause, this.settings, region, "DescribeInstances"));
        return facts;
    }

    private async describeBatch(region: string, batch: string[]): Promise<Map<string, InstanceFacts>> {
        const facts = new Map<string, InstanceFacts>();
        const client = this.client(region);
        const instanceIds = JSON.stringify(batch);
        let nextToken: string | undefined;
        do {
            const fields = { regionId: region, instanceIds, maxResults: DESCRIBE_INSTANCES_BATCH, nextToken };
            const page = await this.send("DescribeInstances", () => describeInstancesPage(client, fields, this.runtime));
            for (const instance of page.instances) {
                facts.set(instance.instanceId, instance);
                if (instance.startTime) this.startTimes.set(instance.instanceId, instance.startTime);
            }
            nextToken = page.nextToken;
        } while (nextToken);
        return facts;
    }

    /** Every instance of the region that holds the key pair now (DescribeInstances with KeyPairName, paged): for import. */
    async describeInstancesByKeyPair(region: string, keyPairName: string): Promise<Map<string, InstanceFacts>> {
        const facts = new Map<string, InstanceFacts>();
        const client = this.client(region);
        let nextToken: string | undefined;
        try {
            do {
                const fields = { regionId: region, keyPairName, maxResults: DESCRIBE_INSTANCES_BATCH, nextToken };
                const page = await this.send("DescribeInstances", () => describeInstancesPage(client, fields, this.runtime));
                for (const instance of page.instances) {
                    // Compared anyway, as for DescribeKeyPairs: only an exact holder of the key counts.
                    if (instance.keyPairName === keyPairName) facts.set(instance.instanceId, instance);
                }
                nextToken = page.nextToken;
            } while (nextToken);
        } catch (error) {
            throw new EcsCallError(`DescribeInstances (instances holding key pair "${keyPairName}")`, [], error);
        }
        return facts;
    }

    /**
     * Concurrent lookups of the same key pair share one DescribeKeyPairs call, and a key pair seen to
     * exist is believed for a few seconds (the attachments of one `pulumi up` start over a short
     * span). A key pair deleted meanwhile makes AttachKeyPair fail with InvalidKeyPairName.NotFound.
     */
    keyPairExists(region: string, keyPairName: string, options: { fresh?: boolean } = {}): Promise<boolean> {
        const key = JSON.stringify([region, keyPairName]);
        const known = this.keyPairLookups.get(key);
        if (known && !options.fresh && this.clock.now() < known.expiresAt) return known.exists;
        const lookup: KeyPairLookup = { exists: this.describeKeyPair(region, keyPairName), expiresAt: Infinity };
        this.keyPairLookups.set(key, lookup);
        // Only "exists" is believed for a while; "missing" and errors are asked again next time.
        const forget = () => {
            if (this.keyPairLookups.get(key) === lookup) this.keyPairLookups.delete(key);
        };
        lookup.exists.then((exists) => (exists ? (lookup.expiresAt = this.clock.now() + KEY_PAIR_EXISTS_TTL_MS) : forget()), forget);
        return lookup.exists;
    }

    private async describeKeyPair(region: string, keyPairName: string): Promise<boolean> {
        const request = new ecs.DescribeKeyPairsRequest({ regionId: region, keyPairName, pageSize: 10 });
        try {
            const response = await this.send("DescribeKeyPairs", () =>
                this.client(region).describeKeyPairsWithOptions(request, this.runtime),
            );
            // A bare name is an exact match, but compare anyway: the API also does wildcard matching.
            return (response.body?.keyPairs?.keyPair ?? []).some((k) => k.keyPairName === keyPairName);
        } catch (error) {
            throw new EcsCallError(
                `DescribeKeyPairs (key pair "${keyPairName}")`,
                [],
                explainEcsError(error, this.settings, region, "DescribeKeyPairs"),
            );
        }
    }

    attachKeyPair(region: string, keyPairName: string, instanceIds: readonly string[], options: ChangeOptions = {}): Promise<BatchResult> {
        return this.keyPairChange("AttachKeyPair", region, keyPairName, instanceIds, options);
    }

    detachKeyPair(region: string, keyPairName: string, instanceIds: readonly string[], options: ChangeOptions = {}): Promise<BatchResult> {
        return this.keyPairChange("DetachKeyPair", region, keyPairName, instanceIds, options);
    }

    private keyPairChange(
        action: "AttachKeyPair" | "DetachKeyPair",
        region: string,
        keyPairName: string,
        instanceIds: readonly string[],
        options: ChangeOptions,
    ): Promise<BatchResult> {
        const key = JSON.stringify([action, region, keyPairName]);
        return this.untilReady(instanceIds, options, async (ids) => toBatchResult(ids, await this.keyPairCoalescer.request(key, ids)));
    }

    private untilReady(instanceIds: readonly string[], options: ChangeOptions, round: (ids: readonly string[]) => Promise<RoundResult>) {
        return untilReady(instanceIds, round, {
            windowMs: options.readyWithinMs ?? 0,
            clock: this.clock,
            random: this.retry.random,
            baseDelayMs: this.readinessDelayMs,
        });
    }

    /**
     * AttachKeyPair and DetachKeyPair share their shape: at most 50 ids as a JSON array, per-instance
     * results inside an HTTP 200 (`FailCount`, `Results.Result[]`). Both are safe to send again.
     */
    private async keyPairBatch(
        action: "AttachKeyPair" | "DetachKeyPair",
        region: string,
        keyPairName: string,
        batch: string[],
    ): Promise<Map<string, BatchOutcome>> {
        const client = this.client(region);
        const fields = { regionId: region, keyPairName, instanceIds: JSON.stringify(batch) };
        const response =
            action === "AttachKeyPair"
                ? await this.send(action, () => client.attachKeyPairWithOptions(new ecs.AttachKeyPairRequest(fields), this.runtime))
                : await this.send(action, () => client.detachKeyPairWithOptions(new ecs.DetachKeyPairRequest(fields), this.runtime));
        const requestId = response.body?.requestId;
        const entries = new Map((response.body?.results?.result ?? []).map((e) => [e.instanceId, e]));
        const outcomes = new Map<string, BatchOutcome>();
        for (const instanceId of batch) {
            const entry = entries.get(instanceId);
            outcomes.set(
                instanceId,
                entry && truthy(entry.success)
                    ? "ok"
                    : {
                          instanceId,
                          code: entry?.code ?? "NoResult",
                          message: `${entry?.message ?? `${action} returned no result for this instance`} (request id ${requestId})`,
                      },
            );
        }
        return outcomes;
    }

    async setInstancePasswords(region: string, instanceIds: readonly string[], password: string): Promise<BatchResult> {
        const client = this.client(region);
        const result: BatchResult = { succeeded: [], failed: [] };
        let next = 0;
        const worker = async () => {
            while (next < instanceIds.length) {
                const instanceId = instanceIds[next++];
                const request = new ecs.ModifyInstanceAttributeRequest({ instanceId, password });
                try {
                    await this.send("ModifyInstanceAttribute", () => client.modifyInstanceAttributeWithOptions(request, this.runtime));
                    result.succeeded.push(instanceId);
                } catch (error) {
                    // The SDK's message never contains the request's parameters, so the password stays out of it.
                    result.failed.push({ instanceId, ...batchFailure(error) });
                }
            }
        };
        await Promise.all(Array.from({ length: Math.min(PASSWORD_CONCURRENCY, instanceIds.length) }, worker));
        return result;
    }

    rebootInstances(region: string, instanceIds: readonly string[], force: boolean, options: ChangeOptions = {}): Promise<BatchResult> {
        const startTimeBefore = new Map(instanceIds.map((id) => [id, this.startTimes.get(id)]));
        let first = true;
        return this.untilReady(instanceIds, options, async (ids) => {
            // A resend (after a refusal or a lost answer) goes only to the instances still Running and not started since.
            let reached: string[] = [];
            if (!first) {
                const facts = await this.describeInstances(region, ids);
                reached = ids.filter((id) => rebootedSince(facts.get(id), startTimeBefore.get(id)));
            }
            first = false;
            const reachedIds = new Set(reached);
            const send = ids.filter((id) => !reachedIds.has(id));
            const result = toBatchResult(send, await this.rebootCoalescer.request(JSON.stringify([region, force]), send));
            return { succeeded: [...reached, ...result.succeeded], failed: result.failed };
        });
    }

    async tagInstances(region: string, instanceIds: readonly string[], tags: Record<string, string>): Promise<void> {
        throwIfAnyFailed("TagResources", await this.tagCoalescer.request(JSON.stringify(["TagResources", region, tags]), instanceIds));
    }

    async untagInstances(region: string, instanceIds: readonly string[], tagKeys: readonly string[]): Promise<void> {
        throwIfAnyFailed(
            "UntagResources",
            await this.tagCoalescer.request(JSON.stringify(["UntagResources", region, tagKeys]), instanceIds),
        );
    }

    /** One TagResources or UntagResources call per 50 ids, the tags (or keys) in parts of 20. */
    private async tagBatch(key: string, ids: string[]): Promise<Map<string, true>> {
        const [action, region, what] = JSON.parse(key) as
            ["TagResources", string, Record<string, string>] | ["UntagResources", string, string[]];
        const client = this.client(region);
        const common = { regionId: region, resourceType: "instance", resourceId: ids };
        if (action === "TagResources") {
            for (const part of chunk(Object.entries(what), TAGS_PER_CALL)) {
                const tag = part.map(([k, value]) => new ecs.TagResourcesRequestTag({ key: k, value }));
                const request = new ecs.TagResourcesRequest({ ...common, tag });
                await this.send(action, () => client.tagResourcesWithOptions(request, this.runtime));
            }
        } else {
            for (const tagKey of chunk(what, TAGS_PER_CALL)) {
                const request = new ecs.UntagResourcesRequest({ ...common, tagKey });
                await this.send(action, () => client.untagResourcesWithOptions(request, this.runtime));
            }
        }
        return new Map(ids.map((id) => [id, true]));
    }

    /**
     * RebootInstances with per-instance results (BatchOptimization=SuccessFirst), at most 100 ids a
     * call. A reboot is never resent blindly: after any failed or unanswered call (an error status, a
     * gateway's page, a reset connection, a timeout) the request may have been carried out, so before
     * it is sent again — and before the backoff, while a reboot that happened is still visible — the
     * instances are described (right away; for up to one read timeout after a timeout), and only
     * those still Running with the StartTime seen before are rebooted again; the others count as
     * rebooting. RebootInstances has no idempotency token, so a request delayed longer than that
     * window can still reboot twice.
     */
    private async rebootBatch(region: string, batch: string[], force: boolean): Promise<Map<string, BatchOutcome>> {
        const client = this.client(region);
        const startTimeBefore = new Map(batch.map((id) => [id, this.startTimes.get(id)]));
        let pending = [...batch];
        const outcomes = new Map<string, BatchOutcome>();
        const settleReached = async (watchUntil: number) => {
            for (;;) {
                const facts = await this.describeBatch(region, pending);
                for (const id of pending) if (rebootedSince(facts.get(id), startTimeBefore.get(id))) outcomes.set(id, "ok");
                pending = pending.filter((id) => !outcomes.has(id));
                if (pending.length === 0 || this.clock.now() >= watchUntil) return;
                await this.clock.sleep(Math.min(REBOOT_WATCH_POLL_MS, this.timeouts.readTimeoutMs / 10, watchUntil - this.clock.now()));
            }
        };
        let response: ecs.RebootInstancesResponse;
        try {
            response = await this.send(
                "RebootInstances",
                () =>
                    client.rebootInstancesWithOptions(
                        new ecs.RebootInstancesRequest({
                            regionId: region,
                            instanceId: pending,
                            forceReboot: force,
                            batchOptimization: "SuccessFirst",
                        }),
                        this.runtime,
                    ),
                {
                    beforeRetry: async (error) => {
                        await settleReached(this.clock.now() + (isTimeout(error) ? this.timeouts.readTimeoutMs : 0));
                        return pending.length ? "retry" : "stop";
                    },
                },
            );
        } catch (error) {
            // The last answer failed too. Unless ECS refused the request outright, it may have been
            // carried out: what reached an instance counts as rebooting, the rest failed.
            if (pending.length && classifyError(error) !== "fatal") await settleReached(this.clock.now()).catch(() => undefined);
            for (const instanceId of pending) outcomes.set(instanceId, { instanceId, ...batchFailure(error) });
            return outcomes;
        }
        const requestId = response.body?.requestId;
        const entries = new Map((response.body?.instanceResponses?.instanceResponse ?? []).map((e) => [e.instanceId, e]));
        for (const instanceId of pending) {
            const entry = entries.get(instanceId);
            // SuccessFirst reports "200" per instance; a response without entries accepted them all.
            const accepted = !entry || entry.code === undefined || String(entry.code) === "200";
            outcomes.set(
                instanceId,
                accepted
                    ? "ok"
                    : { instanceId, code: String(entry.code), message: `${entry.message ?? "reboot refused"} (request id ${requestId})` },
            );
        }
        return outcomes;
    }
}
