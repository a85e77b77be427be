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
import { type Coalescer, splitSettled } from "./coalesce";
import {
    CLOUD_ASSISTANT_STATUS_BATCH,
    INVOCATION_RESULTS_PAGE,
    RUN_COMMAND_BATCH,
    type CloudAssistantGateway,
    type InvocationResult,
    type RunCommandRequest,
} from "./cloud-assistant-api";

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
        const { values: status, failed, cause } = splitSettled(await this.statusCoalescer.request(region, instanceIds));
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
