/**
 * Region, credentials and endpoint, resolved at call time inside the provider process (DESIGN §4).
 * Nothing resolved here is captured in the serialized provider or written to state, outputs,
 * errors or logs: the access key secret lives only in the SDK client this module configures.
 */

/** The stack configuration handed to the dynamic provider's `configure()`. */
export interface ConfigSource {
    get(key: string): string | undefined;
}

export type CredentialSource =
    | { kind: "static"; accessKeyId: string; accessKeySecret: string; securityToken?: string; origin: string }
    | { kind: "profile"; profile: string; origin: string }
    | { kind: "default-chain"; origin: string };

export interface EndpointSettings {
    /** Host (and port) the SDK sends requests to and signs. */
    host: string;
    protocol: "http" | "https";
}

export interface ProviderSettings {
    /** The region to use when a resource sets none; undefined when nothing configures one. */
    defaultRegion?: string;
    credentials: CredentialSource;
    endpoint?: EndpointSettings;
    /** Where the region and endpoint came from, for error messages (e.g. "stack config alicloud:region"). */
    origins?: { region?: string; endpoint?: string };
}

const NO_CONFIG: ConfigSource = { get: () => undefined };

function firstSet(...values: (string | undefined)[]): string | undefined {
    return values.find((v) => v !== undefined && v !== "");
}

function resolveCredentials(config: ConfigSource, env: NodeJS.ProcessEnv): CredentialSource {
    const candidates: [string, string | undefined, string | undefined, string | undefined][] = [
        [
            "stack config alicloud:accessKey",
            config.get("alicloud:accessKey"),
            config.get("alicloud:secretKey"),
            config.get("alicloud:securityToken"),
        ],
        [
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            env.ALIBABA_CLOUD_ACCESS_KEY_ID,
            env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
            env.ALIBABA_CLOUD_SECURITY_TOKEN,
        ],
        ["ALICLOUD_ACCESS_KEY", env.ALICLOUD_ACCESS_KEY, env.ALICLOUD_SECRET_KEY, env.ALICLOUD_SECURITY_TOKEN],
    ];
    for (const [origin, accessKeyId, accessKeySecret, securityToken] of candidates) {
        if (accessKeyId && accessKeySecret) {
            return { kind: "static", accessKeyId, accessKeySecret, securityToken: securityToken || undefined, origin };
        }
    }
    const profile = config.get("alicloud:profile");
    if (profile) return { kind: "profile", profile, origin: "stack config alicloud:profile" };
    return { kind: "default-chain", origin: "the @alicloud/credentials default chain" };
}

/**
 * An endpoint as a URL (`http://127.0.0.1:8080`: the scheme picks the protocol) or a bare host
 * (`ecs-vpc.cn-hangzhou.aliyuncs.com`: HTTPS).
 */
export function parseEndpoint(value: string): EndpointSettings {
    const match = /^(https?):\/\/([^/]+)\/?$/i.exec(value.trim());
    if (match) return { protocol: match[1].toLowerCase() as "http" | "https", host: match[2] };
    if (/^[^/\s]+$/.test(value.trim())) return { protocol: "https", host: value.trim() };
    throw new Error(
        `ECS endpoint ${JSON.stringify(value)} is not valid: use a host such as ecs-vpc.cn-hangzhou.aliyuncs.com or a URL such as http://127.0.0.1:8080`,
    );
}

/**
 * The ECS entry of `alicloud:endpoints`, as @pulumi/alicloud users set it: a JSON list of objects
 * (`[{"ecs": "…"}]`) or a single object.
 */
function ecsEndpointFromConfig(config: ConfigSource): string | undefined {
    const raw = config.get("alicloud:endpoints");
    if (!raw) return undefined;
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw);
    } catch {
        throw new Error('alicloud:endpoints is not valid JSON: set it as a list such as [{"ecs": "http://127.0.0.1:8080"}]');
    }
    const entries = Array.isArray(parsed) ? parsed : [parsed];
    for (const entry of entries) {
        const ecs = (entry as Record<string, unknown> | null)?.ecs;
        if (typeof ecs === "string" && ecs !== "") return ecs;
    }
    return undefined;
}

/** The name of the first source that is set, in the order given. */
function originOf(sources: [string, string | undefined][]): string | undefined {
    return sources.find(([, value]) => value !== undefined && value !== "")?.[0];
}

export function resolveSettings(config: ConfigSource = NO_CONFIG, env: NodeJS.ProcessEnv = process.env): ProviderSettings {
    const endpointSources: [string, string | undefined][] = [
        ["stack config alicloud:endpoints", ecsEndpointFromConfig(config)],
        ["ALIBABA_CLOUD_ECS_ENDPOINT", env.ALIBABA_CLOUD_ECS_ENDPOINT],
    ];
    const regionSources: [string, string | undefined][] = [
        ["stack config alicloud:region", config.get("alicloud:region")],
        ["ALIBABA_CLOUD_REGION_ID", env.ALIBABA_CLOUD_REGION_ID],
        ["ALICLOUD_REGION", env.ALICLOUD_REGION],
    ];
    const endpoint = firstSet(...endpointSources.map(([, value]) => value));
    return {
        defaultRegion: firstSet(...regionSources.map(([, value]) => value)),
        credentials: resolveCredentials(config, env),
        endpoint: endpoint ? parseEndpoint(endpoint) : undefined,
        origins: { region: originOf(regionSources), endpoint: originOf(endpointSources) },
    };
}

export function requireRegion(settings: ProviderSettings, region: string | undefined): string {
    const resolved = region ?? settings.defaultRegion;
    if (!resolved) {
        throw new Error(
            "No ECS region: set `region` on the KeyPairAttachment, or `pulumi config set alicloud:region cn-hangzhou`, or ALIBABA_CLOUD_REGION_ID",
        );
    }
    return resolved;
}
