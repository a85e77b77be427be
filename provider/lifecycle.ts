/**
 * The lifecycle hooks of KeyPairAttachment (DESIGN §3), written against the plan and the gateway.
 * The serialized provider (provider.ts) loads this module by package name at call time; nothing
 * here is serialized, so credentials resolved here never reach the Pulumi state.
 */
import { randomBytes } from "crypto";
import { ConfigSource, ProviderSettings, requireRegion, resolveSettings } from "./config";
import { EcsGateway, SdkEcsGateway } from "./ecs/gateway";
import { InstanceFacts, InstanceFailure } from "./ecs/instance";
import { difference, findIneligibleInstances, planBind, planRestart, planUnbind, sameInstanceSet, transitionalInstanceIds } from "./plan";
import { Clock, realClock } from "./clock";
import { describeFailures, describeIds } from "./messages";
import { MIN_PLAUSIBLE_RESTART_MS, RestartHistory, RestartOutcome, restartInstances, waitUntilStable } from "./restart";
import { FileRestartJournal, RestartJournal, defaultJournalDir } from "./journal";
import { KeyPairAttachmentInputs, KeyPairAttachmentOutputs, RestartSettings, definedOnly, restartSettingsWithDefaults } from "./types";
import { ValidationFailure, containsUnknown, validateInputs } from "./validate";

export interface LifecycleDependencies {
    settings: ProviderSettings;
    gateway: EcsGateway;
    clock: Clock;
    /** Restart times seen by this provider process (shared by its resources). */
    restartHistory: RestartHistory;
    /** Restarts owed by a run that died before it could record them in the state. */
    journal: RestartJournal;
    /** Where provider-side messages go: the dynamic provider's stdout, shown by the CLI as info lines. */
    log: (line: string) => void;
    /** Messages that ask the user to act (a delete's password resets, a failed restart); `log` when absent. */
    warn?: (line: string) => void;
}

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

const EMPTY_BATCH = { succeeded: [] as string[], failed: [] as InstanceFailure[] };
const NO_RESTARTS: RestartOutcome = { restarted: [], failed: [], skipped: [], notRebooted: [] };

function unique(ids: readonly string[]): string[] {
    return [...new Set(ids)];
}

function pick(map: Record<string, string> | undefined, keep: ReadonlySet<string>): Record<string, string> {
    return Object.fromEntries(Object.entries(map ?? {}).filter(([id]) => keep.has(id)));
}

/** The key pairs this resource may have bound: its key, and keys it failed to switch away from. */
function ownKeyPairNames(outputs: Pick<KeyPairAttachmentOutputs, "keyPairName" | "leftoverKeyPairs"> | undefined): Set<string> {
    return new Set(outputs ? [outputs.keyPairName, ...Object.values(outputs.leftoverKeyPairs ?? {})] : []);
}

function newResourceId(): string {
    // Assigned once and never changed: a key pair rename is an update, so the id must not encode it.
    return `kpa-${randomBytes(8).toString("hex")}`;
}

function normalizedRestart(restart: RestartSettings | undefined): string {
    return JSON.stringify(restartSettingsWithDefaults(restart));
}

interface ConvergeResult {
    outputs: KeyPairAttachmentOutputs;
    unbound: UnbindOutcome;
    failures: InstanceFailure[];
    /** False when every change failed: then there is no partial state to record. */
    changedAnything: boolean;
}

/**
 * Brings the instances to the desired binding: validate every instance before changing any, wait
 * out transitional states, detach the removed instances that still hold the previous key, attach
 * the key where it is missing, restart what changed and was Running. Shared by create and update.
 */
async function converge(
    deps: LifecycleDependencies,
    region: string,
    desired: KeyPairAttachmentInputs,
    previous?: KeyPairAttachmentOutputs,
): Promise<ConvergeResult> {
    const { gateway, clock } = deps;
    const restart = restartSettingsWithDefaults(desired.restart);
    const ownKeys = ownKeyPairNames(previous);
    const tracked = previous ? unique([...previous.instanceIds, ...Object.keys(previous.leftoverKeyPairs ?? {})]) : [];
    const removed = difference(tracked, desired.instanceIds);
    const involved = unique([...desired.instanceIds, ...removed]);

    // Both checks are reads: ask them together.
    const [described, keyPairExists] = await Promise.all([
        gateway.describeInstances(region, involved),
        gateway.keyPairExists(region, desired.keyPairName),
    ]);
    let facts = described;
    const ineligible = findIneligibleInstances(desired.instanceIds, facts, region);
    if (ineligible.length) {
        throw new Error(
            `Key pair "${desired.keyPairName}" cannot be bound: ${ineligible.length} instance(s) cannot use SSH key pairs — ` +
                `${describeFailures(ineligible)}. Nothing was changed. Remove these instances from instanceIds and run again.`,
        );
    }
    if (!keyPairExists) {
        throw new Error(
            `Key pair "${desired.keyPairName}" does not exist in region ${region}. Nothing was changed. ` +
                "Create or import it first (ECS console → Key Pairs, or alicloud.ecs.EcsKeyPair), or fix keyPairName.",
        );
    }
    const waitOptions = { timeoutSeconds: restart.timeoutSeconds, pollIntervalSeconds: restart.pollIntervalSeconds };
    if (transitionalInstanceIds(involved, facts).length) {
        await waitUntilStable(gateway, region, transitionalInstanceIds(involved, facts), waitOptions, clock);
        facts = await gateway.describeInstances(region, involved);
    }

    const unbound = await unbindInstances(deps, region, ownKeys, removed, facts, desired);
    const bind = planBind(desired.keyPairName, desired.instanceIds, facts, ownKeys);
    const running = (id: string) => facts.get(id)?.status === "Running";
    // Restarts a dead run owes (see journal.ts), read before anything is sent.
    const journaled = await deps.journal.owed(region, desired.keyPairName);
    // Write ahead: if this run dies between AttachKeyPair and the reboots, the next one must know.
    const noted = restart.enabled ? bind.attach.filter(running) : [];
    if (noted.length) await deps.journal.note(region, desired.keyPairName, noted);
    const attached = bind.attach.length ? await gateway.attachKeyPair(region, desired.keyPairName, bind.attach) : EMPTY_BATCH;

    const bindRestart = planRestart(attached.succeeded, facts, restart.enabled);
    // Restarts that an earlier run owes — recorded in the state (refused or skipped reboots) or, when
    // that run died before reporting, in the journal — for instances still bound and Running.
    const owed = restart.enabled
        ? unique([...(previous?.restartOwedInstanceIds ?? []), ...desired.instanceIds.filter((id) => journaled.has(id))]).filter(
              (id) => bind.alreadyBound.includes(id) && running(id),
          )
        : [];
    const restarts = await restartChanged(deps, region, restart, [...bindRestart.restart, ...owed], unbound.restart);

    const attachedSet = new Set(attached.succeeded);
    const boundNow = desired.instanceIds.filter((id) => attachedSet.has(id) || bind.alreadyBound.includes(id));
    const boundSet = new Set(boundNow);
    const restartedSet = new Set(restarts.restarted);
    const stillPending = (previous?.pendingRestartInstanceIds ?? []).filter((id) => !attachedSet.has(id));
    const notRestarted = [...restarts.failed.map((f) => f.instanceId), ...restarts.skipped];
    const passwordSet = new Set(unbound.passwordSet);
    const stillOwed = (previous?.restartOwedInstanceIds ?? []).filter((id) => !owed.includes(id) && running(id));
    // From here on the state carries what is still owed (restartOwedInstanceIds).
    await deps.journal.settle(region, desired.keyPairName, unique([...noted, ...desired.instanceIds.filter((id) => journaled.has(id))]));
    // Instances that still hold one of this resource's keys although they should not: a failed
    // switch to the new key, or a failed unbind. Tracked so that a later run releases them.
    const leftover: Record<string, string> = {};
    for (const { instanceId } of [...attached.failed, ...unbound.failed]) {
        const held = facts.get(instanceId)?.keyPairName;
        if (held && ownKeys.has(held)) leftover[instanceId] = held;
    }

    return {
        outputs: definedOnly({
            keyPairName: desired.keyPairName,
            instanceIds: boundNow,
            region,
            restart: desired.restart,
            passwordOnUnbind: desired.passwordOnUnbind,
            restartedInstanceIds: restarts.restarted,
            pendingRestartInstanceIds: unique([...stillPending, ...bindRestart.pending, ...unbound.pending, ...notRestarted]).filter(
                (id) => (boundSet.has(id) || passwordSet.has(id)) && !restartedSet.has(id),
            ),
            passwordResetRequiredInstanceIds: unique([...(previous?.passwordResetRequiredInstanceIds ?? []), ...unbound.detached]).filter(
                (id) => !boundSet.has(id) && !passwordSet.has(id),
            ),
            passwordResetFailures: Object.fromEntries(
                [
                    ...Object.entries(previous?.passwordResetFailures ?? {}),
                    ...unbound.passwordFailures.map((f) => [f.instanceId, `${f.code}: ${f.message}`]),
                ].filter(([id]) => !boundSet.has(id) && !passwordSet.has(id)),
            ),
            replacedKeyPairs: { ...pick(previous?.replacedKeyPairs, boundSet), ...pick(bind.replaced, attachedSet) },
            restartOwedInstanceIds: unique([...stillOwed, ...restarts.notRebooted]).filter(
                (id) => boundSet.has(id) && !restartedSet.has(id),
            ),
            leftoverKeyPairs: leftover,
        }),
        // A failed password reset is reported in the outputs, not as a failure of the binding.
        failures: [...unbound.failed, ...attached.failed, ...restarts.failed],
        changedAnything: unbound.detached.length + attached.succeeded.length > 0,
        unbound,
    };
}

interface UnbindOutcome {
    detached: string[];
    failed: InstanceFailure[];
    /** Given `passwordOnUnbind`. */
    passwordSet: string[];
    passwordFailures: InstanceFailure[];
    /** Running and changed: to restart so that the unbind (and the password) take effect now. */
    restart: string[];
    /** Given a password but not running: it takes effect at their next start. */
    pending: string[];
}

/**
 * Detaches the instances that still hold the key (never one holding another key), sets
 * `passwordOnUnbind` on them when given (the ECS docs: after an unbind the password must be reset
 * before password logon, and a password set through the API takes effect after a restart through
 * the API), and says which of them to restart: those given a password, and all with `restart.onUnbind`.
 */
async function unbindInstances(
    deps: LifecycleDependencies,
    region: string,
    ownKeys: ReadonlySet<string>,
    instanceIds: readonly string[],
    facts: ReadonlyMap<string, InstanceFacts>,
    settings: { restart?: RestartSettings; passwordOnUnbind?: string },
): Promise<UnbindOutcome> {
    const plan = planUnbind(ownKeys, instanceIds, facts);
    const results = await Promise.all(
        Object.entries(plan.detach).map(([keyPairName, ids]) => deps.gateway.detachKeyPair(region, keyPairName, ids)),
    );
    const detached = { succeeded: results.flatMap((r) => r.succeeded), failed: results.flatMap((r) => r.failed) };
    const password = settings.passwordOnUnbind;
    const passwords =
        password && detached.succeeded.length ? await deps.gateway.setInstancePasswords(region, detached.succeeded, password) : EMPTY_BATCH;
    const changed = restartSettingsWithDefaults(settings.restart).onUnbind ? detached.succeeded : passwords.succeeded;
    const running = (id: string) => facts.get(id)?.status === "Running";
    return {
        detached: detached.succeeded,
        failed: detached.failed,
        passwordSet: passwords.succeeded,
        passwordFailures: passwords.failed,
        restart: changed.filter(running),
        pending: passwords.succeeded.filter((id) => !running(id)),
    };
}

/**
 * Restarts what changed: bound instances as `restart.force` says, unbound ones always gracefully (a
 * password or an unbind needs no power cycle). One wave sequence when both are graceful.
 */
async function restartChanged(
    deps: LifecycleDependencies,
    region: string,
    restart: Required<RestartSettings>,
    bound: readonly string[],
    unbound: readonly string[],
): Promise<RestartOutcome> {
    const options = {
        timeoutSeconds: restart.timeoutSeconds,
        pollIntervalSeconds: restart.pollIntervalSeconds,
        batchSize: restart.batchSize,
    };
    const run = (ids: readonly string[], force: boolean) =>
        ids.length
            ? restartInstances(deps.gateway, region, ids, { ...options, force }, deps.clock, deps.restartHistory)
            : Promise.resolve(NO_RESTARTS);
    if (!restart.force) return run([...bound, ...unbound], false);
    const [forced, graceful] = [await run(bound, true), await run(unbound, false)];
    return {
        restarted: [...forced.restarted, ...graceful.restarted],
        failed: [...forced.failed, ...graceful.failed],
        skipped: [...forced.skipped, ...graceful.skipped],
        notRebooted: [...forced.notRebooted, ...graceful.notRebooted],
    };
}

/** An earlier run left restarts owed or keys to release: the next update must finish them. */
function hasUnfinishedWork(outputs: KeyPairAttachmentOutputs): boolean {
    return (outputs.restartOwedInstanceIds ?? []).length > 0 || Object.keys(outputs.leftoverKeyPairs ?? {}).length > 0;
}

function partialFailure(id: string, inputs: object, result: ConvergeResult): Error {
    if (!result.changedAnything) {
        return new Error(
            `Key pair "${result.outputs.keyPairName}": ${describeFailures(result.failures)}. Nothing was changed. Fix the cause and run \`pulumi up\` again.`,
        );
    }
    const reasons = result.failures.map((f) => `${f.instanceId}: ${f.code}: ${f.message}`);
    return new PartialBindingError(
        `Key pair "${result.outputs.keyPairName}": ${result.failures.length} instance(s) failed — ${describeFailures(result.failures)}. ` +
            `The other changes were made and are recorded in the state (bound now: ${describeIds(result.outputs.instanceIds) || "none"}). ` +
            "Fix the cause and run `pulumi up` again; only the missing changes will be made.",
        id,
        // Spread over the inputs so that `__provider` stays in the recorded properties.
        { ...inputs, ...result.outputs },
        reasons,
    );
}

function summarize(id: string, verb: string, outputs: KeyPairAttachmentOutputs): string {
    const parts = [`${outputs.instanceIds.length} instance(s) hold key pair "${outputs.keyPairName}"`];
    if (outputs.restartedInstanceIds.length) parts.push(`restarted: ${describeIds(outputs.restartedInstanceIds)}`);
    if (outputs.pendingRestartInstanceIds.length)
        parts.push(`change takes effect at next start: ${describeIds(outputs.pendingRestartInstanceIds)}`);
    return `KeyPairAttachment ${id} ${verb}: ${parts.join("; ")}. Password logon is disabled on instances bound to a key pair.`;
}

export interface KeyPairAttachmentHooks {
    check(
        olds: KeyPairAttachmentInputs,
        news: KeyPairAttachmentInputs,
    ): Promise<{ inputs: KeyPairAttachmentInputs; failures: ValidationFailure[] }>;
    diff(
        id: string,
        olds: KeyPairAttachmentOutputs,
        news: KeyPairAttachmentInputs,
    ): Promise<{ changes: boolean; replaces?: string[]; deleteBeforeReplace?: boolean }>;
    create(inputs: KeyPairAttachmentInputs): Promise<{ id: string; outs: KeyPairAttachmentOutputs }>;
    read(id: string, props: KeyPairAttachmentOutputs): Promise<{ id: string; props: KeyPairAttachmentOutputs }>;
    update(id: string, olds: KeyPairAttachmentOutputs, news: KeyPairAttachmentInputs): Promise<{ outs: KeyPairAttachmentOutputs }>;
    delete(id: string, props: KeyPairAttachmentOutputs): Promise<void>;
}

export function createLifecycle(dependencies: () => LifecycleDependencies): KeyPairAttachmentHooks {
    return {
        /** Local validation only (no API call); unknown values are accepted anywhere during preview. */
        async check(_olds, news) {
            return { inputs: news, failures: validateInputs(news as unknown as Record<string, unknown>) };
        },

        /**
         * `instanceIds` is a set; a key change or a set change is an update; a region change replaces
         * the resource, deleting first (the binding cannot move between regions); restart settings or
         * passwordOnUnbind alone are an update that makes no API call. Unknown values count as changes.
         */
        async diff(_id, olds, news) {
            const newRegion = news.region ?? dependencies().settings.defaultRegion;
            if (containsUnknown(news.region) || (newRegion !== undefined && olds.region !== undefined && newRegion !== olds.region)) {
                return { changes: true, replaces: ["region"], deleteBeforeReplace: true };
            }
            const changes =
                containsUnknown(news.keyPairName) ||
                containsUnknown(news.instanceIds) ||
                containsUnknown(news.restart) ||
                news.keyPairName !== olds.keyPairName ||
                !sameInstanceSet(olds.instanceIds ?? [], news.instanceIds ?? []) ||
                normalizedRestart(news.restart) !== normalizedRestart(olds.restart) ||
                containsUnknown(news.passwordOnUnbind) ||
                news.passwordOnUnbind !== olds.passwordOnUnbind ||
                hasUnfinishedWork(olds);
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
            const id = newResourceId();
            const result = await converge(deps, region, inputs);
            if (result.failures.length) throw partialFailure(id, inputs, result);
            deps.log(summarize(id, "created", result.outputs));
            return { id, outs: result.outputs };
        },

        /**
         * Drops the recorded instances that are gone or no longer hold this key (drift). Keeps the
         * resource while the key pair exists, even with no instance left; an empty id (gone) only when
         * the key pair itself was deleted.
         */
        async read(id, props) {
            const { gateway } = dependencies();
            if (!(await gateway.keyPairExists(props.region, props.keyPairName, { fresh: true }))) return { id: "", props };
            const leftover = props.leftoverKeyPairs ?? {};
            const facts = await gateway.describeInstances(props.region, unique([...(props.instanceIds ?? []), ...Object.keys(leftover)]));
            const stillBound = (props.instanceIds ?? []).filter((i) => facts.get(i)?.keyPairName === props.keyPairName);
            const bound = new Set(stillBound);
            return {
                id,
                props: definedOnly({
                    ...props,
                    instanceIds: stillBound,
                    pendingRestartInstanceIds: (props.pendingRestartInstanceIds ?? []).filter((i) => bound.has(i)),
                    replacedKeyPairs: pick(props.replacedKeyPairs, bound),
                    restartOwedInstanceIds: props.restartOwedInstanceIds?.filter((i) => bound.has(i)),
                    leftoverKeyPairs:
                        props.leftoverKeyPairs &&
                        Object.fromEntries(Object.entries(leftover).filter(([i, key]) => facts.get(i)?.keyPairName === key)),
                }),
            };
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
                return {
                    outs: definedOnly({
                        ...olds,
                        restart: news.restart,
                        passwordOnUnbind: news.passwordOnUnbind,
                        restartedInstanceIds: [],
                    }),
                };
            }
            const result = await converge(deps, olds.region, news, olds);
            if (result.failures.length) throw partialFailure(id, news, result);
            if (result.unbound.detached.length) deps.log(unbindNotice(id, olds.keyPairName, result.unbound));
            deps.log(summarize(id, "updated", result.outputs));
            return { outs: result.outputs };
        },

        /**
         * Detaches only the instances that still hold this key — never one that now holds another key —
         * and tolerates instances that no longer exist. Restarts nothing unless `restart.onUnbind`.
         * Failing means the resource still exists, so a failed delete can simply be run again.
         */
        async delete(id, props) {
            const deps = dependencies();
            const tracked = unique([...(props.instanceIds ?? []), ...Object.keys(props.leftoverKeyPairs ?? {})]);
            const facts = await deps.gateway.describeInstances(props.region, tracked);
            const unbound = await unbindInstances(deps, props.region, ownKeyPairNames(props), tracked, facts, props);
            // What was unbound is finished (password, restart, notice) even when other instances failed.
            let restartFailures: InstanceFailure[] = [];
            if (unbound.detached.length) {
                await deps.journal.settle(props.region, props.keyPairName, unbound.detached);
                restartFailures = (
                    await restartChanged(deps, props.region, restartSettingsWithDefaults(props.restart), [], unbound.restart)
                ).failed;
                const actNow = difference(unbound.detached, unbound.passwordSet).length > 0 || unbound.passwordFailures.length > 0;
                (actNow ? (deps.warn ?? deps.log) : deps.log)(unbindNotice(id, props.keyPairName, unbound));
            }
            if (unbound.failed.length) {
                throw new Error(
                    `Key pair "${props.keyPairName}" could not be unbound from ${unbound.failed.length} instance(s): ${describeFailures(unbound.failed)}. ` +
                        `Unbound: ${describeIds(unbound.detached) || "none"}. Fix the cause and run \`pulumi destroy\` again.`,
                );
            }
            if (restartFailures.length) {
                // The unbind is done (a second destroy has nothing left to do); only the restart is missing.
                (deps.warn ?? deps.log)(
                    `KeyPairAttachment ${id}: restarting after the unbind failed: ${describeFailures(restartFailures)}. ` +
                        "Restart these instances from the ECS console or API for the unbind (and any new password) to take effect.",
                );
            }
        },
    };
}

function unbindNotice(
    id: string,
    keyPairName: string,
    unbound: Pick<UnbindOutcome, "detached" | "passwordSet" | "passwordFailures">,
): string {
    if (unbound.detached.length === 0) return `KeyPairAttachment ${id}: no instance needed unbinding from key pair "${keyPairName}".`;
    const parts = [`KeyPairAttachment ${id}: unbound key pair "${keyPairName}" from ${describeIds(unbound.detached)}.`];
    if (unbound.passwordSet.length) parts.push(`passwordOnUnbind was set on ${describeIds(unbound.passwordSet)}.`);
    if (unbound.passwordFailures.length) parts.push(`Setting the password failed: ${describeFailures(unbound.passwordFailures)}.`);
    const needReset = difference(unbound.detached, unbound.passwordSet);
    if (needReset.length) {
        parts.push(
            `Reset the password of ${describeIds(needReset)} before logging on with one ` +
                "(ECS console → Reset Instance Password, or ModifyInstanceAttribute then a restart; or set passwordOnUnbind).",
        );
    }
    return parts.join(" ");
}

let configSource: ConfigSource | undefined;
let current: LifecycleDependencies | undefined;

/** Stack configuration from the engine; settings are resolved lazily, at the first call. */
export function configure(request: { config: ConfigSource }): void {
    configSource = request.config;
    current = undefined;
}

function processDependencies(): LifecycleDependencies {
    if (!current) {
        const settings = resolveSettings(configSource);
        current = {
            settings,
            gateway: new SdkEcsGateway(settings),
            clock: realClock,
            restartHistory: new RestartHistory(MIN_PLAUSIBLE_RESTART_MS),
            journal: new FileRestartJournal(defaultJournalDir(), (line) => console.log(line)),
            log: (line) => console.log(line),
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
