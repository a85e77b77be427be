import { UNKNOWN_VALUE, containsUnknown, validateInputs } from "../../provider/validate";

const valid = { keyPairName: "ops-2026", instanceIds: ["i-abc123", "i-def456"] };

function failuresFor(inputs: Record<string, unknown>) {
    return validateInputs(inputs);
}

describe("check: valid inputs", () => {
    test.each([
        ["minimal", valid],
        [
            "with region and every restart setting",
            {
                ...valid,
                region: "cn-hangzhou",
                restart: { enabled: true, force: false, batchSize: 5, timeoutSeconds: 30, pollIntervalSeconds: 0.5, onUnbind: true },
            },
        ],
        ["a Chinese key name", { ...valid, keyPairName: "运维密钥-1" }],
        ["a key name with every allowed symbol", { ...valid, keyPairName: "a:b_c.d-e9" }],
        ["a 128-character key name", { ...valid, keyPairName: "k" + "x".repeat(127) }],
        ["batchSize 0 (all at once)", { ...valid, restart: { batchSize: 0 } }],
        ["a long region id", { ...valid, region: "cn-shanghai-finance-1" }],
        ["the engine's __provider key", { ...valid, __provider: "exports.handler = ..." }],
        ["outputs seeded as undefined by the program", { ...valid, restartedInstanceIds: undefined }],
        ["a password with three kinds of character", { ...valid, passwordOnUnbind: "Abcdefg1" }],
        ["a password with many special characters", { ...valid, passwordOnUnbind: "a1()`~!@#$%^&*-_+=|{}[]:;'<>" }],
        ["a password with the other special characters", { ...valid, passwordOnUnbind: "Ab,.?/ab" }],
    ])("%s passes", (_name, inputs) => {
        expect(failuresFor(inputs)).toEqual([]);
    });
});

test("a password failure never repeats the password", () => {
    for (const password of ["Sh0rt!", "onlylowercase", "Has Space 1", "x".repeat(40)]) {
        const failures = failuresFor({ ...valid, passwordOnUnbind: password });
        expect(failures).toHaveLength(1);
        expect(failures[0].reason).not.toContain(password);
    }
});

describe("check: unknown values are accepted during preview", () => {
    test.each([
        ["whole keyPairName", { ...valid, keyPairName: UNKNOWN_VALUE }],
        ["whole instanceIds", { ...valid, instanceIds: UNKNOWN_VALUE }],
        ["one instance id", { ...valid, instanceIds: ["i-abc", UNKNOWN_VALUE, UNKNOWN_VALUE] }],
        ["region", { ...valid, region: UNKNOWN_VALUE }],
        ["whole restart", { ...valid, restart: UNKNOWN_VALUE }],
        ["a restart setting", { ...valid, restart: { batchSize: UNKNOWN_VALUE, force: UNKNOWN_VALUE } }],
    ])("%s", (_name, inputs) => {
        expect(failuresFor(inputs)).toEqual([]);
    });

    test("containsUnknown finds the sentinel at any depth", () => {
        expect(containsUnknown({ a: [1, { b: UNKNOWN_VALUE }] })).toBe(true);
        expect(containsUnknown({ a: [1, { b: "x" }] })).toBe(false);
    });
});

describe("check: invalid inputs fail on the right property with what is allowed", () => {
    test.each([
        ["missing key name", { instanceIds: ["i-a"] }, "keyPairName", /is required/],
        ["one-character key name", { ...valid, keyPairName: "a" }, "keyPairName", /2–128 characters/],
        ["129-character key name", { ...valid, keyPairName: "k".repeat(129) }, "keyPairName", /2–128 characters/],
        ["key name starting with a digit", { ...valid, keyPairName: "9ops" }, "keyPairName", /starting with a letter/],
        ["key name with a space", { ...valid, keyPairName: "ops key" }, "keyPairName", /not valid/],
        ["key name that is a URL", { ...valid, keyPairName: "https://x" }, "keyPairName", /must not start with http/],
        ["missing instanceIds", { keyPairName: "ops" }, "instanceIds", /at least one instance id/],
        ["empty instanceIds", { ...valid, instanceIds: [] }, "instanceIds", /at least one/],
        ["instanceIds not a list", { ...valid, instanceIds: "i-abc" }, "instanceIds", /list/],
        ["upper-case instance id", { ...valid, instanceIds: ["i-ABC"] }, "instanceIds", /'i-' followed by lower-case letters and digits/],
        ["instance id without prefix", { ...valid, instanceIds: ["abc"] }, "instanceIds", /instanceIds\[0\]/],
        ["duplicate instance id", { ...valid, instanceIds: ["i-a1", "i-a1"] }, "instanceIds", /more than once/],
        ["bad region", { ...valid, region: "Hangzhou" }, "region", /region id such as cn-hangzhou/],
        ["restart not an object", { ...valid, restart: true }, "restart", /must be an object/],
        ["negative batchSize", { ...valid, restart: { batchSize: -1 } }, "restart.batchSize", /whole number ≥ 0/],
        ["fractional batchSize", { ...valid, restart: { batchSize: 1.5 } }, "restart.batchSize", /whole number/],
        ["zero timeout", { ...valid, restart: { timeoutSeconds: 0 } }, "restart.timeoutSeconds", /> 0/],
        ["infinite poll interval", { ...valid, restart: { pollIntervalSeconds: Infinity } }, "restart.pollIntervalSeconds", /> 0/],
        ["string force", { ...valid, restart: { force: "yes" } }, "restart.force", /true or false/],
        ["unknown restart setting", { ...valid, restart: { batch: 5 } }, "restart.batch", /allowed: enabled, force, batchSize/],
        ["unknown input", { ...valid, instanceId: ["i-a"] }, "instanceId", /not an input.*allowed: keyPairName, instanceIds/],
        ["short password", { ...valid, passwordOnUnbind: "Ab1!" }, "passwordOnUnbind", /has 4 characters; allowed: 8–30 characters/],
        ["31-character password", { ...valid, passwordOnUnbind: "Aa1" + "x".repeat(28) }, "passwordOnUnbind", /has 31 characters/],
        ["two kinds of character", { ...valid, passwordOnUnbind: "abcdefgh12" }, "passwordOnUnbind", /only 2 kind\(s\).*at least three of/],
        ["a space in the password", { ...valid, passwordOnUnbind: "Abc 12345!" }, "passwordOnUnbind", /not allowed/],
        ["a non-string password", { ...valid, passwordOnUnbind: 12345678 }, "passwordOnUnbind", /must be a string/],
    ])("%s", (_name, inputs, property, reason) => {
        const failures = failuresFor(inputs);
        expect(failures.map((f) => f.property)).toContain(property);
        expect(failures.find((f) => f.property === property)!.reason).toMatch(reason);
    });

    test("reports every failure at once", () => {
        const failures = failuresFor({ keyPairName: "1", instanceIds: ["bad"], restart: { batchSize: -2 } });
        expect(failures.map((f) => f.property).sort()).toEqual(["instanceIds", "keyPairName", "restart.batchSize"]);
    });
});
