/**
 * Pure: what a change of binding would do, from the instance and key pair facts of a read-only
 * look-up (preview.ts), and how that reads in the preview. The same planning functions as `up`
 * (plan.ts), the same wave count as the restart (restart.ts) and the same refusal messages
 * (messages.ts), so that the preview cannot promise what `up` would not do.
 */
import { InstanceFacts, TRANSITIONAL_STATUSES } from "./ecs/instance";
import { describeIds, ineligibleInstancesMessage, missingKeyPairMessage } from "./messages";
import { findIneligibleInstances, planBind, planUnbind } from "./plan";
import { restartWaves } from "./restart";
import { RestartSettings } from "./types";

/** What the engine has told us about the desired binding; `undefined` where a value is not known yet. */
export interface ImpactRequest {
    /** Undefined when not known yet (computed from a resource created in the same run). */
    keyPairName?: string;
    region: string;
    /** The desired instance ids that are known. */
    instanceIds: readonly string[];
    /** How many desired ids are not known yet; "all" when the whole list is not known yet. */
    unknownInstanceIds: number | "all";
    /** Instances the resource tracks now but that are no longer desired (an update). */
    removed: readonly string[];
    /** Tracked now and not among the known desired ids, while some desired ids are not known yet. */
    undecidedRemovals: readonly string[];
    /** This resource's own key pairs (its previous key, and keys it failed to switch away from). */
    ownKeyPairNames: ReadonlySet<string>;
    restart: Required<RestartSettings>;
    /** False when a restart setting is not known yet (the defaults stand in for it in `restart`). */
    restartKnown: boolean;
    /** Whether passwordOnUnbind is given (its value never reaches this module). */
    passwordOnUnbind: boolean;
    /** Restarts an earlier run owes (restartOwedInstanceIds): made by this change when still Running. */
    owedRestarts: readonly string[];
}

export interface Impact {
    /** Would get the key (AttachKeyPair). */
    attach: string[];
    /** Already hold the key: nothing to do. */
    alreadyBound: string[];
    /** Instance → the other key pair its binding would replace. */
    replaced: Record<string, string>;
    /** Running, and restarted so that the change takes effect (bound instances first, then unbound ones). */
    restart: string[];
    /** How many restart waves, with restart.batchSize (0 = one wave). */
    waves: number;
    /** Would get the key while not running: it takes effect at their next start (they are not started). */
    atNextStart: string[];
    /** Would get the key while Running, but restart.enabled is false: it takes effect at their next restart. */
    notRestarted: string[];
    /** In a transitional state: waited for first; restarted if they are Running by then. */
    transitional: string[];
    /** Would be unbound (DetachKeyPair). */
    unbind: string[];
    /** Unbound and given passwordOnUnbind. */
    passwordSet: string[];
    /** Unbound with no passwordOnUnbind: their password must be reset before password logon. */
    passwordResetRequired: string[];
}

const isRunning = (facts: ReadonlyMap<string, InstanceFacts>) => (id: string) => facts.get(id)?.status === "Running";
const isTransitional = (facts: ReadonlyMap<string, InstanceFacts>) => (id: string) =>
    TRANSITIONAL_STATUSES.includes(facts.get(id)?.status ?? "");

/**
 * The message `up` would refuse this binding with, or undefined. Ineligible instances first, then a
 * missing key pair — the order converge checks them in. `keyPairExists` undefined: not known yet.
 */
export function refusal(
    request: ImpactRequest,
    facts: ReadonlyMap<string, InstanceFacts>,
    keyPairExists?: boolean,
): { property: "instanceIds" | "keyPairName"; reason: string } | undefined {
    const ineligible = findIneligibleInstances(request.instanceIds, facts, request.region);
    if (ineligible.length) {
        return { property: "instanceIds", reason: ineligibleInstancesMessage(request.keyPairName ?? "(not known yet)", ineligible) };
    }
    if (request.keyPairName !== undefined && keyPairExists === false) {
        return { property: "keyPairName", reason: missingKeyPairMessage(request.keyPairName, request.region) };
    }
    return undefined;
}

/** What `up` would do with these facts (the plan of converge, without sending anything). */
export function planImpact(request: ImpactRequest, facts: ReadonlyMap<string, InstanceFacts>): Impact {
    const running = isRunning(facts);
    const transitional = isTransitional(facts);
    // A key not known yet is compared with nothing: every known instance counts as changing.
    const bind = request.keyPairName
        ? planBind(request.keyPairName, request.instanceIds, facts, request.ownKeyPairNames)
        : { attach: [...request.instanceIds], alreadyBound: [], replaced: {} };
    const unbind = Object.values(planUnbind(request.ownKeyPairNames, request.removed, facts).detach).flat();
    const { restart } = request;
    const alreadyBound = new Set(bind.alreadyBound);
    const boundRestart = restart.enabled
        ? [...bind.attach.filter(running), ...request.owedRestarts.filter((id) => alreadyBound.has(id) && running(id))]
        : [];
    // As converge: unbound instances restart when given a password, or always with restart.onUnbind.
    const unboundRestart = restart.onUnbind || request.passwordOnUnbind ? unbind.filter(running) : [];
    // Bound instances restart as restart.force says, unbound ones gracefully: one wave sequence unless forced.
    const waves = restart.force
        ? restartWaves(boundRestart, restart.batchSize).length + restartWaves(unboundRestart, restart.batchSize).length
        : restartWaves([...boundRestart, ...unboundRestart], restart.batchSize).length;
    return {
        attach: bind.attach,
        alreadyBound: bind.alreadyBound,
        replaced: request.keyPairName ? bind.replaced : {},
        restart: [...boundRestart, ...unboundRestart],
        waves,
        atNextStart: bind.attach.filter((id) => !running(id) && !transitional(id)),
        notRestarted: restart.enabled ? [] : bind.attach.filter(running),
        transitional: bind.attach.filter(transitional),
        unbind,
        passwordSet: request.passwordOnUnbind ? unbind : [],
        passwordResetRequired: request.passwordOnUnbind ? [] : unbind,
    };
}

/** Instance → key pair, said once per key pair: `"old-key" on i-1, i-2`. */
function describeReplaced(replaced: Record<string, string>): string {
    const byKey = new Map<string, string[]>();
    for (const [instanceId, keyPairName] of Object.entries(replaced)) {
        const ids = byKey.get(keyPairName);
        if (ids) ids.push(instanceId);
        else byKey.set(keyPairName, [instanceId]);
    }
    return [...byKey].map(([keyPairName, ids]) => `"${keyPairName}" on ${describeIds(ids)}`).join("; ");
}

function describeWaves(waves: number, batchSize: number): string {
    if (waves <= 1) return "all at once";
    return `in ${waves} waves of at most ${batchSize} (restart.batchSize)`;
}

/**
 * The preview's text: a heading naming the resource, the key pair and the region, then one line per
 * kind of effect. Lists are shortened as every other message shortens them (describeIds).
 */
export function renderImpact(subject: string, request: ImpactRequest, impact: Impact): string {
    const key = request.keyPairName === undefined ? "a key pair not known yet" : `key pair "${request.keyPairName}"`;
    const lines: string[] = [];
    const item = (text: string) => lines.push(`    - ${text}`);
    if (request.unknownInstanceIds === "all") {
        lines.push(`${subject}: ${key} in ${request.region} — instanceIds is not known yet (computed in this run).`);
        item("which instances get the key, and which are restarted, is not known yet: it is decided at `pulumi up`");
        return lines.join("\n");
    }
    const effects = [
        impact.attach.length ? `${impact.attach.length} instance(s) would get the key: ${describeIds(impact.attach)}` : "",
        impact.unbind.length ? `${impact.unbind.length} instance(s) would be unbound from it: ${describeIds(impact.unbind)}` : "",
    ].filter(Boolean);
    lines.push(`${subject}: ${key} in ${request.region} — ${effects.length ? effects.join("; ") : "no known instance changes its key"}.`);
    if (request.keyPairName === undefined) {
        item("the key pair name is not known yet (computed in this run): whether each instance already holds it is not known yet");
    }
    if (!request.restartKnown && impact.restart.length) {
        item(
            `Running: ${describeIds(impact.restart)} — whether they are restarted, and in how many waves, is not known yet ` +
                "(a restart setting is computed in this run)",
        );
    } else if (impact.restart.length) {
        const mode = request.restart.force ? "forced reboot" : "graceful reboot";
        item(`restarted (Running; ${mode}, ${describeWaves(impact.waves, request.restart.batchSize)}): ${describeIds(impact.restart)}`);
    }
    if (impact.atNextStart.length)
        item(`not running: take the key at their next start (not started by this): ${describeIds(impact.atNextStart)}`);
    if (impact.notRestarted.length) {
        item(
            `Running but not restarted (restart.enabled is false): the key takes effect at their next restart: ${describeIds(impact.notRestarted)}`,
        );
    }
    if (impact.transitional.length) {
        item(`in a transitional state: waited for first, then restarted if Running: ${describeIds(impact.transitional)}`);
    }
    if (Object.keys(impact.replaced).length) item(`another key pair would be replaced: ${describeReplaced(impact.replaced)}`);
    if (impact.passwordSet.length) item(`unbound and given passwordOnUnbind: ${describeIds(impact.passwordSet)}`);
    if (impact.passwordResetRequired.length) {
        item(
            `unbound: ${describeIds(impact.passwordResetRequired)} — reset their password before password logon (or set passwordOnUnbind)`,
        );
    }
    if (impact.alreadyBound.length) item(`already hold the key (nothing to do): ${describeIds(impact.alreadyBound)}`);
    if (request.undecidedRemovals.length) {
        item(
            `bound now, and not among the known ids: ${describeIds(request.undecidedRemovals)} — ` +
                "whether they are unbound is not known yet (the ids not known yet may name them)",
        );
    }
    if (typeof request.unknownInstanceIds === "number" && request.unknownInstanceIds > 0) {
        item(
            `${request.unknownInstanceIds} instance id(s) not known yet (created in this run): ` +
                "whether they are restarted or take the key at their next start is not known yet",
        );
    }
    return lines.join("\n");
}

/** The preview of a binding whose region is computed in the same run: nothing can be looked up yet. */
export function regionNotKnownYet(subject: string): string {
    return `${subject}: the region is not known yet (computed in this run): what the binding would do is not known yet; it is decided at \`pulumi up\`.`;
}
