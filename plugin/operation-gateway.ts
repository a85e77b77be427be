/**
 * The gateway one operation of the plugin uses: the process's shared gateway, with two things the
 * engine asks of a plugin and the dynamic host cannot give. Cancel: once the engine has cancelled,
 * no new restart wave is sent — each reboot request after the Cancel is answered, without calling
 * ECS, as a per-instance failure, so the lifecycle's own partial-state path (restarts owed,
 * restartOwedInstanceIds) records them and the next `pulumi up` finishes them; the wave in flight
 * finishes. Progress: each batch of changes and each wave is reported as ephemeral status.
 */
import type { BatchResult, ChangeOptions, EcsGateway } from "../provider/ecs/gateway";
import type { InstanceFacts } from "../provider/ecs/instance";
import { describeIds } from "../provider/messages";

export const CANCELLED_CODE = "Cancelled";

export class Cancellation {
    private cancelledFlag = false;
    cancel(): void {
        this.cancelledFlag = true;
    }
    get cancelled(): boolean {
        return this.cancelledFlag;
    }
}

export class OperationGateway implements EcsGateway {
    private waves = 0;

    constructor(
        private readonly inner: EcsGateway,
        private readonly cancellation: Cancellation,
        private readonly progress: (message: string) => void,
    ) {}

    /** Online activation's calls, unchanged (a Cancel stops restart waves, not commands already sent). */
    get cloudAssistant(): EcsGateway["cloudAssistant"] {
        return this.inner.cloudAssistant;
    }

    describeInstances(region: string, instanceIds: readonly string[]): Promise<Map<string, InstanceFacts>> {
        return this.inner.describeInstances(region, instanceIds);
    }

    keyPairExists(region: string, keyPairName: string, options?: { fresh?: boolean }): Promise<boolean> {
        return this.inner.keyPairExists(region, keyPairName, options);
    }

    describeInstancesByKeyPair(region: string, keyPairName: string): Promise<Map<string, InstanceFacts>> {
        if (!this.inner.describeInstancesByKeyPair) throw new Error("This ECS gateway cannot list the instances of a key pair.");
        return this.inner.describeInstancesByKeyPair(region, keyPairName);
    }

    attachKeyPair(region: string, keyPairName: string, instanceIds: readonly string[], options?: ChangeOptions): Promise<BatchResult> {
        this.progress(`binding key pair "${keyPairName}" to ${describeIds(instanceIds)}`);
        return this.inner.attachKeyPair(region, keyPairName, instanceIds, options);
    }

    detachKeyPair(region: string, keyPairName: string, instanceIds: readonly string[], options?: ChangeOptions): Promise<BatchResult> {
        this.progress(`unbinding key pair "${keyPairName}" from ${describeIds(instanceIds)}`);
        return this.inner.detachKeyPair(region, keyPairName, instanceIds, options);
    }

    tagInstances(region: string, instanceIds: readonly string[], tags: Record<string, string>): Promise<void> {
        return this.inner.tagInstances(region, instanceIds, tags);
    }

    untagInstances(region: string, instanceIds: readonly string[], tagKeys: readonly string[]): Promise<void> {
        return this.inner.untagInstances(region, instanceIds, tagKeys);
    }

    setInstancePasswords(region: string, instanceIds: readonly string[], password: string): Promise<BatchResult> {
        this.progress(`setting passwordOnUnbind on ${describeIds(instanceIds)}`);
        return this.inner.setInstancePasswords(region, instanceIds, password);
    }

    async rebootInstances(region: string, instanceIds: readonly string[], force: boolean, options?: ChangeOptions): Promise<BatchResult> {
        if (this.cancellation.cancelled) {
            return {
                succeeded: [],
                failed: instanceIds.map((instanceId) => ({
                    instanceId,
                    code: CANCELLED_CODE,
                    message: "not restarted: the operation was cancelled before this restart wave (the next `pulumi up` restarts it)",
                })),
            };
        }
        this.waves += 1;
        this.progress(
            `restart wave ${this.waves}: ${force ? "force-" : ""}restarting ${describeIds(instanceIds)}, then waiting until they are Running`,
        );
        return this.inner.rebootInstances(region, instanceIds, force, options);
    }
}
