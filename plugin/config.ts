/**
 * Provider configuration of the plugin (`alicloud-keypair:*`, or the arguments of an explicit
 * provider resource) seen through the same ConfigSource that provider/config.ts resolves: each
 * `alicloud:<key>` it asks for is answered by this package's `<key>`. The environment fallbacks
 * (ALIBABA_CLOUD_*, ALICLOUD_*) are then exactly the dynamic resource's. The engine gives a plugin
 * only its own namespace (pkg/host/host.go filters the stack config by package), so `alicloud:*`
 * stack values cannot reach it: docs/plugin.md says to set `alicloud-keypair:*` (or the environment).
 */
import type { ConfigSource } from "../provider/config";

export const PACKAGE_NAME = "alicloud-keypair";
export const CONFIG_KEYS = ["region", "accessKey", "secretKey", "securityToken", "profile", "endpoints"] as const;

/** `variables`: ConfigureRequest.variables (`alicloud-keypair:region` → value); `args`: ConfigureRequest.args, secrets unwrapped. */
export function pluginConfigSource(variables: Record<string, string>, args: Record<string, unknown> = {}): ConfigSource {
    const values = new Map<string, string>();
    for (const key of CONFIG_KEYS) {
        const fromVariables = variables[`${PACKAGE_NAME}:${key}`] ?? variables[key];
        const fromArgs = args[key];
        const value =
            fromVariables ??
            (typeof fromArgs === "string" ? fromArgs : fromArgs === undefined || fromArgs === null ? undefined : JSON.stringify(fromArgs));
        if (value !== undefined && value !== "") values.set(`alicloud:${key}`, value);
    }
    return { get: (key) => values.get(key) };
}
