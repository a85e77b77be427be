import { parseEndpoint, requireRegion, resolveSettings } from "../../provider/config";

const config = (values: Record<string, string>) => ({ get: (key: string) => values[key] });

describe("resolveSettings", () => {
    test("stack config wins over the environment", () => {
        const settings = resolveSettings(
            config({ "alicloud:region": "cn-beijing", "alicloud:accessKey": "AK1", "alicloud:secretKey": "S1" }),
            { ALIBABA_CLOUD_REGION_ID: "cn-hangzhou", ALIBABA_CLOUD_ACCESS_KEY_ID: "AK2", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "S2" },
        );
        expect(settings.defaultRegion).toBe("cn-beijing");
        expect(settings.credentials).toMatchObject({ kind: "static", accessKeyId: "AK1", accessKeySecret: "S1" });
    });

    test("ALIBABA_CLOUD_* environment, then the Terraform/Pulumi ALICLOUD_* names", () => {
        expect(
            resolveSettings(config({}), {
                ALIBABA_CLOUD_ACCESS_KEY_ID: "AK2",
                ALIBABA_CLOUD_ACCESS_KEY_SECRET: "S2",
                ALIBABA_CLOUD_SECURITY_TOKEN: "T2",
                ALICLOUD_ACCESS_KEY: "AK3",
                ALICLOUD_SECRET_KEY: "S3",
            }).credentials,
        ).toMatchObject({ accessKeyId: "AK2", securityToken: "T2" });
        expect(
            resolveSettings(config({}), { ALICLOUD_ACCESS_KEY: "AK3", ALICLOUD_SECRET_KEY: "S3", ALICLOUD_REGION: "eu-central-1" }),
        ).toMatchObject({ defaultRegion: "eu-central-1", credentials: { accessKeyId: "AK3" } });
    });

    test("a profile, then the default credential chain", () => {
        expect(resolveSettings(config({ "alicloud:profile": "prod" }), {}).credentials).toMatchObject({ kind: "profile", profile: "prod" });
        expect(resolveSettings(config({}), {}).credentials.kind).toBe("default-chain");
    });

    test("endpoint from alicloud:endpoints, then ALIBABA_CLOUD_ECS_ENDPOINT", () => {
        expect(
            resolveSettings(config({ "alicloud:endpoints": '[{"ecs":"http://127.0.0.1:9000"}]' }), {
                ALIBABA_CLOUD_ECS_ENDPOINT: "http://127.0.0.1:1",
            }).endpoint,
        ).toEqual({ protocol: "http", host: "127.0.0.1:9000" });
        expect(resolveSettings(config({}), { ALIBABA_CLOUD_ECS_ENDPOINT: "ecs-vpc.cn-hangzhou.aliyuncs.com" }).endpoint).toEqual({
            protocol: "https",
            host: "ecs-vpc.cn-hangzhou.aliyuncs.com",
        });
        expect(() => resolveSettings(config({ "alicloud:endpoints": "{nope" }), {})).toThrow(/not valid JSON.*\[\{"ecs"/);
    });

    test.each([
        ["http://127.0.0.1:8080", { protocol: "http", host: "127.0.0.1:8080" }],
        ["https://ecs.example.com/", { protocol: "https", host: "ecs.example.com" }],
        ["ecs.cn-hangzhou.aliyuncs.com", { protocol: "https", host: "ecs.cn-hangzhou.aliyuncs.com" }],
    ])("parseEndpoint(%s)", (value, expected) => {
        expect(parseEndpoint(value)).toEqual(expected);
    });

    test("a bad endpoint says what is allowed", () => {
        expect(() => parseEndpoint("ftp://x/y")).toThrow(/use a host such as .* or a URL such as http/);
    });

    test("a missing region says how to set one", () => {
        expect(() => requireRegion(resolveSettings(config({}), {}), undefined)).toThrow(/alicloud:region/);
        expect(requireRegion(resolveSettings(config({}), {}), "cn-shanghai")).toBe("cn-shanghai");
    });
});
