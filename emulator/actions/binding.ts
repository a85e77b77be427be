/** AttachKeyPair, DetachKeyPair (ecs-api.md §2.1). */
import { EcsError, errors, missingParameter } from "../errors";
import { type ActionBody, type ActionContext, KEY_PAIR_BATCH_MAX, refuseWhileInitializing, regionOf } from "./context";

export function AttachKeyPair(ctx: ActionContext): ActionBody {
    return keyPairBatch(ctx, (id, keyPairName) => ctx.model.attachKeyPair(id, keyPairName));
}

export function DetachKeyPair(ctx: ActionContext): ActionBody {
    return keyPairBatch(ctx, (id, keyPairName) => ctx.model.detachKeyPair(id, keyPairName));
}

/**
 * Attach and Detach share one shape (§2.1): request-level errors reject the whole call; per-instance
 * errors (an instance still initializing among them, §12.4) land in `Results.Result[]` under HTTP
 * 200. Numbers and booleans as in the doc samples, `Code` as the string "200" as in the older
 * Detach sample.
 */
function keyPairBatch(ctx: ActionContext, apply: (id: string, keyPairName: string) => void): ActionBody {
    const region = regionOf(ctx);
    const keyPairName = ctx.params.required("KeyPairName");
    const ids = ctx.params.jsonStringArray("InstanceIds", errors.instanceIdsNotSupported);
    if (ids === undefined) throw missingParameter("InstanceIds");
    if (ids.length === 0) throw errors.instanceIdsNotSupported();
    if (ids.length > KEY_PAIR_BATCH_MAX) throw errors.keyPairLimitExceeded();
    if (!ctx.model.hasKeyPair(keyPairName, region)) throw errors.keyPairNotFound(keyPairName);
    refuseWhileInitializing(ctx, region, ids);

    const results = ids.map((id) => {
        const injected = ctx.instanceFailures.find((failure) => failure.instanceId === id);
        if (injected) return resultEntry(id, injected.code, injected.message ?? `Injected failure ${injected.code}.`);
        try {
            if (!ctx.model.instanceIn(region, id)) throw errors.instanceNotFound(id);
            apply(id, keyPairName);
            return resultEntry(id, "200", "successful");
        } catch (error) {
            if (error instanceof EcsError) return resultEntry(id, error.code, error.message);
            throw error;
        }
    });
    return {
        KeyPairName: keyPairName,
        TotalCount: results.length,
        FailCount: results.filter((result) => !result.Success).length,
        Results: { Result: results },
    };
}

function resultEntry(instanceId: string, code: string, message: string) {
    return { InstanceId: instanceId, Success: code === "200", Code: code, Message: message };
}
