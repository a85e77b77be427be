/**
 * The provider plugin's requests mapped onto the lifecycle (provider/lifecycle.ts): configure,
 * check, diff, create, read (refresh and import), update, delete, cancel. Plain values in and out
 * (server.ts deals with the wire); no behaviour of the resource is implemented here — only what a
 * plugin adds around it: the detailed diff, import, Cancel, and warnings/progress for the engine.
 */
import { ConfigSource, ProviderSettings, resolveSettings } from "../provider/config";
import { Clock, realClock, realRandom } from "../provider/clock";
import { EcsGateway, SdkEcsGateway } from "../provider/ecs/gateway";
import { FileRestartJournal, RestartJournal, defaultJournalDir } from "../provider/journal";
import { EcsTagRestartJournal } from "../provider/tag-journal";
import { KeyPairAttachmentHooks, LifecycleDependencies, PartialBindingError, createLifecycle } from "../provider/lifecycle";
import { MIN_PLAUSIBLE_RESTART_MS, RestartHistory } from "../provider/restart";
import type { KeyPairAttachmentInputs, KeyPairAttachmentOutputs } from "../provider/types";
import type { ValidationFailure } from "../provider/validate";
import { pluginConfigSource } from "./config";
import { PropertyChange, detailedDiff, programChanged, changeSummary } from "./diff";
import { importedOutputs, parseImportId } from "./import";
import { Cancellation, OperationGateway } from "./operation-gateway";
import { operationWarnings } from "./warnings";

export type Severity = "debug" | "info" | "warning" | "error";

/** Where messages go: the engine's log, attached to the resource (server.ts). */
export type EngineLog = (severity: Severity, message: string, urn: string, ephemeral?: boolean) => void;

export interface PluginDependencies {
    log: EngineLog;
    clock?: Clock;
    env?: NodeJS.ProcessEnv;
    gateway?: (settings: ProviderSettings) => EcsGateway;
    journal?: RestartJournal;
}

export interface DiffResult {
    changes: boolean;
    replaces: string[];
    deleteBeforeReplace: boolean;
    detailedDiff: PropertyChange[];
}

interface Shared {
    settings: ProviderSettings;
    gateway: EcsGateway;
    restartHistory: RestartHistory;
    journal: RestartJournal;
}

const NO_CONFIG: ConfigSource = { get: () => undefined };

export class KeyPairAttachmentPlugin {
    private config: ConfigSource = NO_CONFIG;
    private shared?: Shared;
    private readonly cancellation = new Cancellation();
    /** Create, update and delete calls running now: a Cancel is reported only when it stops something. */
    private inFlight = 0;

    constructor(private readonly deps: PluginDependencies) {}

    /** ConfigureRequest: `alicloud-keypair:*` variables (and args); settings resolve lazily, at the first call. */
    configure(variables: Record<string, string>, args?: Record<string, unknown>): void {
        this.config = pluginConfigSource(variables, args);
        this.shared = undefined;
    }

    /** The engine's Cancel: no new restart wave starts from now on (see operation-gateway.ts). */
    cancel(): void {
        this.cancellation.cancel();
        // The engine also sends Cancel when a deployment ends; that one stops nothing.
        if (this.inFlight === 0) return;
        this.deps.log(
            "info",
            "alicloud-keypair: cancel received — no new restart wave starts; the wave in flight finishes, and the restarts left out are recorded as owed (the next `pulumi up` does them).",
            "",
        );
    }

    private sharedDependencies(): Shared {
        if (!this.shared) {
            const settings = resolveSettings(this.config, this.deps.env ?? process.env);
            const gateway = this.deps.gateway?.(settings) ?? new SdkEcsGateway(settings);
            const log = (line: string) => this.deps.log("info", line, "");
            this.shared = {
                settings,
                gateway,
                restartHistory: new RestartHistory(MIN_PLAUSIBLE_RESTART_MS),
                // The record of owed restarts lives in ECS tags (docs/real-ecs.md); the local journal is the fallback.
                journal: this.deps.journal ?? new EcsTagRestartJournal(gateway, new FileRestartJournal(defaultJournalDir(), log), log),
            };
        }
        return this.shared;
    }

    /** The lifecycle for one request on one resource: messages and progress attached to its URN. */
    private lifecycle(urn: string): { hooks: KeyPairAttachmentHooks; gateway: OperationGateway } {
        const shared = this.sharedDependencies();
        const gateway = new OperationGateway(shared.gateway, this.cancellation, (message) => this.deps.log("info", message, urn, true));
        const dependencies: LifecycleDependencies = {
            ...shared,
            gateway,
            clock: this.deps.clock ?? realClock,
            random: realRandom,
            log: (line) => this.deps.log("info", line, urn),
            warn: (line) => this.deps.log("warning", line, urn),
        };
        return { hooks: createLifecycle(() => dependencies), gateway };
    }

    private warn(urn: string, before: Partial<KeyPairAttachmentOutputs> | undefined, after: KeyPairAttachmentOutputs): void {
        for (const message of operationWarnings(before, after)) this.deps.log("warning", message, urn);
    }

    /** Warnings of a partial result too: what did happen is in the state, and its warnings are due now. */
    private async warnAfter<T>(urn: string, before: Partial<KeyPairAttachmentOutputs> | undefined, run: () => Promise<T>): Promise<T> {
        this.inFlight += 1;
        try {
            return await run();
        } catch (error) {
            if (error instanceof PartialBindingError) this.warn(urn, before, error.properties as unknown as KeyPairAttachmentOutputs);
            throw error;
        } finally {
            this.inFlight -= 1;
        }
    }

    async check(
        urn: string,
        olds: KeyPairAttachmentInputs,
        news: KeyPairAttachmentInputs,
    ): Promise<{ inputs: KeyPairAttachmentInputs; failures: ValidationFailure[] }> {
        return this.lifecycle(urn).hooks.check(olds, news);
    }

    /** `oldInputs`: the inputs recorded with `olds` (DiffRequest.oldInputs). */
    async diff(
        id: string,
        urn: string,
        olds: KeyPairAttachmentOutputs,
        news: KeyPairAttachmentInputs,
        oldInputs: Partial<KeyPairAttachmentInputs> = olds,
    ): Promise<DiffResult> {
        const result = await this.lifecycle(urn).hooks.diff(id, olds, news);
        const replaces = result.replaces ?? [];
        if (!result.changes) return { changes: false, replaces: [], deleteBeforeReplace: false, detailedDiff: [] };
        const forecast = replaces.length || !programChanged(oldInputs, news) ? undefined : changeSummary(olds, news);
        if (forecast) this.deps.log("info", forecast, urn);
        return {
            changes: true,
            replaces,
            deleteBeforeReplace: result.deleteBeforeReplace ?? false,
            detailedDiff: detailedDiff(olds, news, replaces),
        };
    }

    async create(urn: string, inputs: KeyPairAttachmentInputs): Promise<{ id: string; outs: KeyPairAttachmentOutputs }> {
        const result = await this.warnAfter(urn, undefined, () => this.lifecycle(urn).hooks.create(inputs));
        this.warn(urn, undefined, result.outs);
        return result;
    }

    /**
     * Refresh: the lifecycle's read (an empty id when the key pair is gone). Import — an id and no
     * properties — adopts what the id names, checked by the same read; the inputs returned are
     * those a program declares (pulumi import writes them into the generated code).
     */
    async read(
        id: string,
        urn: string,
        props: Partial<KeyPairAttachmentOutputs>,
        inputs: Partial<KeyPairAttachmentInputs>,
    ): Promise<{ id: string; props: KeyPairAttachmentOutputs | Record<string, never>; inputs?: Partial<KeyPairAttachmentInputs> }> {
        const { hooks, gateway } = this.lifecycle(urn);
        if (props.keyPairName === undefined && props.instanceIds === undefined) {
            const adopted = await importedOutputs(gateway, parseImportId(id));
            const read = await hooks.read(id, adopted);
            if (!read.id) return { id: "", props: {} };
            return {
                id,
                props: read.props,
                inputs: { keyPairName: read.props.keyPairName, instanceIds: read.props.instanceIds, region: read.props.region },
            };
        }
        const read = await hooks.read(id, props as KeyPairAttachmentOutputs);
        if (!read.id) return { id: "", props: {} };
        return { id: read.id, props: read.props, inputs };
    }

    async update(
        id: string,
        urn: string,
        olds: KeyPairAttachmentOutputs,
        news: KeyPairAttachmentInputs,
    ): Promise<{ outs: KeyPairAttachmentOutputs }> {
        const result = await this.warnAfter(urn, olds, () => this.lifecycle(urn).hooks.update(id, olds, news));
        this.warn(urn, olds, result.outs);
        return result;
    }

    async delete(id: string, urn: string, props: KeyPairAttachmentOutputs): Promise<void> {
        await this.warnAfter(urn, props, () => this.lifecycle(urn).hooks.delete(id, props));
    }
}
