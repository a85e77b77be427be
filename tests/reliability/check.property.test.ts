/**
 * `check` over thousands of generated inputs (fast-check): it never throws, rejects every invalid
 * key pair name, instance id and restart setting with a failure on the right property and a reason
 * saying what is allowed, and accepts every valid value and the engine's unknown sentinel anywhere.
 */
import fc from "fast-check";
import { createLifecycle } from "../../provider/lifecycle";
import type { KeyPairAttachmentInputs } from "../../provider/types";
import { UNKNOWN_VALUE, ValidationFailure, validateInputs } from "../../provider/validate";

const RUNS = { numRuns: 1000 };

/**
 * Validation must not touch the cloud: any use of the dependencies fails the test. The check of an
 * existing resource (olds given) is validation only; a new resource's valid inputs are then looked
 * at in ECS for the preview (tests/integration/preview.test.ts), never its invalid ones.
 */
const hooks = createLifecycle(() => {
    throw new Error("check must not resolve settings or call ECS");
});
const EXISTING: KeyPairAttachmentInputs = { keyPairName: "existing-key", instanceIds: ["i-existing"] };
const check = (news: Record<string, unknown>) => hooks.check(EXISTING, news as unknown as KeyPairAttachmentInputs).then((r) => r.failures);

// ---- generators --------------------------------------------------------------------------------

const LETTERS = [..."abcxyzABCXYZéßøñλΩжЯあカ中文钥匙한글"];
const DIGITS = [..."0123456789"];
const NAME_PUNCTUATION = [...":_.-"];
const letter = fc.constantFrom(...LETTERS);
const nameChar = fc.constantFrom(...LETTERS, ...DIGITS, ...NAME_PUNCTUATION);

const validKeyPairName = fc
    .tuple(letter, fc.array(nameChar, { minLength: 1, maxLength: 127 }))
    .map(([first, rest]) => first + rest.join(""));

const FORBIDDEN_NAME_CHARS = [..." /\\@#$%&*!?,;'\"()[]{}<>=+~`|\t\n"].concat(["😀", "\u0000", "\u200b"]);
const invalidKeyPairName: fc.Arbitrary<unknown> = fc.oneof(
    letter, // too short
    fc.constant(""),
    fc.tuple(letter, fc.array(nameChar, { minLength: 128, maxLength: 300 })).map(([f, r]) => f + r.join("")), // too long
    fc.tuple(fc.constantFrom(...DIGITS, ...NAME_PUNCTUATION, " ", "😀"), validKeyPairName).map(([f, r]) => (f + r).slice(0, 128)), // bad first char
    fc.tuple(validKeyPairName, fc.constantFrom(...FORBIDDEN_NAME_CHARS), fc.nat()).map(([name, bad, at]) => {
        const i = 1 + (at % name.length);
        return (name.slice(0, i) + bad + name.slice(i)).slice(0, 128);
    }), // a forbidden character after the first
    fc.tuple(fc.constantFrom("http://", "https://", "HTTPS://"), validKeyPairName).map(([p, n]) => p + n),
    fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.object()), // not a string
);

const validInstanceId = fc.stringMatching(/^i-[a-z0-9]{1,40}$/);
const invalidInstanceId: fc.Arbitrary<unknown> = fc.oneof(
    fc.stringMatching(/^i-[a-z0-9]*[A-Z_. /][a-z0-9]*$/),
    fc.stringMatching(/^[a-hj-z][a-z]?-[a-z0-9]{1,20}$/),
    fc.constantFrom("i-", "i", "", " i-abc", "i-abc ", "I-abc", "i_abc", "i--abc", "i-abc\n"),
    fc.oneof(fc.integer(), fc.constant(null), fc.boolean(), fc.object()),
);
const validInstanceIds = fc.uniqueArray(validInstanceId, { minLength: 1, maxLength: 20 });

const positiveSeconds = fc.double({ min: 0.001, max: 1e6, noNaN: true });
const validRestart = fc.record(
    {
        enabled: fc.boolean(),
        force: fc.boolean(),
        batchSize: fc.nat({ max: 10_000 }),
        timeoutSeconds: positiveSeconds,
        pollIntervalSeconds: positiveSeconds,
        onUnbind: fc.boolean(),
    },
    { requiredKeys: [] },
);

/** [restart setting, a wrong value, the words the reason must contain]. */
const invalidRestartSetting: fc.Arbitrary<[string, unknown, RegExp]> = fc.oneof(
    fc.tuple(
        fc.constantFrom("enabled", "force", "onUnbind"),
        fc.oneof(fc.constantFrom("true", "false", 0, 1, null, "yes"), fc.object()),
        fc.constant(/true or false/),
    ),
    fc.tuple(
        fc.constant("batchSize"),
        fc.oneof(fc.integer({ max: -1 }), fc.double({ noInteger: true }), fc.constantFrom("5", null, true, Infinity, NaN)),
        fc.constant(/whole number ≥ 0/),
    ),
    fc.tuple(
        fc.constantFrom("timeoutSeconds", "pollIntervalSeconds"),
        fc.oneof(fc.double({ max: 0 }), fc.constantFrom("10", null, true, Infinity, -Infinity, NaN, 0, -0)),
        fc.constant(/number of seconds > 0/),
    ),
);

const extraPropertyName = fc
    .string({ minLength: 1, maxLength: 20 })
    .filter((name) => !name.startsWith("__") && !["keyPairName", "instanceIds", "region", "restart", "passwordOnUnbind"].includes(name));

const validInputs = fc.record(
    {
        keyPairName: validKeyPairName,
        instanceIds: validInstanceIds,
        region: fc.constantFrom("cn-hangzhou", "ap-southeast-1", "cn-shanghai-finance-1", "us-west-1"),
        restart: validRestart,
        __provider: fc.constant("serialized-provider-text"),
    },
    { requiredKeys: ["keyPairName", "instanceIds"] },
);

// ---- properties --------------------------------------------------------------------------------

const KEY_PAIR_RULE = /2–128 characters, starting with a letter \(or a Chinese character\), then letters, digits, ':', '_', '.' or '-'/;
const INSTANCE_ID_RULE = /'i-' followed by lower-case letters and digits/;

function onlyOn(failures: ValidationFailure[], property: string, reason: RegExp): void {
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
        expect(failure.property).toBe(property);
        expect(failure.reason).toMatch(reason);
    }
}

test("never throws, whatever the input object, and returns failures with a property and a reason", async () => {
    await fc.assert(
        fc.asyncProperty(
            fc.dictionary(fc.string(), fc.anything({ withNullPrototype: true, withBigInt: true, withMap: true, withSet: true })),
            async (news) => {
                const failures = await check(news);
                expect(Array.isArray(failures)).toBe(true);
                for (const f of failures)
                    expect(typeof f.property === "string" && typeof f.reason === "string" && f.reason.length > 0).toBe(true);
            },
        ),
        { numRuns: 2000 },
    );
});

test("accepts every valid input", async () => {
    await fc.assert(
        fc.asyncProperty(validInputs, async (news) => expect(await check(news)).toEqual([])),
        RUNS,
    );
});

test("rejects every invalid key pair name, on keyPairName, saying what is allowed", async () => {
    await fc.assert(
        fc.asyncProperty(validInputs, invalidKeyPairName, async (news, keyPairName) =>
            onlyOn(await check({ ...news, keyPairName }), "keyPairName", KEY_PAIR_RULE),
        ),
        RUNS,
    );
});

test("rejects every invalid instance id, wherever it is in the list, on instanceIds, saying what is allowed", async () => {
    await fc.assert(
        fc.asyncProperty(validInputs, invalidInstanceId, fc.nat(), async (news, bad, at) => {
            const ids: unknown[] = [...news.instanceIds];
            ids.splice(at % (ids.length + 1), 0, bad);
            onlyOn(await check({ ...news, instanceIds: ids }), "instanceIds", INSTANCE_ID_RULE);
        }),
        RUNS,
    );
});

test("rejects duplicates, an empty list and a non-list on instanceIds", async () => {
    await fc.assert(
        fc.asyncProperty(validInputs, fc.nat(), async (news, at) => {
            const ids = [...news.instanceIds];
            ids.push(ids[at % ids.length]);
            onlyOn(await check({ ...news, instanceIds: ids }), "instanceIds", /more than once; each instance may appear only once/);
        }),
        RUNS,
    );
    await fc.assert(
        fc.asyncProperty(
            validInputs,
            fc.oneof(fc.constant([]), fc.string(), fc.integer(), fc.constant(null), fc.object()),
            async (news, instanceIds) => onlyOn(await check({ ...news, instanceIds }), "instanceIds", /at least one instance id/),
        ),
        RUNS,
    );
});

test("rejects every restart setting of a wrong type or range, on restart.<setting>, saying what is allowed", async () => {
    await fc.assert(
        fc.asyncProperty(validInputs, invalidRestartSetting, async (news, [name, value, reason]) =>
            onlyOn(await check({ ...news, restart: { ...news.restart, [name]: value } }), `restart.${name}`, reason),
        ),
        RUNS,
    );
});

test("rejects a restart that is not an object, and unknown restart settings", async () => {
    await fc.assert(
        fc.asyncProperty(
            validInputs,
            fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.boolean())),
            async (news, restart) =>
                onlyOn(
                    await check({ ...news, restart }),
                    "restart",
                    /must be an object with any of: enabled, force, batchSize, timeoutSeconds, pollIntervalSeconds, onUnbind/,
                ),
        ),
        RUNS,
    );
    await fc.assert(
        fc.asyncProperty(
            validInputs,
            fc
                .string({ minLength: 1 })
                .filter((n) => !["enabled", "force", "batchSize", "timeoutSeconds", "pollIntervalSeconds", "onUnbind"].includes(n)),
            async (news, name) =>
                onlyOn(
                    await check({ ...news, restart: { ...news.restart, [name]: true } }),
                    `restart.${name}`,
                    /is not a restart setting; allowed: enabled/,
                ),
        ),
        RUNS,
    );
});

test("rejects unknown extra properties by name, saying which inputs exist", async () => {
    await fc.assert(
        fc.asyncProperty(
            validInputs,
            extraPropertyName,
            fc.anything().filter((v) => v !== undefined),
            async (news, name, value) =>
                onlyOn(
                    await check({ ...news, [name]: value }),
                    name,
                    /is not an input of KeyPairAttachment; allowed: keyPairName, instanceIds, region, restart/,
                ),
        ),
        RUNS,
    );
});

test("accepts the unknown sentinel anywhere: any value, a list element, a restart setting", async () => {
    const paths = fc.constantFrom(
        "keyPairName",
        "instanceIds",
        "instanceIds[]",
        "region",
        "restart",
        "restart.enabled",
        "restart.batchSize",
        "restart.timeoutSeconds",
        "passwordOnUnbind",
    );
    await fc.assert(
        fc.asyncProperty(validInputs, fc.uniqueArray(paths, { minLength: 1, maxLength: 4 }), fc.nat(), async (news, unknownPaths, at) => {
            const patched: Record<string, any> = { ...news, restart: { ...news.restart } };
            for (const path of unknownPaths) {
                if (path === "instanceIds[]" && Array.isArray(patched.instanceIds))
                    patched.instanceIds = patched.instanceIds.map((id: string, i: number) =>
                        i === at % patched.instanceIds.length ? UNKNOWN_VALUE : id,
                    );
                else if (path.startsWith("restart.")) {
                    if (typeof patched.restart === "object") patched.restart[path.slice("restart.".length)] = UNKNOWN_VALUE;
                } else if (!path.endsWith("[]")) patched[path] = UNKNOWN_VALUE;
            }
            expect(await check(patched)).toEqual([]);
        }),
        RUNS,
    );
});

test("validateInputs and check agree", async () => {
    await fc.assert(
        fc.asyncProperty(
            fc.record({
                keyPairName: fc.oneof(validKeyPairName, invalidKeyPairName),
                instanceIds: fc.array(fc.oneof(validInstanceId, invalidInstanceId)),
            }),
            async (news) => expect(await check(news)).toEqual(validateInputs(news)),
        ),
        RUNS,
    );
});

// Ids longer than 64 characters are refused although they follow the character rule, so the
// reason must state the length limit too (README.md, fixed bug 5).
test("a too-long instance id is rejected with a reason that states the length limit", async () => {
    const failures = await check({ keyPairName: "ops", instanceIds: [`i-${"a".repeat(63)}`] });
    onlyOn(failures, "instanceIds", /at most|characters/);
});
