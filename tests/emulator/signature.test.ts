import {
    parseUrlEncoded,
    parseV3Authorization,
    percentEncode,
    sha256Hex,
    v1Signature,
    v1StringToSign,
    v3CanonicalRequest,
    v3Signature,
} from "../../emulator/signature";

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

describe("V3 ACS3-HMAC-SHA256 (ecs-api.md §6.1)", () => {
    test("official D-SIGV3 vector", () => {
        const canonical = v3CanonicalRequest({
            method: "POST",
            query: [
                ["ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"],
                ["RegionId", "cn-shanghai"],
            ],
            signedHeaders: {
                host: "ecs.cn-shanghai.aliyuncs.com",
                "x-acs-action": "RunInstances",
                "x-acs-version": "2014-05-26",
                "x-acs-date": "2023-10-26T10:22:32Z",
                "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
                "x-acs-content-sha256": EMPTY_SHA256,
            },
            payloadHash: EMPTY_SHA256,
        });
        expect(sha256Hex(canonical)).toBe("7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259");
        expect(canonical.split("\n").at(-2)).toBe("host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version");
        expect(v3Signature("YourAccessKeySecret", canonical)).toBe("06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0");
    });

    test("derived ECS AttachKeyPair vector, from the raw wire query the SDK sends", () => {
        // The query exactly as it arrives on the wire; the verifier decodes it before canonicalising.
        const query = parseUrlEncoded("InstanceIds=%5B%22i-bp1aaaa%22%2C%22i-bp1bbbb%22%5D&KeyPairName=test-kp&RegionId=cn-hangzhou");
        const canonical = v3CanonicalRequest({
            method: "POST",
            query,
            signedHeaders: {
                host: "ecs.cn-hangzhou.aliyuncs.com",
                "x-acs-action": "AttachKeyPair",
                "x-acs-version": "2014-05-26",
                "x-acs-date": "2025-01-01T00:00:00Z",
                "x-acs-signature-nonce": "0123456789abcdef0123456789abcdef",
                "x-acs-content-sha256": EMPTY_SHA256,
                "x-acs-credentials-provider": "static_ak",
            },
            payloadHash: EMPTY_SHA256,
        });
        expect(canonical.split("\n")[2]).toBe(
            "InstanceIds=%5B%22i-bp1aaaa%22%2C%22i-bp1bbbb%22%5D&KeyPairName=test-kp&RegionId=cn-hangzhou",
        );
        expect(sha256Hex(canonical)).toBe("19343839cd75b66e37bba0bd7f4d30d8a218e441d089f87e82e7212bcae80424");
        expect(v3Signature("testsecret", canonical)).toBe("f046769b05e04abac0e7b15bc909502cf7f6b0eefdb11cc4778b959e3ca66c33");
    });

    test("the raw query is decoded and re-encoded: `!'()*~` as the SDK leaves them on the wire", () => {
        const query = parseUrlEncoded("KeyPairName=a%20b*c(d)!'~e&RegionId=cn-hangzhou");
        expect(query).toEqual([
            ["KeyPairName", "a b*c(d)!'~e"],
            ["RegionId", "cn-hangzhou"],
        ]);
        expect(percentEncode("a b*c(d)!'~e")).toBe("a%20b%2Ac%28d%29%21%27~e");
    });

    test("Authorization header parsing", () => {
        expect(parseV3Authorization("ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;x-acs-date,Signature=abc")).toEqual({
            algorithm: "ACS3-HMAC-SHA256",
            accessKeyId: "AK",
            signedHeaders: ["host", "x-acs-date"],
            signature: "abc",
        });
        expect(parseV3Authorization("ACS3-HMAC-SHA256 Credential=AK")).toBeUndefined();
    });
});

describe("V1 HMAC-SHA1 (ecs-api.md §6.2)", () => {
    test("D-SIGV1 doc vector", () => {
        const stringToSign = v1StringToSign("GET", [
            ["AccessKeyId", "testid"],
            ["Action", "DescribeRegions"],
            ["Format", "XML"],
            ["SignatureMethod", "HMAC-SHA1"],
            ["SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"],
            ["SignatureVersion", "1.0"],
            ["Timestamp", "2016-02-23T12:46:24Z"],
            ["Version", "2014-05-26"],
        ]);
        expect(stringToSign).toBe(
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
        );
        expect(v1Signature("testsecret", stringToSign)).toBe("OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    });

    test("ECS RebootInstances vector; the Signature parameter itself is excluded", () => {
        const params: [string, string][] = [
            ["Action", "RebootInstances"],
            ["Version", "2014-05-26"],
            ["Format", "json"],
            ["Timestamp", "2025-01-01T00:00:00Z"],
            ["SignatureNonce", "0123456789abcdef"],
            ["BatchOptimization", "SuccessFirst"],
            ["ForceReboot", "true"],
            ["InstanceId.1", "i-bp1aaaa"],
            ["InstanceId.2", "i-bp1bbbb"],
            ["RegionId", "cn-hangzhou"],
            ["SignatureMethod", "HMAC-SHA1"],
            ["SignatureVersion", "1.0"],
            ["AccessKeyId", "testid"],
            ["Signature", "ignored"],
        ];
        expect(v1Signature("testsecret", v1StringToSign("POST", params))).toBe("Gp10pOS8XOI/XrkHV9vB11yc0mk=");
    });
});
