/**
 * The first errors a newcomer meets, each in one sentence: what is wrong, which sources were tried in
 * which order, and the command that fixes it. The gateway passes the cause of a failed read (the calls
 * made before anything changes: DescribeInstances, DescribeKeyPairs) through `explainEcsError`; a cause
 * it recognises comes back as an `ExplainedEcsError` whose message leads with that sentence and keeps
 * what the SDK said, and whose `code` and `data` are the SDK error's (so the ECS code and request id
 * still reach the final message). Anything else comes back unchanged.
 */
import type { ProviderSettings } from "../config";
import { errorCode, isNetworkError } from "./retry";

/** The order resolveSettings (provider/config.ts) looks for credentials, then what the SDK's default chain tries. */
export const CREDENTIAL_SOURCES =
    "stack config alicloud:accessKey/alicloud:secretKey, then ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET, " +
    "then ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY, then stack config alicloud:profile, then the @alicloud/credentials default chain " +
    "(environment, ~/.aliyun/config.json, ~/.alibabacloud/credentials, the ECS instance RAM role)";
export const REGION_SOURCES =
    "the resource's region, then stack config alicloud:region, then ALIBABA_CLOUD_REGION_ID, then ALICLOUD_REGION";
export const ENDPOINT_SOURCES =
    "stack config alicloud:endpoints (its ecs entry), then ALIBABA_CLOUD_ECS_ENDPOINT, then the public endpoint ecs.<region>.aliyuncs.com";

const SET_KEYS =
    "`pulumi config set alicloud:accessKey <AccessKeyId>` and `pulumi config set --secret alicloud:secretKey <AccessKeySecret>`";
const REGION_CODES = new Set(["InvalidRegionId.NotFound", "InvalidRegionId", "InvalidRegionId.Malformed"]);
const KEY_CODES = new Set([
    "InvalidAccessKeyId.NotFound",
    "InvalidAccessKeyId",
    "InvalidAccessKeyId.Inactive",
    "InvalidAccessKeySecret",
    "SignatureDoesNotMatch",
    "InvalidSecurityToken.Expired",
    "InvalidSecurityToken.Malformed",
]);

/** A recognised cause: `message` is the explanation followed by what the SDK said. */
export class ExplainedEcsError extends Error {
    readonly code?: string;
    readonly data?: unknown;
    constructor(
        readonly explanation: string,
        cause: unknown,
    ) {
        const said = cause instanceof Error ? cause.message : String(cause);
        super(`${explanation} (the SDK said: ${said.trim()})`);
        this.name = "ExplainedEcsError";
        this.code = errorCode(cause);
        this.data = (cause as { data?: unknown } | undefined)?.data;
    }
}

function endpointText(settings: ProviderSettings, region: string): string {
    return settings.endpoint ? `${settings.endpoint.protocol}://${settings.endpoint.host}` : `https://ecs.${region}.aliyuncs.com`;
}

/** One sentence for a cause a newcomer is likely to meet first, or undefined. */
export function explanationFor(cause: unknown, settings: ProviderSettings, region: string, action: string): string | undefined {
    const code = errorCode(cause) ?? "";
    const message = cause instanceof Error ? cause.message : String(cause);
    const credentials = settings.credentials;
    const regionOrigin = region === settings.defaultRegion && settings.origins?.region ? settings.origins.region : "the resource's region";
    const endpointOrigin = settings.origins?.endpoint ?? "the default for the region";

    if (!code && credentials.kind === "default-chain" && /credentials from any of the providers|unable to get credentials/i.test(message)) {
        return `No Alibaba Cloud credentials found: tried ${CREDENTIAL_SOURCES}, and none had any; run ${SET_KEYS} (or \`aliyun configure\` for a CLI profile).`;
    }
    if (!code && credentials.kind === "profile" && /aliyun cli config|profile|credentials/i.test(message)) {
        return (
            `The credentials profile "${credentials.profile}" from stack config alicloud:profile (used because none of stack config alicloud:accessKey, ` +
            `ALIBABA_CLOUD_ACCESS_KEY_ID and ALICLOUD_ACCESS_KEY was set) could not be read from ~/.aliyun/config.json; ` +
            `run \`aliyun configure --profile ${credentials.profile}\`, or ${SET_KEYS}.`
        );
    }
    if (KEY_CODES.has(code)) {
        const key = credentials.kind === "static" ? ` ${credentials.accessKeyId}` : "";
        return `ECS refused the access key${key} from ${credentials.origin} (${code}; sources are tried in this order: ${CREDENTIAL_SOURCES}); set a valid key pair with ${SET_KEYS}.`;
    }
    if (/^(Forbidden|NoPermission)/.test(code)) {
        return (
            `The credentials from ${credentials.origin} are not allowed to call ECS ${action} (${code}): their RAM policy must allow the action "ecs:${action}"; ` +
            "an administrator grants it with `aliyun ram AttachPolicyToUser --PolicyType System --PolicyName AliyunECSFullAccess --UserName <user>`, " +
            "or a custom policy allowing ecs:DescribeInstances, ecs:DescribeKeyPairs, ecs:AttachKeyPair, ecs:DetachKeyPair, ecs:RebootInstances and ecs:ModifyInstanceAttribute."
        );
    }
    if (REGION_CODES.has(code) || (!settings.endpoint && code === "ENOTFOUND" && message.includes(`ecs.${region}.aliyuncs.com`))) {
        return (
            `ECS does not know the region "${region}" (${code}), taken from ${regionOrigin} (tried ${REGION_SOURCES}); ` +
            "set a valid one with `pulumi config set alicloud:region cn-hangzhou` (`aliyun ecs DescribeRegions` lists them)."
        );
    }
    if (isNetworkError(cause) && code !== "ECONNRESET") {
        const fix = settings.endpoint
            ? 'start ECS there (for the local emulator: `npx ecs-emulator --port 8080 --seed demo`), or point the stack at the right one with `pulumi config set alicloud:endpoints \'[{"ecs":"<url>"}]\'`'
            : 'check the network and any HTTPS_PROXY, or set an endpoint with `pulumi config set alicloud:endpoints \'[{"ecs":"<url>"}]\'`';
        return `Cannot reach the ECS endpoint ${endpointText(settings, region)} (${code || "timeout"}), taken from ${endpointOrigin} (tried ${ENDPOINT_SOURCES}); ${fix}.`;
    }
    if ((cause as { name?: string } | undefined)?.name === "SyntaxError") {
        return (
            `The endpoint ${endpointText(settings, region)} (from ${endpointOrigin}; tried ${ENDPOINT_SOURCES}) answered, but not as ECS: ` +
            "its answer is not an ECS JSON response; point the stack at an ECS endpoint with " +
            '`pulumi config set alicloud:endpoints \'[{"ecs":"https://ecs-vpc.cn-hangzhou.aliyuncs.com"}]\'` (or the emulator\'s URL).'
        );
    }
    return undefined;
}

/** The cause, explained when it is one of the errors above; otherwise the cause itself. */
export function explainEcsError(cause: unknown, settings: ProviderSettings, region: string, action: string): unknown {
    if (cause instanceof ExplainedEcsError) return cause;
    const explanation = explanationFor(cause, settings, region, action);
    return explanation ? new ExplainedEcsError(explanation, cause) : cause;
}
