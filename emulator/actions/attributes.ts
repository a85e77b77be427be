/** DescribeInstanceAttribute, ModifyInstanceAttribute (ecs-api.md §2.5, §2.9). */
import { errors } from "../errors";
import { type ActionBody, type ActionContext, commonInstanceFields, requireInstance } from "./context";

/** §2.5: no RegionId, a flat body, `IoOptimized` as the string "optimized"/"none", no KeyPairName. */
export function DescribeInstanceAttribute(ctx: ActionContext): ActionBody {
    const instance = requireInstance(ctx);
    return {
        ...commonInstanceFields(instance),
        IoOptimized: instance.ioOptimized ? "optimized" : "none",
        CreationTime: new Date(instance.creationTime).toISOString().slice(0, 19) + "Z",
        SecurityGroupIds: { SecurityGroupId: [] },
    };
}

/**
 * Changes the name and/or password. The password is stored for tests to inspect but never echoed,
 * logged or put in an error message; it reaches the guest at the next start or reboot (D-MIA).
 */
export function ModifyInstanceAttribute(ctx: ActionContext): ActionBody {
    const instance = requireInstance(ctx);
    const password = ctx.params.optional("Password");
    if (password !== undefined) {
        if (!isValidPassword(password, instance.osType)) throw errors.passwordMalformed();
        ctx.model.setPassword(instance.id, password);
    }
    const name = ctx.params.optional("InstanceName");
    if (name !== undefined) ctx.model.setInstanceName(instance.id, name);
    return {};
}

/** D-MIA specials; the SDK remark lists `"` where the doc lists `'`, so both are accepted. */
const PASSWORD_SPECIALS = "()`~!@#$%^&*-_+=|{}[]:;'\"<>,.?/";

/** 8–30 characters from the allowed set, at least three of the four classes; Windows: no leading `/`. */
export function isValidPassword(password: string, osType: "linux" | "windows"): boolean {
    if (password.length < 8 || password.length > 30) return false;
    if (osType === "windows" && password.startsWith("/")) return false;
    const isSpecial = (c: string) => PASSWORD_SPECIALS.includes(c);
    if (![...password].every((c) => /[A-Za-z0-9]/.test(c) || isSpecial(c))) return false;
    const classes = [/[A-Z]/.test(password), /[a-z]/.test(password), /[0-9]/.test(password), [...password].some(isSpecial)];
    return classes.filter(Boolean).length >= 3;
}
