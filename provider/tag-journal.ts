/**
 * The write-ahead record of owed restarts, kept in ECS itself so that it survives the machine: most
 * production runs happen on ephemeral CI runners, and a runner lost in the middle of a rolling
 * restart (job timeout, preemption) takes a local journal with it (issue 11).
 *
 * Before AttachKeyPair, every Running instance about to be bound is tagged
 * `pulumi-kpa:restart-owed = <key pair>@<StartTime>` (TagResources). The StartTime is the value
 * DescribeInstances showed then (real ECS gives it to the minute, so the value is compared, never
 * the clock). The next run, on any machine, reads the tags back from the DescribeInstances it makes
 * anyway: an instance whose tag names the key pair it still holds and whose StartTime is unchanged
 * has not restarted since, so its restart is owed; one whose StartTime moved has restarted (its new
 * key is in effect) and one that holds another key owes nothing for this one: those are only
 * untagged. Tags are removed (UntagResources) once each restart is done or recorded in the Pulumi
 * state. The note names the key pair, not the resource id: an interrupted create is created again
 * with a new id.
 *
 * Where tagging is refused (the credentials lack ecs:TagResources), the local journal is used
 * instead, and the provider says so once.
 */
import { createHash } from "crypto";

import type { EcsGateway } from "./ecs/gateway";
import type { InstanceFacts } from "./ecs/instance";
import { errorCode, errorMessage } from "./ecs/retry";
import type { RestartJournal } from "./journal";

/** Every tag the provider writes starts with this prefix (documented in docs/real-ecs.md). */
export const TAG_PREFIX = "pulumi-kpa:";
export const RESTART_OWED_TAG = `${TAG_PREFIX}restart-owed`;
/** Key pair names longer than this are named by a digest, so that a value stays within ECS's 128 characters. */
const KEY_PAIR_LABEL_MAX_LENGTH = 100;

function keyPairLabel(keyPairName: string): string {
    if (keyPairName.length <= KEY_PAIR_LABEL_MAX_LENGTH) return keyPairName;
    return `sha256-${createHash("sha256").update(keyPairName).digest("hex").slice(0, 40)}`;
}

/** `<key pair>@<StartTime>` (key pair names cannot contain "@"). */
export function restartOwedTagValue(keyPairName: string, startTime: string | undefined): string {
    return `${keyPairLabel(keyPairName)}@${startTime ?? ""}`;
}

/**
 * What the note on one instance means for this key pair: `owed` (restart it), `stale` (it has
 * restarted since, or no longer holds the key the note names: only untag it), or undefined (no
 * note, or a note another key pair's run will read).
 */
export function readRestartOwedTag(keyPairName: string, facts: InstanceFacts | undefined): "owed" | "stale" | undefined {
    const value = facts?.tags?.[RESTART_OWED_TAG];
    if (value === undefined || !facts) return undefined;
    const notedKeyPair = value.slice(0, value.lastIndexOf("@"));
    const holds = facts.keyPairName !== undefined && keyPairLabel(facts.keyPairName) === notedKeyPair;
    if (notedKeyPair !== keyPairLabel(keyPairName)) return holds ? undefined : "stale";
    return holds && value === restartOwedTagValue(keyPairName, facts.startTime) ? "owed" : "stale";
}

// Codes ECS gives when the credentials may not call an action (RAM): then the local journal it is.
const NOT_PERMITTED_CODES = /^(Forbidden|NoPermission)/;

export class EcsTagRestartJournal implements RestartJournal {
    /** Instances carrying this process's notes, or seen carrying one: what settle untags. */
    private readonly tagged = new Set<string>();
    private fallbackSaid = false;

    constructor(
        private readonly gateway: EcsGateway,
        /** Used where tagging is refused, and still read: a run before this version may have left notes there. */
        private readonly fallback: RestartJournal,
        private readonly log: (line: string) => void,
    ) {}

    async owed(region: string, keyPairName: string, facts: ReadonlyMap<string, InstanceFacts>): Promise<Set<string>> {
        const owed = await this.fallback.owed(region, keyPairName, facts);
        const stale: string[] = [];
        for (const [instanceId, instance] of facts) {
            const note = readRestartOwedTag(keyPairName, instance);
            if (note) this.tagged.add(instanceId);
            if (note === "owed") owed.add(instanceId);
            else if (note === "stale") stale.push(instanceId);
        }
        if (stale.length) await this.untag(region, stale);
        return owed;
    }

    async note(
        region: string,
        keyPairName: string,
        instanceIds: readonly string[],
        facts: ReadonlyMap<string, InstanceFacts>,
    ): Promise<void> {
        // One TagResources call per value: instances started in the same minute share one.
        const byValue = new Map<string, string[]>();
        for (const id of instanceIds) {
            const value = restartOwedTagValue(keyPairName, facts.get(id)?.startTime);
            const ids = byValue.get(value);
            if (ids) ids.push(id);
            else byValue.set(value, [id]);
        }
        try {
            await Promise.all([...byValue].map(([value, ids]) => this.gateway.tagInstances(region, ids, { [RESTART_OWED_TAG]: value })));
            for (const id of instanceIds) this.tagged.add(id);
        } catch (error) {
            this.sayFallback(error);
            await this.fallback.note(region, keyPairName, instanceIds, facts);
        }
    }

    async settle(
        region: string,
        keyPairName: string,
        instanceIds: readonly string[],
        facts?: ReadonlyMap<string, InstanceFacts>,
    ): Promise<void> {
        await this.fallback.settle(region, keyPairName, instanceIds, facts);
        const noted = (id: string) => this.tagged.has(id) || facts?.get(id)?.tags?.[RESTART_OWED_TAG] !== undefined;
        const tagged = instanceIds.filter(noted);
        if (tagged.length) await this.untag(region, tagged);
    }

    /** A tag left behind costs a restart that is only untagged next time; it never fails the operation. */
    private async untag(region: string, instanceIds: readonly string[]): Promise<void> {
        try {
            await this.gateway.untagInstances(region, instanceIds, [RESTART_OWED_TAG]);
            for (const id of instanceIds) this.tagged.delete(id);
        } catch (error) {
            this.log(
                `KeyPairAttachment: removing the tag ${RESTART_OWED_TAG} from ${instanceIds.join(", ")} failed ` +
                    `(${errorCode(error) ?? errorMessage(error)}); the next run removes it. Grant ecs:UntagResources if ECS refused it.`,
            );
        }
    }

    private sayFallback(error: unknown): void {
        if (this.fallbackSaid) return;
        this.fallbackSaid = true;
        const code = errorCode(error) ?? errorMessage(error);
        const why = NOT_PERMITTED_CODES.test(code) ? "ECS refused TagResources" : "TagResources failed";
        this.log(
            `KeyPairAttachment: ${why} (${code}), so the restarts a run owes are recorded only on this machine ` +
                "(the local restart journal): a run lost with this machine leaves them undone. " +
                "Grant ecs:TagResources and ecs:UntagResources (docs/real-ecs.md) to keep that record in ECS.",
        );
    }
}
