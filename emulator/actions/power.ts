/**
 * Reboot, start and stop, single and batch (ecs-api.md §2.6–§2.8). The model runs the timed
 * transitions; this file owns the request rules: id limits, DryRun, and the two batch modes.
 */
import { EcsError, errors } from "../errors";
import { type ActionBody, type ActionContext, INSTANCE_ID_MAX, refuseWhileInitializing, regionOf, requireInstance } from "./context";

interface PowerOperation {
    check(id: string): void;
    apply(id: string): void;
    /** Reboots of fresh instances may be refused as a whole (refuseWhileInitializing). */
    refusesInitializing?: boolean;
}

function rebootOperation(ctx: ActionContext, force: boolean): PowerOperation {
    return { check: (id) => ctx.model.checkRebootable(id), apply: (id) => ctx.model.rebootInstance(id, force), refusesInitializing: true };
}

function startOperation(ctx: ActionContext): PowerOperation {
    return { check: (id) => ctx.model.checkStartable(id), apply: (id) => ctx.model.startInstance(id) };
}

function stopOperation(ctx: ActionContext, force: boolean): PowerOperation {
    return { check: (id) => ctx.model.checkStoppable(id), apply: (id) => ctx.model.stopInstance(id, force) };
}

export function RebootInstance(ctx: ActionContext): ActionBody {
    return singleInstance(ctx, rebootOperation(ctx, ctx.params.bool("ForceStop")));
}

export function StartInstance(ctx: ActionContext): ActionBody {
    return singleInstance(ctx, startOperation(ctx));
}

export function StopInstance(ctx: ActionContext): ActionBody {
    return singleInstance(ctx, stopOperation(ctx, ctx.params.bool("ForceStop")));
}

export function RebootInstances(ctx: ActionContext): ActionBody {
    return batch(ctx, rebootOperation(ctx, ctx.params.bool("ForceReboot")));
}

export function StartInstances(ctx: ActionContext): ActionBody {
    return batch(ctx, startOperation(ctx));
}

export function StopInstances(ctx: ActionContext): ActionBody {
    return batch(ctx, stopOperation(ctx, ctx.params.bool("ForceStop")));
}

function singleInstance(ctx: ActionContext, operation: PowerOperation): ActionBody {
    const { id, region } = requireInstance(ctx);
    if (operation.refusesInitializing) refuseWhileInitializing(ctx, region, [id]);
    if (ctx.params.bool("DryRun")) {
        operation.check(id);
        // Single-instance APIs answer DryRunOperation, batch APIs DRYRUN.SUCCESS.
        throw errors.dryRunSingle();
    }
    operation.apply(id);
    return {};
}

/**
 * `AllTogether` (default): any unknown id → 404 `InvalidInstanceIds.NotFound`, any instance that
 * fails its check → that error, and nothing changes. `SuccessFirst`: each instance on its own,
 * failures reported in its `InstanceResponse` (D-RBS).
 */
function batch(ctx: ActionContext, operation: PowerOperation): ActionBody {
    const region = regionOf(ctx);
    const ids = ctx.params.repeatList("InstanceId");
    if (ids.length === 0) throw errors.instanceIdMissing();
    if (ids.length > INSTANCE_ID_MAX) throw errors.tooManyInstanceIds();
    const mode = ctx.params.optional("BatchOptimization") ?? "AllTogether";
    if (mode !== "AllTogether" && mode !== "SuccessFirst") throw errors.invalidParameter("BatchOptimization");
    if (operation.refusesInitializing) refuseWhileInitializing(ctx, region, ids);
    const dryRun = ctx.params.bool("DryRun");
    const statusOf = (id: string) => ctx.model.instanceIn(region, id)?.status;

    if (mode === "SuccessFirst") {
        // D-RBS: "With SuccessFirst, DryRun only ever returns DRYRUN.SUCCESS."
        if (dryRun) throw errors.dryRunBatch();
        return instanceResponses(
            ids.map((id) => {
                const previous = statusOf(id);
                if (previous === undefined) return failedResponse(id, errors.instanceNotFound(id));
                try {
                    operation.apply(id);
                } catch (error) {
                    if (error instanceof EcsError) return failedResponse(id, error, previous);
                    throw error;
                }
                return { InstanceId: id, Code: "200", Message: "success", PreviousStatus: previous, CurrentStatus: statusOf(id) };
            }),
        );
    }

    const missing = ids.filter((id) => statusOf(id) === undefined);
    if (missing.length > 0) throw errors.instanceIdsNotFound(missing);
    ids.forEach((id) => operation.check(id));
    if (dryRun) throw errors.dryRunBatch();
    const previous = new Map(ids.map((id) => [id, statusOf(id)]));
    ids.forEach((id) => operation.apply(id));
    return instanceResponses(
        ids.map((id) => ({
            InstanceId: id,
            Code: "200",
            Message: "success",
            PreviousStatus: previous.get(id),
            CurrentStatus: statusOf(id),
        })),
    );
}

function failedResponse(id: string, error: EcsError, status?: string) {
    return { InstanceId: id, Code: error.code, Message: error.message, PreviousStatus: status, CurrentStatus: status };
}

function instanceResponses(responses: object[]): ActionBody {
    return { InstanceResponses: { InstanceResponse: responses } };
}
