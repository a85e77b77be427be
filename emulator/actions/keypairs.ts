/** DescribeKeyPairs, ImportKeyPair, CreateKeyPair, DeleteKeyPairs (ecs-api.md §2.2, §12.1). */
import { errors, missingParameter } from "../errors";
import type { KeyPairView } from "../model";
import { ecsMinuteTime, matchesWildcard } from "../params";
import { keyOf } from "../publickeys";
import { type ActionBody, type ActionContext, regionOf, tagsBody } from "./context";
import { numberedPage } from "./paging";

/** DeleteKeyPairs takes at most 100 names. */
const DELETE_NAMES_MAX = 100;

export function DescribeKeyPairs(ctx: ActionContext): ActionBody {
    const region = regionOf(ctx);
    const pattern = ctx.params.optional("KeyPairName");
    const fingerPrint = ctx.params.optional("KeyPairFingerPrint");
    // The public key only on request (IncludePublicKey, default false).
    const includePublicKey = ctx.params.bool("IncludePublicKey");
    const matching = ctx.model
        .keyPairs(region)
        .filter((keyPair) => pattern === undefined || matchesWildcard(pattern, keyPair.name))
        .filter((keyPair) => fingerPrint === undefined || keyPair.fingerprint === fingerPrint)
        .map((keyPair) => ({
            KeyPairName: keyPair.name,
            KeyPairFingerPrint: keyPair.fingerprint,
            CreationTime: ecsMinuteTime(keyPair.creationTime),
            ...(includePublicKey ? { PublicKey: keyPair.publicKey } : {}),
            ResourceGroupId: "",
            Tags: tagsBody({}),
        }));
    const page = numberedPage(ctx.params, matching, 50);
    return { ...page.body, KeyPairs: { KeyPair: page.items } };
}

/** Registers a public key the caller holds the private key of. */
export function ImportKeyPair(ctx: ActionContext): ActionBody {
    const { region, name } = newKeyPairName(ctx);
    const publicKey = ctx.params.required("PublicKeyBody").trim();
    if (keyOf(publicKey) === undefined || publicKey.includes("\n")) throw errors.publicKeyMalformed();
    return keyPairBody(ctx.model.addKeyPair(name, region, publicKey).keyPair);
}

/** Generates a key pair; the private key is in this answer only (ECS keeps no copy). */
export function CreateKeyPair(ctx: ActionContext): ActionBody {
    const { region, name } = newKeyPairName(ctx);
    const { keyPair, privateKey } = ctx.model.addKeyPair(name, region);
    return { ...keyPairBody(keyPair), KeyPairId: `kp-${keyPair.fingerprint.slice(0, 20)}`, PrivateKeyBody: privateKey };
}

/** All or nothing: a name bound to any instance refuses the whole call; unknown names are skipped. */
export function DeleteKeyPairs(ctx: ActionContext): ActionBody {
    const region = regionOf(ctx);
    const names = ctx.params.jsonStringArray("KeyPairNames", () => errors.invalidParameter("KeyPairNames"));
    if (names === undefined || names.length === 0) throw missingParameter("KeyPairNames");
    if (names.length > DELETE_NAMES_MAX) throw errors.tooManyKeyPairNames();
    names.forEach((name) => ctx.model.checkKeyPairUnbound(name, region));
    names.forEach((name) => ctx.model.deleteKeyPair(name, region));
    return {};
}

/**
 * ecs-api.md §2.2: 2–128 characters, starting with a letter or a CJK character, not `http://` or
 * `https://`, then letters, digits, `:` `_` `.` `-`; a name already used in the region is refused.
 */
function newKeyPairName(ctx: ActionContext): { region: string; name: string } {
    const region = regionOf(ctx);
    const name = ctx.params.required("KeyPairName");
    if (!/^[\p{L}][\p{L}\p{N}:_.-]{1,127}$/u.test(name) || /^https?:\/\//i.test(name)) throw errors.keyPairNameMalformed(name);
    if (ctx.model.hasKeyPair(name, region)) throw errors.keyPairDuplicate(name);
    return { region, name };
}

function keyPairBody(keyPair: KeyPairView): ActionBody {
    return { KeyPairName: keyPair.name, KeyPairFingerPrint: keyPair.fingerprint };
}
