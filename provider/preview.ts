/**
 * The preview's look at ECS: read-only (DescribeInstances for the instances involved, one call per
 * 100, and DescribeKeyPairs), then either the message `up` would refuse with, or the impact printed
 * as the provider's info line. The facts are kept briefly, so that the create or update that follows
 * in the same provider process (`pulumi up` calls check or diff right before it) does not describe twice.
 */
import { Clock } from "./clock";
import { EcsGateway } from "./ecs/gateway";
import { InstanceFacts } from "./ecs/instance";
import { ImpactRequest, planImpact, refusal, renderImpact } from "./impact";
import { difference, ownKeyPairNames, trackedInstanceIds } from "./plan";
import { KeyPairAttachmentInputs, KeyPairAttachmentOutputs, RestartSettings, restartSettingsWithDefaults } from "./types";
import { containsUnknown, isUnknown } from "./validate";

/**
 * How long a look-up is fresh enough to stand in for the create or update that follows, in
 * milliseconds. The engine calls check or diff and then the operation within milliseconds; an
 * instance stopped in between makes its reboot fail visibly (IncorrectInstanceStatus), so a few
 * seconds risk little and save one DescribeInstances per 100 instances of every resource.
 */
export const LOOKUP_FRESH_MS = 5_000;

export interface BindingFacts {
    facts: Map<string, InstanceFacts>;
    keyPairExists: boolean;
}

function lookupKey(region: string, instanceIds: readonly string[], keyPairName: string): string {
    return JSON.stringify([region, keyPairName, [...new Set(instanceIds)].sort()]);
}

/** Look-ups of one provider process, each used at most once by the operation that follows it. */
export class BindingLookups {
    private readonly entries = new Map<string, { takenAtMs: number; value: BindingFacts }>();

    constructor(
        private readonly clock: Clock,
        private readonly freshMs = LOOKUP_FRESH_MS,
    ) {}

    /** Asks ECS (both reads at once) and keeps the answer for the operation that follows. */
    async lookUp(gateway: EcsGateway, region: string, instanceIds: readonly string[], keyPairName: string): Promise<BindingFacts> {
        const takenAtMs = this.clock.now();
        const [facts, keyPairExists] = await Promise.all([
            instanceIds.length ? gateway.describeInstances(region, instanceIds) : Promise.resolve(new Map<string, InstanceFacts>()),
            gateway.keyPairExists(region, keyPairName),
        ]);
        const value = { facts, keyPairExists };
        this.forgetStale();
        this.entries.set(lookupKey(region, instanceIds, keyPairName), { takenAtMs, value });
        return value;
    }

    /** A fresh look-up of exactly these instances and key pair, removed so that a retry asks ECS again. */
    take(region: string, instanceIds: readonly string[], keyPairName: string): BindingFacts | undefined {
        const key = lookupKey(region, instanceIds, keyPairName);
        const entry = this.entries.get(key);
        this.entries.delete(key);
        return entry && this.clock.now() - entry.takenAtMs <= this.freshMs ? entry.value : undefined;
    }

    private forgetStale(): void {
        for (const [key, entry] of this.entries) if (this.clock.now() - entry.takenAtMs > this.freshMs) this.entries.delete(key);
    }
}

/** The facts converge starts from: a fresh preview look-up when there is one, else both reads now. */
export async function describeBinding(
    gateway: EcsGateway,
    lookups: BindingLookups | undefined,
    region: string,
    instanceIds: readonly string[],
    keyPairName: string,
): Promise<BindingFacts> {
    const fresh = lookups?.take(region, instanceIds, keyPairName);
    if (fresh) return fresh;
    const [facts, keyPairExists] = await Promise.all([
        gateway.describeInstances(region, instanceIds),
        gateway.keyPairExists(region, keyPairName),
    ]);
    return { facts, keyPairExists };
}

/** The ids of a list that may hold the engine's unknown sentinel (as a whole, or as elements). */
function knownIds(value: unknown): { known: string[]; unknown: number | "all" } {
    if (!Array.isArray(value)) return { known: [], unknown: "all" };
    const known = value.filter((id): id is string => typeof id === "string" && !isUnknown(id));
    return { known: [...new Set(known)], unknown: value.length - known.length };
}

/** Restart settings with any value not known yet left at its default (the impact then says the restarts are not known yet). */
function knownRestart(restart: RestartSettings | undefined): Required<RestartSettings> {
    if (restart === undefined || isUnknown(restart)) return restartSettingsWithDefaults(undefined);
    return restartSettingsWithDefaults(Object.fromEntries(Object.entries(restart).filter(([, v]) => !isUnknown(v))));
}

/** What the engine says is desired, as the impact sees it; `previous` is the recorded outputs of an update. */
export function impactRequest(region: string, news: KeyPairAttachmentInputs, previous?: KeyPairAttachmentOutputs): ImpactRequest {
    const desired = knownIds(news.instanceIds);
    const notDesired = difference(trackedInstanceIds(previous), desired.known);
    return {
        keyPairName: isUnknown(news.keyPairName) ? undefined : news.keyPairName,
        region,
        instanceIds: desired.known,
        unknownInstanceIds: desired.unknown,
        // While any id is not known, an instance held now may still be among the desired ones:
        // whether it is unbound is not known yet either.
        removed: desired.unknown === 0 ? notDesired : [],
        undecidedRemovals: desired.unknown === 0 ? [] : notDesired,
        ownKeyPairNames: ownKeyPairNames(previous),
        restart: knownRestart(news.restart),
        restartKnown: !containsUnknown(news.restart),
        passwordOnUnbind: news.passwordOnUnbind !== undefined,
        owedRestarts: previous?.restartOwedInstanceIds ?? [],
    };
}

export interface PreviewDependencies {
    gateway: EcsGateway;
    bindingLookups?: BindingLookups;
    log: (line: string) => void;
}

export type PreviewRefusal = NonNullable<ReturnType<typeof refusal>>;

/**
 * Looks at ECS for the desired binding and prints what would happen; returns the refusal `up` would
 * give instead when there is one (nothing is printed then: the refusal is the message).
 */
export async function previewBinding(
    deps: PreviewDependencies,
    subject: string,
    region: string,
    news: KeyPairAttachmentInputs,
    previous?: KeyPairAttachmentOutputs,
): Promise<PreviewRefusal | undefined> {
    const request = impactRequest(region, news, previous);
    const involved = [...new Set([...request.instanceIds, ...request.removed])];
    let looked: BindingFacts;
    if (request.keyPairName === undefined) {
        // No key pair to look up yet; the instances are described all the same (eligibility, state).
        const facts = involved.length ? await deps.gateway.describeInstances(region, involved) : new Map<string, InstanceFacts>();
        looked = { facts, keyPairExists: true };
    } else if (deps.bindingLookups) {
        looked = await deps.bindingLookups.lookUp(deps.gateway, region, involved, request.keyPairName);
    } else {
        looked = await describeBinding(deps.gateway, undefined, region, involved, request.keyPairName);
    }
    const refused = refusal(request, looked.facts, looked.keyPairExists);
    if (refused) return refused;
    deps.log(renderImpact(subject, request, planImpact(request, looked.facts)));
    return undefined;
}
