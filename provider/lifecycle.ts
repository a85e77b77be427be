/**
 * The lifecycle hooks of KeyPairAttachment (DESIGN §3), written against the plan and the gateway.
 * The serialized provider (provider.ts) loads this module by package name at call time; nothing
 * here is serialized, so credentials resolved here never reach the Pulumi state.
 */
import { ConfigSource, requireRegion, resolveSettings } from "./config";
import { SdkEcsGateway } from "./ecs/gateway";
import { realClock, realRandom } from "./clock";
import { ConvergeResult, LifecycleDependencies, converge, unbindAll } from "./converge";
import { FileRestartJournal, defaultJournalDir } from "./journal";
import {
    importNotSupportedMessage,
    nothingChangedMessage,
    partialBindingMessage,
    restartAfterUnbindFailedNotice,
    summary,
    unbindFailedMessage,
    unbindNotice,
} from "./messages";
import { onlineUnbindFailedMessage } from "./online/messages";
import { normalizedActivation } from "./online/settings";
import { refreshedOutputs, settingsOnlyOutputs } from "./outputs";
import { difference, sameInstanceSet, trackedInstanceIds } from "./plan";
import { regionNotKnownYet } from "./impact";
import { BindingLookups, previewBinding } from "./preview";
import { MIN_PLAUSIBLE_RESTART_MS, RestartHistory } from "./restart";
import { KeyPairAttachmentInputs, KeyPairAttachmentOutputs, RestartSettings, restartSettingsWithDefaults } from "./types";
import { EcsTagRestartJournal } from "./tag-journal";
import { ValidationFailure, containsUnknown, validateInputs } from "./validate";
import { rereadDrifted } from "./visibility";

export type { LifecycleDependencies } from "./converge";

/**
 * The engine records a failed create or update as a partial result when the error carries the
 * resource id, its properties and the reasons (the dynamic provider host turns them into
 * ErrorResourceInitFailed), so the bindings that did happen are never lost from the state.
 */
export class PartialBindingError extends Error {
    constructor(
        message: string,
        readonly id: string,
        readonly properties: Record<string, unknown>,
        readonly reasons: string[],
    ) {
        super(message);
        this.name = "PartialBindingError";
    }
}

function newResourceId(deps: LifecycleDependencies): string {
    // Assigned once and never changed: a key pair rename is an update, so the id must not encode it.
    return `kpa-${deps.random.hex(8)}`;
}

/** A summary part as a sentence of its own. */
function sentence(part: string): string {
    return `${part.charAt(0).toUpperCase()}${part.slice(1)}.`;
}

function normalizedRestart(restart: RestartSettings | undefined): string {
    return JSON.stringify(restartSettingsWithDefaults(restart));
}

/** An earlier run left restarts owed or keys to release: the next update must finish them. */
function hasUnfinishedWork(outputs: KeyPairAttachmentOutputs): boolean {
    return (outputs.restartOwedInstanceIds ?? []).length > 0 || Object.keys(outputs.leftoverKeyPairs ?? {}).length > 0;
}

/** What a create or update that had failures throws: a partial state when anything changed. */
function convergeFailure(id: string, inputs: object, result: ConvergeResult): Error {
    const { outputs, failures } = result;
    if (!result.changedAnything) return new Error(nothingChangedMessage(outputs.keyPairName, failures));
    return new PartialBindingError(
        partialBindingMessage(outputs.keyPairName, failures, outputs.instanceIds),
        id,
        // Spread over the inputs so that `__provider` stays in the recorded properties.
        { ...inputs, ...outputs },
        failures.map((f) => `${f.instanceId}: ${f.code}: ${f.message}`),
    );
}

/** check of a new resource: the read-only look-up, as a check failure by property when `up` would refuse. */
async function previewNewBinding(deps: LifecycleDependencies, news: KeyPairAttachmentInputs): Promise<ValidationFailure[]> {
    if (containsUnknown(news.region)) {
        deps.log(regionNotKnownYet("KeyPairAttachment (new)"));
        return [];
    }
    const refused = await previewBinding(deps, "KeyPairAttachment (new)", requireRegion(deps.settings, news.region), news);
    return refused ? [refused] : [];
}

/** diff of an existing resource whose binding changes: the read-only look-up; throws what `up` would throw. */
async function previewChangedBinding(
    deps: LifecycleDependencies,
    id: string,
    olds: KeyPairAttachmentOutputs,
    news: KeyPairAttachmentInputs,
): Promise<void> {
    const refused = await previewBinding(deps, `KeyPairAttachment ${id}`, olds.region, news, olds);
    if (refused) throw new Error(refused.reason);
}

/** The hooks as plain functions (no `this`), so that they can be exported one by one. */
export interface KeyPairAttachmentHooks {
    check: (
        olds: KeyPairAttachmentInputs,
        news: KeyPairAttachmentInputs,
    ) => Promise<{ inputs: KeyPairAttachmentInputs; failures: ValidationFailure[] }>;
    diff: (
        id: string,
        olds: KeyPairAttachmentOutputs,
        news: KeyPairAttachmentInputs,
    ) => Promise<{ changes: boolean; replaces?: string[]; deleteBeforeReplace?: boolean }>;
    create: (inputs: KeyPairAttachmentInputs) => Promise<{ id: string; outs: KeyPairAttachmentOutputs }>;
    read: (id: string, props?: KeyPairAttachmentOutputs) => Promise<{ id: string; props: KeyPairAttachmentOutputs }>;
    update: (id: string, olds: KeyPairAttachmentOutputs, news: KeyPairAttachmentInputs) => Promise<{ outs: KeyPairAttachmentOutputs }>;
    delete: (id: string, props: KeyPairAttachmentOutputs) => Promise<void>;
}

export function createLifecycle(dependencies: () => LifecycleDependencies): KeyPairAttachmentHooks {
    return trackOperations(dependencies, {
        /**
         * Validates formats locally; unknown values are accepted anywhere during preview. For a new
         * resource (no olds: the engine calls check but not diff at its preview) it then looks at ECS
         * read-only, fails as `up` would fail, or prints what the create would do.
         */
        async check(olds, news) {
            const failures = validateInputs(news as unknown as Record<string, unknown>);
            if (failures.length || Object.keys(olds ?? {}).length) return { inputs: news, failures };
            return { inputs: news, failures: await previewNewBinding(dependencies(), news) };
        },

        /**
         * `instanceIds` is a set; a key change or a set change is an update; a region change replaces
         * the resource, deleting first (the binding cannot move between regions); restart settings,
         * passwordOnUnbind or waitForReadySeconds alone are an update that makes no API call. Unknown
         * values count as changes.
         */
        async diff(id, olds, news) {
            const newRegion = news.region ?? dependencies().settings.defaultRegion;
            if (containsUnknown(news.region) || (newRegion !== undefined && olds.region !== undefined && newRegion !== olds.region)) {
                return { changes: true, replaces: ["region"], deleteBeforeReplace: true };
            }
            const bindingChanges =
                containsUnknown(news.keyPairName) ||
                containsUnknown(news.instanceIds) ||
                news.keyPairName !== olds.keyPairName ||
                !sameInstanceSet(olds.instanceIds ?? [], news.instanceIds ?? []) ||
                hasUnfinishedWork(olds);
            const changes =
                bindingChanges ||
                containsUnknown(news.restart) ||
                normalizedRestart(news.restart) !== normalizedRestart(olds.restart) ||
                containsUnknown(news.activation) ||
                containsUnknown(news.online) ||
                normalizedActivation(news) !== normalizedActivation(olds) ||
                containsUnknown(news.passwordOnUnbind) ||
                news.passwordOnUnbind !== olds.passwordOnUnbind ||
                containsUnknown(news.waitForReadySeconds) ||
                news.waitForReadySeconds !== olds.waitForReadySeconds;
            // The preview states the cost of a binding change (and refuses what `up` would refuse).
            if (bindingChanges) await previewChangedBinding(dependencies(), id, olds, news);
            return { changes };
        },

        /**
         * Validates every instance before changing any; binds in batches; restarts the Running ones
         * whose key changed; never starts a stopped one. Idempotent: instances that already hold the key
         * are left alone. A per-instance failure after others were bound throws a PartialBindingError.
         */
        async create(inputs) {
            const deps = dependencies();
            const region = requireRegion(deps.settings, inputs.region);
            const id = newResourceId(deps);
            const result = await converge(deps, region, inputs);
            if (result.failures.length) throw convergeFailure(id, inputs, result);
            deps.log(summary(id, "created", result.outputs, result.notes));
            return { id, outs: result.outputs };
        },

        /**
         * Drops the recorded instances that are gone or no longer hold this key (drift). Keeps the
         * resource while the key pair exists, even with no instance left; an empty id (gone) only when
         * the key pair itself was deleted. Needs the recorded outputs: there is no import.
         */
        async read(id, props) {
            if (!props) throw new Error(importNotSupportedMessage(id));
            const { gateway, clock, visibilityDelayMs } = dependencies();
            // Both reads at once; the instances' answer only matters when the key pair still exists
            // (its failure is then not reported: handled here, still thrown by the await below).
            const described = gateway.describeInstances(props.region, trackedInstanceIds(props));
            described.catch(() => undefined);
            if (!(await gateway.keyPairExists(props.region, props.keyPairName, { fresh: true }))) return { id: "", props };
            const facts = await described;
            // A binding ECS has not shown yet (right after an up) is not drift: look again before dropping it.
            const settled = await rereadDrifted(
                gateway,
                props.region,
                props.keyPairName,
                props.instanceIds ?? [],
                facts,
                clock,
                visibilityDelayMs,
            );
            return { id, props: refreshedOutputs(props, settled) };
        },

        /**
         * Detaches only removed instances that still hold this key, attaches only where the key is
         * missing (every instance on a key change), restarts only what changed; with passwordOnUnbind
         * the removed instances get that password and a graceful restart. A change of restart settings
         * or passwordOnUnbind alone makes no API call.
         */
        async update(id, olds, news) {
            const deps = dependencies();
            if (news.keyPairName === olds.keyPairName && sameInstanceSet(olds.instanceIds, news.instanceIds) && !hasUnfinishedWork(olds)) {
                return { outs: settingsOnlyOutputs(olds, news) };
            }
            const result = await converge(deps, olds.region, news, olds);
            if (result.failures.length) throw convergeFailure(id, news, result);
            if (result.unbound.detached.length) deps.log(unbindNotice(id, olds.keyPairName, result.unbound));
            deps.log(summary(id, "updated", result.outputs, result.notes));
            return { outs: result.outputs };
        },

        /**
         * Detaches only the instances that still hold this key — never one that now holds another key —
         * and tolerates instances that no longer exist. Restarts nothing unless `restart.onUnbind`.
         * Failing means the resource still exists, so a failed delete can simply be run again.
         */
        async delete(id, props) {
            const deps = dependencies();
            const { unbound, restartFailures, onlineFailures, notes } = await unbindAll(deps, props);
            // A notice that asks the user to act (reset a password) is a warning where the front door has them.
            const actNow = difference(unbound.detached, unbound.passwordSet).length > 0 || unbound.passwordFailures.length > 0;
            if (unbound.detached.length)
                (actNow ? (deps.warn ?? deps.log) : deps.log)(
                    [unbindNotice(id, props.keyPairName, unbound), ...notes.map(sentence)].join(" "),
                );
            if (unbound.failed.length) throw new Error(unbindFailedMessage(props.keyPairName, unbound.failed, unbound.detached));
            if (onlineFailures.length) throw new Error(onlineUnbindFailedMessage(props.keyPairName, onlineFailures));
            if (restartFailures.length) (deps.warn ?? deps.log)(restartAfterUnbindFailedNotice(id, restartFailures));
        },
    });
}

/**
 * Tells the gateway while each hook runs (`EcsGateway.operation`): its calls wait for other
 * resources' requests to join them only while another operation is running (see coalesce.ts).
 */
function trackOperations(dependencies: () => LifecycleDependencies, hooks: KeyPairAttachmentHooks): KeyPairAttachmentHooks {
    const tracked =
        <A extends unknown[], R>(hook: (...args: A) => Promise<R>) =>
        (...args: A): Promise<R> => {
            let gateway: LifecycleDependencies["gateway"];
            try {
                gateway = dependencies().gateway;
            } catch {
                // Settings that do not resolve: the hook itself reports it.
                return hook(...args);
            }
            return gateway.operation ? gateway.operation(() => hook(...args)) : hook(...args);
        };
    return {
        check: tracked(hooks.check),
        diff: tracked(hooks.diff),
        create: tracked(hooks.create),
        read: tracked(hooks.read),
        update: tracked(hooks.update),
        delete: tracked(hooks.delete),
    };
}

let configSource: ConfigSource | undefined;
let current: LifecycleDependencies | undefined;

/**
 * Stack configuration from the engine. The dependencies (settings, gateway and its client for the
 * default region, journal) are built here, before the first hook, so that the first hook's first
 * call does not wait for them. Settings that cannot be resolved are left to the first hook, which
 * reports the error; without configure() the first hook builds them from the environment.
 */
export function configure(request: { config: ConfigSource }): void {
    configSource = request.config;
    current = undefined;
    try {
        const deps = processDependencies();
        if (deps.settings.defaultRegion && deps.gateway instanceof SdkEcsGateway) deps.gateway.prepare(deps.settings.defaultRegion);
    } catch {
        // Reported by the first hook, which resolves the settings again.
        current = undefined;
    }
}

function processDependencies(): LifecycleDependencies {
    if (!current) {
        const settings = resolveSettings(configSource);
        const gateway = new SdkEcsGateway(settings);
        const log = (line: string) => console.log(line);
        current = {
            settings,
            gateway,
            clock: realClock,
            random: realRandom,
            restartHistory: new RestartHistory(MIN_PLAUSIBLE_RESTART_MS),
            // The record of owed restarts lives in ECS tags; the local journal is the fallback.
            journal: new EcsTagRestartJournal(gateway, new FileRestartJournal(defaultJournalDir(), log), log),
            log,
            bindingLookups: new BindingLookups(realClock),
        };
    }
    return current;
}

const hooks = createLifecycle(processDependencies);
export const check = hooks.check;
export const diff = hooks.diff;
export const create = hooks.create;
export const read = hooks.read;
export const update = hooks.update;
const deleteHook = hooks.delete;
export { deleteHook as delete };
