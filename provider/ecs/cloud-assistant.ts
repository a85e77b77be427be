/**
 * The Cloud Assistant and public-key calls of online activation (issue 12), in the provider's own
 * vocabulary: DescribeCloudAssistantStatus, DescribeKeyPairs with IncludePublicKey, RunCommand and
 * DescribeInvocationResults. Each call goes through the gateway's `send` (the action's adaptive rate
 * limit, retries within the shared budget); the per-instance reads are merged across resources by
 * the gateway's coalescer, as DescribeInstances is.
 */
import * as ecs from "@alicloud/ecs20140526";
import type EcsClient from "@alicloud/ecs20140526";
import type * as dara from "@darabonba/typescript";
import type { Random } from "../clock";
import type { AuthorizedKeysCommand } from "../online/script";
import type { Coalescer } from "./coalesce";

/** DescribeCloudAssistantStatus: up to 50 results a page (MaxResults); ids asked for per call. */
export const CLOUD_ASSISTANT_STATUS_BATCH = 50;
/** RunCommand: 1–100 instances a call (InstanceId.N). */
export const RUN_COMMAND_BATCH = 100;
/** DescribeInvocationResults: MaxResults ≤ 50 a page. */
export const INVOCATION_RESULTS_PAGE = 50;

/** The statuses after which an instance's invocation changes no more (RunCommand / DescribeInvocationResults docs). */
export const FINISHED_INVOCATION_STATUSES: readonly string[] = [
    "Success",
    "Failed",
    "Error",
    "Timeout",
    "Invalid",
    "Aborted",
    "Cancelled",
    "Terminated",
];

/** One instance's result of one invocation, output decoded. */
export interface InvocationResult {
    instanceId: string;
    /** InvocationStatus: Pending, Running, Success, Failed, Error, Timeout, Invalid, Aborted, … */
    status: string;
    exitCode?: number;
    /** The command's output, decoded from Base64. */
    output: string;
    errorCode?: string;
    errorInfo?: string;
}

export interface RunCommandRequest {
    command: AuthorizedKeysCommand;
    instanceIds: readonly string[];
    timeoutSeconds: number;
    /** Says what the command is for, in the ECS console. */
    name: string;
}

/** What online activation needs from ECS. */
export interface CloudAssistantGateway {
    /** Instance → whether its Cloud Assistant agent is working (CloudAssistantStatus "true"). Absent: unknown to the API. */
    agentStatus(region: string, instanceIds: readonly string[]): Promise<Map<string, boolean>>;
    /** The key pair's public key (DescribeKeyPairs IncludePublicKey=true), or undefined when the key pair does not exist. */
    publicKey(region: string, keyPairName: string): Promise<string | undefined>;
    /** RunCommand (at most 100 instances); returns the InvokeId. Sent with a ClientToken, so that a retry runs it once. */
    runCommand(region: string, request: RunCommandRequest): Promise<string>;
    /** Every instance's result of an invocation, all pages read. */
    invocationResults(region: string, invokeId: string): Promise<Map<string, InvocationResult>>;
}

/** What the SDK gateway lends this module: its clients, its `send`, its runtime options and its coalescer factory. */
export interface CloudAssistantWiring {
    client(region: string): EcsClient;
    send<T>(action: string, call: () => Promise<T>): Promise<T>;
    runtime: dara.RuntimeOptions;
    coalescer<R>(action: string, maxBatch: number, send: (region: string, ids: string[]) => Promise<Map<string, R>>): Coalescer<string, R>;
    random: Random;
    /** Wraps a failed call's error so that it names the action and the instances. */
    callError(action: string, instanceIds: readonly string[], cause: unknown): Error;
}

function decodeBase64(text: string | undefined): string {
    return text ? Buffer.from(text, "base64").toString("utf8") : "";
}

export class SdkCloudAssistant implements CloudAssistantGateway {
    private readonly statusCoalescer: Coalescer<string, boolean>;
    private readonly publicKeyLookups = new Map<string, Promise<string | undefined>>();

    constructor(private readonly wiring: CloudAssistantWiring) {
        this.statusCoalescer = wiring.coalescer("DescribeCloudAssistantStatus", CLOUD_ASSISTANT_STATUS_BATCH, (region, ids) =>
            this.statusBatch(region, ids),
        );
    }

    async agentStatus(region: string, instanceIds: readonly string[]): Promise<Map<string, boolean>> {
        const settled = await this.statusCoalescer.request(region, instanceIds);
        const status = new Map<string, boolean>();
        const failed: string[] = [];
        let cause: unknown;
        for (const [instanceId, outcome] of settled) {
            if (!outcome.ok) {
                failed.push(instanceId);
                cause = outcome.error;
            } else if (outcome.value !== undefined) {
                status.set(instanceId, outcome.value);
            }
        }
        if (failed.length) throw this.wiring.callError("DescribeCloudAssistantStatus", failed, cause);
        return status;
    }

    private async statusBatch(region: string, batch: string[]): Promise<Map<string, boolean>> {
        const client = this.wiring.client(region);
        const status = new Map<string, boolean>();
        let nextToken: string | undefined;
        do {
            const request = new ecs.DescribeCloudAssistantStatusRequest({
                regionId: region,
                instanceId: batch,
                maxResults: CLOUD_ASSISTANT_STATUS_BATCH,
                nextToken,
            });
            const response = await this.wiring.send("DescribeCloudAssistantStatus", () =>
                client.describeCloudAssistantStatusWithOptions(request, this.wiring.runtime),
            );
            for (const entry of response.body?.instanceCloudAssistantStatusSet?.instanceCloudAssistantStatus ?? []) {
                // A string "true"/"false" in the API; accept a boolean too.
                if (entry.instanceId) status.set(entry.instanceId, String(entry.cloudAssistantStatus) === "true");
            }
            nextToken = response.body?.nextToken || undefined;
        } while (nextToken);
        return status;
    }

    /** Concurrent lookups of one key pair share a call; nothing is kept after it (a key pair may be re-imported). */
    publicKey(region: string, keyPairName: string): Promise<string | undefined> {
        const key = JSON.stringify([region, keyPairName]);
        const known = this.publicKeyLookups.get(key);
        if (known) return known;
        const lookup = this.describePublicKey(region, keyPairName).finally(() => this.publicKeyLookups.delete(key));
        this.publicKeyLookups.set(key, lookup);
        return lookup;
    }

    private async describePublicKey(region: string, keyPairName: string): Promise<string | undefined> {
        const request = new ecs.DescribeKeyPairsRequest({ regionId: region, keyPairName, includePublicKey: true, pageSize: 10 });
        try {
            const response = await this.wiring.send("DescribeKeyPairs", () =>
                this.wiring.client(region).describeKeyPairsWithOptions(request, this.wiring.runtime),
            );
            // A bare name is an exact match, but compare anyway: the API also does wildcard matching.
            const found = (response.body?.keyPairs?.keyPair ?? []).find((k) => k.keyPairName === keyPairName);
            if (!found) return undefined;
            if (!found.publicKey) {
                throw new Error(
                    `DescribeKeyPairs returned key pair "${keyPairName}" without its public key although IncludePublicKey was true`,
                );
            }
            return found.publicKey;
        } catch (error) {
            throw this.wiring.callError(`DescribeKeyPairs (public key of "${keyPairName}")`, [], error);
        }
    }

    async runCommand(region: string, request: RunCommandRequest): Promise<string> {
        if (request.instanceIds.length === 0 || request.instanceIds.length > RUN_COMMAND_BATCH) {
            throw new Error(`internal error: RunCommand takes 1–${RUN_COMMAND_BATCH} instances, got ${request.instanceIds.length}`);
        }
        // One token for every attempt of this request: ECS runs a request with a seen token once.
        const clientToken = `kpa-${this.wiring.random.hex(16)}`;
        const { command } = request;
        const sdkRequest = new ecs.RunCommandRequest({
            regionId: region,
            instanceId: [...request.instanceIds],
            type: command.type,
            commandContent: command.commandContent,
            contentEncoding: command.contentEncoding,
            enableParameter: command.enableParameter,
            parameters: { ...command.parameters },
            timeout: request.timeoutSeconds,
            repeatMode: "Once",
            keepCommand: false,
            name: request.name,
            clientToken,
        });
        try {
            const response = await this.wiring.send("RunCommand", () =>
                this.wiring.client(region).runCommandWithOptions(sdkRequest, this.wiring.runtime),
            );
            const invokeId = response.body?.invokeId;
            if (!invokeId) throw new Error(`RunCommand returned no InvokeId (request id ${response.body?.requestId})`);
            return invokeId;
        } catch (error) {
            throw this.wiring.callError("RunCommand", request.instanceIds, error);
        }
    }

    async invocationResults(region: string, invokeId: string): Promise<Map<string, InvocationResult>> {
        const client = this.wiring.client(region);
        const results = new Map<string, InvocationResult>();
        let nextToken: string | undefined;
        try {
            do {
                const request = new ecs.DescribeInvocationResultsRequest({
                    regionId: region,
                    invokeId,
                    contentEncoding: "Base64",
                    maxResults: INVOCATION_RESULTS_PAGE,
                    nextToken,
                });
                const response = await this.wiring.send("DescribeInvocationResults", () =>
                    client.describeInvocationResultsWithOptions(request, this.wiring.runtime),
                );
                const invocation = response.body?.invocation;
                for (const entry of invocation?.invocationResults?.invocationResult ?? []) {
                    if (!entry.instanceId) continue;
                    results.set(entry.instanceId, {
                        instanceId: entry.instanceId,
                        status: entry.invocationStatus ?? "Unknown",
                        exitCode: entry.exitCode === undefined || entry.exitCode === null ? undefined : Number(entry.exitCode),
                        output: decodeBase64(entry.output),
                        errorCode: entry.errorCode || undefined,
                        errorInfo: entry.errorInfo || undefined,
                    });
                }
                nextToken = invocation?.nextToken || undefined;
            } while (nextToken);
        } catch (error) {
            throw this.wiring.callError(`DescribeInvocationResults (invocation ${invokeId})`, [], error);
        }
        return results;
    }
}
