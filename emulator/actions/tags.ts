/**
 * TagResources, UntagResources for instances (ecs-api.md §12.3): at most 50 resource ids and 20 tags
 * a call, keys 1–128 characters and values up to 128, neither starting with `aliyun` or `acs:` nor
 * containing `http://` or `https://`, at most 20 tags on one instance. Checked before any change.
 */
import { errors, missingParameter } from "../errors";
import { type ActionBody, type ActionContext, regionOf } from "./context";

const RESOURCE_IDS_MAX = 50;
const TAGS_PER_CALL_MAX = 20;
const TAG_TEXT_MAX = 128;

export function TagResources(ctx: ActionContext): ActionBody {
    const ids = resourceIdsOf(ctx);
    const tags = tagsOf(ctx);
    if (Object.keys(tags).length === 0) throw missingParameter("Tag");
    // Every instance's quota is checked before any is changed.
    for (const id of ids) ctx.model.checkTagQuota(id, tags);
    for (const id of ids) ctx.model.tagInstance(id, tags);
    return {};
}

export function UntagResources(ctx: ActionContext): ActionBody {
    const ids = resourceIdsOf(ctx);
    const keys = ctx.params.repeatList("TagKey");
    if (keys.length > TAGS_PER_CALL_MAX) throw errors.tooManyTags();
    // Without TagKey.N nothing is removed unless All=true (then every tag goes).
    if (keys.length === 0 && !ctx.params.bool("All")) return {};
    for (const id of ids) ctx.model.untagInstance(id, keys.length === 0 ? undefined : keys);
    return {};
}

/** `Tag.N.Key`/`Tag.N.Value` of RunInstances and TagResources, checked; an empty object when none. */
export function tagsOf(ctx: ActionContext): Record<string, string> {
    const entries = ctx.params.objectList("Tag", ["Key", "Value"] as const);
    if (entries.length > TAGS_PER_CALL_MAX) throw errors.tooManyTags();
    const tags: Record<string, string> = {};
    for (const { Key, Value = "" } of entries) {
        if (Key === undefined || !isValidTagText(Key, 1)) throw errors.tagKeyMalformed(Key ?? "");
        if (!isValidTagText(Value, 0)) throw errors.tagValueMalformed(Value);
        if (Object.hasOwn(tags, Key)) throw errors.tagKeyDuplicate(Key);
        tags[Key] = Value;
    }
    return tags;
}

function isValidTagText(text: string, minLength: number): boolean {
    return text.length >= minLength && text.length <= TAG_TEXT_MAX && !/^(aliyun|acs:)/i.test(text) && !/https?:\/\//i.test(text);
}

function resourceIdsOf(ctx: ActionContext): string[] {
    const region = regionOf(ctx);
    const type = ctx.params.required("ResourceType");
    if (type !== "instance") throw errors.resourceTypeNotFound(type);
    const ids = ctx.params.repeatList("ResourceId");
    if (ids.length === 0) throw missingParameter("ResourceId");
    if (ids.length > RESOURCE_IDS_MAX) throw errors.tooManyResourceIds();
    const missing = ids.filter((id) => ctx.model.instanceIn(region, id) === undefined);
    if (missing.length > 0) throw errors.resourceIdsNotFound(missing);
    return ids;
}
