/** RunInstances, DeleteInstances (ecs-api.md §12.4; shapes from the SDK models). */
import { errors, missingParameter } from "../errors";
import { type ActionBody, type ActionContext, INSTANCE_ID_MAX, regionOf } from "./context";
import { tagsOf } from "./tags";

/** RunInstances creates at most 100 instances a call (`Amount` 1..100). */
const AMOUNT_MAX = 100;

/**
 * Creates `Amount` instances, Pending → Starting → Running on the scaled clock. A `KeyPairName` is
 * bound at creation and written by the first boot. Billing, networking and disks are not modelled:
 * the answer carries the ids (`InstanceIdSets.InstanceIdSet[]`), an `OrderId` and a `TradePrice` of 0.
 */
export function RunInstances(ctx: ActionContext): ActionBody {
    const region = regionOf(ctx);
    const imageId = ctx.params.required("ImageId");
    const instanceType = ctx.params.optional("InstanceType") ?? "ecs.g7.large";
    const amount = amountOf(ctx);
    const keyPairName = ctx.params.optional("KeyPairName");
    if (keyPairName !== undefined && !ctx.model.hasKeyPair(keyPairName, region)) throw errors.keyPairNotFound(keyPairName);
    const tags = tagsOf(ctx);
    if (ctx.params.bool("DryRun")) throw errors.dryRunSingle();
    const name = ctx.params.optional("InstanceName");
    const ids = Array.from(
        { length: amount },
        () => ctx.model.launchInstance({ region, imageId, instanceType, name, keyPairName, tags }).id,
    );
    return {
        InstanceIdSets: { InstanceIdSet: ids },
        OrderId: String(ctx.model.now()),
        TradePrice: 0,
    };
}

function amountOf(ctx: ActionContext): number {
    const raw = ctx.params.optional("Amount");
    if (raw === undefined) return 1;
    const amount = Number(raw);
    if (!Number.isInteger(amount) || amount < 1 || amount > AMOUNT_MAX) throw errors.amountOutOfRange();
    return amount;
}

/**
 * Releases instances: all or nothing. Each must exist in the region and be Stopped, unless `Force`
 * (then a Running instance is stopped and released too).
 */
export function DeleteInstances(ctx: ActionContext): ActionBody {
    const region = regionOf(ctx);
    const ids = ctx.params.repeatList("InstanceId");
    if (ids.length === 0) throw missingParameter("InstanceId");
    if (ids.length > INSTANCE_ID_MAX) throw errors.tooManyInstanceIds();
    const missing = ids.filter((id) => ctx.model.instanceIn(region, id) === undefined);
    if (missing.length > 0) throw errors.instanceIdsNotFound(missing);
    const force = ctx.params.bool("Force");
    ids.forEach((id) => ctx.model.checkDeletable(id, force));
    if (ctx.params.bool("DryRun")) throw errors.dryRunBatch();
    ids.forEach((id) => ctx.model.deleteInstance(id));
    return {};
}
