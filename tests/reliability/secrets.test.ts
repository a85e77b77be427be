/**
 * Secrets on the provider side: a canary access key secret and STS token (from environment
 * variables, and from stack configuration) never appear in hook results, error messages — on the
 * failure paths too — or anything the lifecycle logs or prints. A canary `passwordOnUnbind` appears
 * only as that output's own value (which the program side marks secret).
 */
import * as ecs from "@alicloud/ecs20140526";
import { inspect } from "node:util";
import { FaultRule } from "../../emulator";
import { ecsClient } from "../emulator/helpers";
import { REGION, Rig, inputs, settle, startRig } from "./harness";
import type { KeyPairAttachmentOutputs } from "../../provider/types";

const CANARY_KEY_ID = "LTAI5tCanaryKeyId0001";
const CANARY_SECRET = "CanarySecret7f3a9c1e5b2d8f4a6c0e";
const CANARY_TOKEN = "CAIS-canary-token-4b9e2f7a1c8d3e6f0a5b";
const CANARY_PASSWORD = "Canary-Pw-7391xq";
const CANARIES = [CANARY_SECRET, CANARY_TOKEN, CANARY_PASSWORD];

const SEED = {
    accessKeys: [{ accessKeyId: CANARY_KEY_ID, accessKeySecret: CANARY_SECRET, securityToken: CANARY_TOKEN }],
    keyPairs: [{ name: "ops" }],
    instances: [{ id: "i-a" }, { id: "i-b" }, { id: "i-c" }],
};

const SOURCES: [string, { config: Record<string, string>; env: NodeJS.ProcessEnv }][] = [
    [
        "environment variables",
        {
            config: { "alicloud:region": REGION },
            env: {
                ALIBABA_CLOUD_ACCESS_KEY_ID: CANARY_KEY_ID,
                ALIBABA_CLOUD_ACCESS_KEY_SECRET: CANARY_SECRET,
                ALIBABA_CLOUD_SECURITY_TOKEN: CANARY_TOKEN,
            },
        },
    ],
    [
        "stack configuration",
        {
            config: {
                "alicloud:region": REGION,
                "alicloud:accessKey": CANARY_KEY_ID,
                "alicloud:secretKey": CANARY_SECRET,
                "alicloud:securityToken": CANARY_TOKEN,
            },
            env: {},
        },
    ],
];

/** Everything a value holds, as deep as it goes: own and hidden properties, causes, stacks. */
function everything(value: unknown): string {
    const parts = [
        inspect(value, { depth: Infinity, showHidden: true, getters: false, maxStringLength: Infinity, maxArrayLength: Infinity }),
    ];
    if (value instanceof Error) parts.push(value.message, value.stack ?? "");
    try {
        parts.push(JSON.stringify(value) ?? "");
    } catch {
        // Circular: inspect above has it.
    }
    return parts.join("\n");
}

function expectNoCanary(what: string, value: unknown): void {
    const text = everything(value);
    expect(CANARIES.filter((canary) => text.includes(canary)).map((canary) => `${what} contains ${canary}`)).toEqual([]);
}

/** Outputs may carry the password only as `passwordOnUnbind` (an input echoed back, secret in the state). */
function expectNoCanaryInOutputs(what: string, outs: object | undefined): void {
    if (!outs) return;
    const { passwordOnUnbind, ...rest } = outs as Record<string, unknown>;
    // Absent, or exactly the input: never another value that could carry (part of) it.
    expect([undefined, CANARY_PASSWORD]).toContainEqual(passwordOnUnbind);
    expectNoCanary(what, rest);
}

/**
 * A PartialBindingError carries the properties the engine records (inputs spread with outputs), so
 * the password may be there as `passwordOnUnbind`, as in the outputs; nowhere else.
 */
function expectNoCanaryInError(what: string, error: unknown): void {
    if (!(error instanceof Error) || !("properties" in error)) return expectNoCanary(what, error);
    const { properties, ...fields } = error as Error & { properties: Record<string, unknown> };
    expectNoCanaryInOutputs(`${what} properties`, properties);
    expectNoCanary(what, { ...fields, message: error.message, stack: error.stack });
}

/** Captures what the process prints while `run` runs (console and the raw streams). */
async function capturingOutput<T>(run: () => Promise<T>): Promise<{ result: T; printed: string }> {
    const printed: string[] = [];
    const spies = [
        ...(["log", "info", "warn", "error", "debug"] as const).map((method) =>
            jest
                .spyOn(console, method)
                .mockImplementation((...args: unknown[]) => void printed.push(args.map((a) => everything(a)).join(" "))),
        ),
        jest.spyOn(process.stdout, "write").mockImplementation((chunk: unknown) => (printed.push(String(chunk)), true)),
        jest.spyOn(process.stderr, "write").mockImplementation((chunk: unknown) => (printed.push(String(chunk)), true)),
    ];
    try {
        return { result: await run(), printed: printed.join("\n") };
    } finally {
        for (const spy of spies) spy.mockRestore();
    }
}

interface StepState {
    id: string;
    /** Set by the create step, which runs first. */
    outs: KeyPairAttachmentOutputs;
}

interface Step {
    name: string;
    faults?: FaultRule[];
    /** `state` carries the resource between steps, as the engine's state does. */
    run: (rig: Rig, state: StepState) => Promise<{ outs?: object; error?: unknown }>;
    expectError?: boolean;
}

const PASSWORD = { passwordOnUnbind: CANARY_PASSWORD };

const STEPS: Step[] = [
    {
        name: "create (succeeds)",
        run: (rig, s) =>
            settle(rig.hooks.create(inputs("ops", ["i-a", "i-b"], PASSWORD)).then((r) => ((s.id = r.id), (s.outs = r.outs), r))),
    },
    { name: "read (succeeds)", run: (rig, s) => settle(rig.hooks.read(s.id, s.outs).then((r) => ({ outs: r.props }))) },
    {
        name: "update with a per-instance attach failure (partial state)",
        faults: [{ action: "AttachKeyPair", instanceFailures: [{ instanceId: "i-c", code: "IncorrectInstanceStatus" }] }],
        run: (rig, s) => settle(rig.hooks.update(s.id, s.outs, inputs("ops", ["i-a", "i-b", "i-c"], PASSWORD))),
        expectError: true,
    },
    {
        name: "update unbinding with the password, ModifyInstanceAttribute failing",
        faults: [{ action: "ModifyInstanceAttribute", code: "InternalError", times: Infinity }],
        run: (rig, s) => settle(rig.hooks.update(s.id, s.outs, inputs("ops", ["i-a"], PASSWORD)).then((r) => ((s.outs = r.outs), r))),
    },
    {
        name: "create refused by DescribeInstances (403)",
        faults: [{ action: "DescribeInstances", code: "Forbidden.RAM", status: 403 }],
        run: (rig) => settle(rig.hooks.create(inputs("ops", ["i-b"], PASSWORD))),
        expectError: true,
    },
    {
        name: "create with every connection dropped",
        faults: [{ dropConnection: true, times: Infinity }],
        run: (rig) => settle(rig.hooks.create(inputs("ops", ["i-b"], PASSWORD))),
        expectError: true,
    },
    {
        name: "create with RebootInstances failing (500 until the retries run out)",
        faults: [{ action: "RebootInstances", code: "InternalError", times: Infinity }],
        run: (rig) => settle(rig.hooks.create(inputs("ops", ["i-c"], PASSWORD))),
        expectError: true,
    },
    {
        name: "delete with DetachKeyPair refused",
        faults: [{ action: "DetachKeyPair", code: "Forbidden.RAM", status: 403 }],
        run: (rig, s) => settle(rig.hooks.delete(s.id, s.outs).then(() => ({ outs: {} }))),
        expectError: true,
    },
    { name: "delete (succeeds)", run: (rig, s) => settle(rig.hooks.delete(s.id, s.outs).then(() => ({ outs: {} }))) },
];

describe.each(SOURCES)("credentials from %s", (_source, { config, env }) => {
    test("no hook result, error or log line contains the secret, the token or the password", async () => {
        const rig = await startRig(SEED, { config, env, retry: { maxAttempts: 3 } });
        try {
            expect(rig.settings.credentials).toMatchObject({ kind: "static", accessKeyId: CANARY_KEY_ID });
            // The scanner does find the canaries where they legitimately are (the in-memory settings).
            expect(() => expectNoCanary("settings", rig.settings)).toThrow();
            const state: StepState = { id: "", outs: {} as KeyPairAttachmentOutputs };
            for (const step of STEPS) {
                rig.emulator.faults.clear();
                for (const fault of step.faults ?? []) rig.emulator.faults.add(fault);
                const { result, printed } = await capturingOutput(() => step.run(rig, state));
                expect([step.name, result.error !== undefined]).toEqual([step.name, step.expectError === true]);
                expectNoCanaryInOutputs(`${step.name}: outputs`, result.outs);
                if (result.error) expectNoCanaryInError(`${step.name}: error`, result.error);
                expectNoCanary(`${step.name}: printed output`, printed);
            }
            expectNoCanary("the lifecycle's log", rig.logs);
            // The failure paths really ran, with these credentials, against an emulator that checks them.
            expect(rig.emulator.calls.filter((c) => c.status === 200).length).toBeGreaterThan(5);
            expect(rig.emulator.calls.filter((c) => c.status >= 400).length).toBeGreaterThan(3);
            expect(rig.emulator.model.instance("i-b")!.password).toBe(undefined);
        } finally {
            await rig.close();
        }
    });

    test("a rejected signature and a rejected token: the errors name neither secret", async () => {
        // The emulator knows this key id with another secret and token: every call is refused.
        const rig = await startRig(
            { ...SEED, accessKeys: [{ accessKeyId: CANARY_KEY_ID, accessKeySecret: "another-secret", securityToken: "another-token" }] },
            { config, env },
        );
        try {
            const { result, printed } = await capturingOutput(() => settle(rig.hooks.create(inputs("ops", ["i-a"]))));
            expect(everything(result.error)).toMatch(/SignatureDoesNotMatch/);
            expectNoCanary("signature error", result.error);
            expectNoCanary("printed output", printed);

            const tokenOnly = await startRig(
                { ...SEED, accessKeys: [{ accessKeyId: CANARY_KEY_ID, accessKeySecret: CANARY_SECRET, securityToken: "another-token" }] },
                { config, env },
            );
            try {
                const refused = await settle(tokenOnly.hooks.create(inputs("ops", ["i-a"])));
                expect(everything(refused.error)).toMatch(/InvalidSecurityToken/);
                expectNoCanary("token error", refused.error);
            } finally {
                await tokenOnly.close();
            }
        } finally {
            await rig.close();
        }
    });
});

test("the emulator's call log (also served at /_emulator/calls) never shows an STS token, though V1 sends it as a parameter", async () => {
    const rig = await startRig(SEED);
    try {
        for (const signatureAlgorithm of [undefined, "v2" as const]) {
            const client = ecsClient(rig.emulator, {
                accessKeyId: CANARY_KEY_ID,
                accessKeySecret: CANARY_SECRET,
                securityToken: CANARY_TOKEN,
                signatureAlgorithm,
            });
            await client.describeKeyPairs(new ecs.DescribeKeyPairsRequest({ regionId: REGION }));
        }
        expect(rig.emulator.calls.map((c) => c.status)).toEqual([200, 200]);
        expect(rig.emulator.calls[1].params.SecurityToken).toBe("******");
        expectNoCanary("call log", rig.emulator.calls);
        expectNoCanary("GET /_emulator/calls", await (await fetch(`${rig.emulator.url}/_emulator/calls`)).text());
    } finally {
        await rig.close();
    }
});
