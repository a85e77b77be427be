/**
 * convergedOutputs, field by field: each row is one situation a create or update can end in, and
 * states every output field it must produce. The rows cover each field alone and the interactions
 * between them (a fresh attach clears an old pending flag, a restart clears pending and owed, a
 * rebind clears the password-reset flags, a failed attach leaves its key as a leftover).
 */
import type { InstanceFacts } from "../../provider/ecs/instance";
import { ConvergeRecord, UnbindOutcome, convergedOutputs, refreshedOutputs } from "../../provider/outputs";
import type { KeyPairAttachmentOutputs } from "../../provider/types";
import { recordedOutputs } from "../integration/fixture";

const REGION = "cn-hangzhou";

function facts(...entries: [string, Partial<InstanceFacts>][]): Map<string, InstanceFacts> {
    return new Map(
        entries.map(([instanceId, f]) => [
            instanceId,
            { instanceId, status: "Running", osType: "linux", ioOptimized: true, lockedForSecurity: false, ...f },
        ]),
    );
}

const NO_UNBIND: UnbindOutcome = { detached: [], failed: [], passwordSet: [], passwordFailures: [], restart: [], pending: [] };
const NO_ONLINE: ConvergeRecord["online"] = { activated: [], pending: [], owed: [] };
const failure = (instanceId: string, code = "InternalError") => ({ instanceId, code, message: "it failed" });

/** A run that did nothing; each row overrides what happened. */
function record(overrides: Partial<ConvergeRecord> & { instanceIds: string[] }): ConvergeRecord {
    const { instanceIds, ...rest } = overrides;
    return {
        region: REGION,
        desired: { keyPairName: "ops", instanceIds },
        facts: facts(...instanceIds.map((id): [string, Partial<InstanceFacts>] => [id, {}])),
        ownKeys: new Set(),
        unbound: NO_UNBIND,
        bind: { alreadyBound: [], replaced: {} },
        attached: { succeeded: [], failed: [] },
        online: NO_ONLINE,
        bindRestart: { pending: [] },
        owedRetried: [],
        restarts: { restarted: [], failed: [], owed: [] },
        restartedBeforeShown: [],
        ...rest,
    };
}

/** Outputs an earlier run recorded (the test fixture's shape of the state). */
function previous(fields: Partial<KeyPairAttachmentOutputs>): KeyPairAttachmentOutputs {
    return recordedOutputs({ keyPairName: "ops", instanceIds: [], ...fields });
}

type ConvergedFields = Omit<
    Required<KeyPairAttachmentOutputs>,
    "keyPairName" | "region" | "restart" | "passwordOnUnbind" | "activation" | "online" | "waitForReadySeconds"
>;

/** Every field a row does not name must be empty. */
const EMPTY: ConvergedFields = {
    instanceIds: [],
    restartedInstanceIds: [],
    onlineActivatedInstanceIds: [],
    pendingRestartInstanceIds: [],
    passwordResetRequiredInstanceIds: [],
    passwordResetFailures: {},
    replacedKeyPairs: {},
    restartOwedInstanceIds: [],
    leftoverKeyPairs: {},
};

test.each<[string, ConvergeRecord, Partial<ConvergedFields>]>([
    [
        "attached and restarted: bound, restarted, nothing pending",
        record({
            instanceIds: ["i-a"],
            attached: { succeeded: ["i-a"], failed: [] },
            restarts: { restarted: ["i-a"], failed: [], owed: [] },
        }),
        { instanceIds: ["i-a"], restartedInstanceIds: ["i-a"] },
    ],
    [
        "already holding the key: bound, nothing restarted",
        record({ instanceIds: ["i-a"], bind: { alreadyBound: ["i-a"], replaced: {} } }),
        { instanceIds: ["i-a"] },
    ],
    [
        "attached while Stopped: bound and pending (never started by us)",
        record({ instanceIds: ["i-s"], attached: { succeeded: ["i-s"], failed: [] }, bindRestart: { pending: ["i-s"] } }),
        { instanceIds: ["i-s"], pendingRestartInstanceIds: ["i-s"] },
    ],
    [
        "bound order follows instanceIds, not the order of the calls",
        record({
            instanceIds: ["i-b", "i-a"],
            attached: { succeeded: ["i-a"], failed: [] },
            bind: { alreadyBound: ["i-b"], replaced: {} },
        }),
        { instanceIds: ["i-b", "i-a"] },
    ],
    [
        "attach refused: not bound, not pending; a key of this resource it still holds is a leftover",
        record({
            instanceIds: ["i-a", "i-b"],
            facts: facts(["i-a", { keyPairName: "old" }], ["i-b", { keyPairName: "someone-else" }]),
            ownKeys: new Set(["old"]),
            attached: { succeeded: [], failed: [failure("i-a"), failure("i-b")] },
        }),
        { leftoverKeyPairs: { "i-a": "old" } },
    ],
    [
        "attach replaced another key: reported; an earlier replacement is kept while bound, dropped when not",
        record({
            instanceIds: ["i-a", "i-b"],
            previous: previous({ instanceIds: ["i-b", "i-gone"], replacedKeyPairs: { "i-b": "legacy", "i-gone": "legacy" } }),
            bind: { alreadyBound: ["i-b"], replaced: { "i-a": "other" } },
            attached: { succeeded: ["i-a"], failed: [] },
            restarts: { restarted: ["i-a"], failed: [], owed: [] },
        }),
        { instanceIds: ["i-a", "i-b"], restartedInstanceIds: ["i-a"], replacedKeyPairs: { "i-a": "other", "i-b": "legacy" } },
    ],
    [
        "a replacement the attach planned but that failed is not reported",
        record({
            instanceIds: ["i-a"],
            bind: { alreadyBound: [], replaced: { "i-a": "other" } },
            attached: { succeeded: [], failed: [failure("i-a")] },
        }),
        {},
    ],
    [
        "reboot refused: pending and owed (the next update restarts it)",
        record({
            instanceIds: ["i-a"],
            attached: { succeeded: ["i-a"], failed: [] },
            restarts: { restarted: [], failed: [failure("i-a", "IncorrectInstanceStatus")], owed: ["i-a"] },
        }),
        { instanceIds: ["i-a"], pendingRestartInstanceIds: ["i-a"], restartOwedInstanceIds: ["i-a"] },
    ],
    [
        "rebooted but not Running in time: pending, not owed (a second reboot could interrupt the first)",
        record({
            instanceIds: ["i-a"],
            attached: { succeeded: ["i-a"], failed: [] },
            restarts: { restarted: [], failed: [failure("i-a", "RestartTimeout")], owed: [] },
        }),
        { instanceIds: ["i-a"], pendingRestartInstanceIds: ["i-a"] },
    ],
    [
        "restarted before DescribeInstances showed the key: not restarted for it, pending and owed (the next update restarts it)",
        record({
            instanceIds: ["i-a", "i-b"],
            attached: { succeeded: ["i-a", "i-b"], failed: [] },
            restarts: { restarted: ["i-a", "i-b"], failed: [], owed: [] },
            restartedBeforeShown: ["i-b"],
        }),
        { instanceIds: ["i-a", "i-b"], restartedInstanceIds: ["i-a"], pendingRestartInstanceIds: ["i-b"], restartOwedInstanceIds: ["i-b"] },
    ],
    [
        "cut off by a failed rolling wave: pending and owed",
        record({
            instanceIds: ["i-a", "i-b"],
            attached: { succeeded: ["i-a", "i-b"], failed: [] },
            restarts: { restarted: [], failed: [failure("i-a", "RestartTimeout")], owed: ["i-b"] },
        }),
        { instanceIds: ["i-a", "i-b"], pendingRestartInstanceIds: ["i-a", "i-b"], restartOwedInstanceIds: ["i-b"] },
    ],
    [
        "an owed restart retried and done: no longer owed nor pending",
        record({
            instanceIds: ["i-a"],
            previous: previous({ instanceIds: ["i-a"], pendingRestartInstanceIds: ["i-a"], restartOwedInstanceIds: ["i-a"] }),
            bind: { alreadyBound: ["i-a"], replaced: {} },
            owedRetried: ["i-a"],
            restarts: { restarted: ["i-a"], failed: [], owed: [] },
        }),
        { instanceIds: ["i-a"], restartedInstanceIds: ["i-a"] },
    ],
    [
        "an owed restart retried and refused again: still owed and pending",
        record({
            instanceIds: ["i-a"],
            previous: previous({ instanceIds: ["i-a"], pendingRestartInstanceIds: ["i-a"], restartOwedInstanceIds: ["i-a"] }),
            bind: { alreadyBound: ["i-a"], replaced: {} },
            owedRetried: ["i-a"],
            restarts: { restarted: [], failed: [failure("i-a", "IncorrectInstanceStatus")], owed: ["i-a"] },
        }),
        { instanceIds: ["i-a"], pendingRestartInstanceIds: ["i-a"], restartOwedInstanceIds: ["i-a"] },
    ],
    [
        "an owed restart not retried: kept while Running, dropped once Stopped (it takes the key at its next start; still pending)",
        record({
            instanceIds: ["i-run", "i-stop"],
            facts: facts(["i-run", {}], ["i-stop", { status: "Stopped" }]),
            previous: previous({
                instanceIds: ["i-run", "i-stop"],
                pendingRestartInstanceIds: ["i-run", "i-stop"],
                restartOwedInstanceIds: ["i-run", "i-stop"],
            }),
            bind: { alreadyBound: ["i-run", "i-stop"], replaced: {} },
        }),
        { instanceIds: ["i-run", "i-stop"], pendingRestartInstanceIds: ["i-run", "i-stop"], restartOwedInstanceIds: ["i-run"] },
    ],
    [
        "an earlier pending flag: kept while bound, decided afresh by a new attach, dropped when no longer bound",
        record({
            instanceIds: ["i-kept", "i-again"],
            previous: previous({
                instanceIds: ["i-kept", "i-again", "i-removed"],
                pendingRestartInstanceIds: ["i-kept", "i-again", "i-removed"],
            }),
            bind: { alreadyBound: ["i-kept"], replaced: {} },
            attached: { succeeded: ["i-again"], failed: [] },
            restarts: { restarted: ["i-again"], failed: [], owed: [] },
        }),
        { instanceIds: ["i-kept", "i-again"], restartedInstanceIds: ["i-again"], pendingRestartInstanceIds: ["i-kept"] },
    ],
    [
        "unbound without a password: listed as needing a password reset",
        record({ instanceIds: [], unbound: { ...NO_UNBIND, detached: ["i-x"] } }),
        { passwordResetRequiredInstanceIds: ["i-x"] },
    ],
    [
        "unbound with the password set while Running: restarted, no reset needed",
        record({
            instanceIds: [],
            unbound: { ...NO_UNBIND, detached: ["i-x"], passwordSet: ["i-x"], restart: ["i-x"] },
            restarts: { restarted: ["i-x"], failed: [], owed: [] },
        }),
        { restartedInstanceIds: ["i-x"] },
    ],
    [
        "unbound with the password set while Stopped: pending (the password waits for its next start), no reset needed",
        record({ instanceIds: [], unbound: { ...NO_UNBIND, detached: ["i-x"], passwordSet: ["i-x"], pending: ["i-x"] } }),
        { pendingRestartInstanceIds: ["i-x"] },
    ],
    [
        "unbound with the password set, restart refused: pending, but never owed (owed is for bound instances)",
        record({
            instanceIds: [],
            unbound: { ...NO_UNBIND, detached: ["i-x"], passwordSet: ["i-x"], restart: ["i-x"] },
            restarts: { restarted: [], failed: [failure("i-x", "IncorrectInstanceStatus")], owed: ["i-x"] },
        }),
        { pendingRestartInstanceIds: ["i-x"] },
    ],
    [
        "setting the password failed: a reset is needed, and why is said",
        record({ instanceIds: [], unbound: { ...NO_UNBIND, detached: ["i-x"], passwordFailures: [failure("i-x", "Forbidden")] } }),
        { passwordResetRequiredInstanceIds: ["i-x"], passwordResetFailures: { "i-x": "Forbidden: it failed" } },
    ],
    [
        "bound again: earlier reset flags and password failures are dropped (password logon is off under a key)",
        record({
            instanceIds: ["i-x"],
            previous: previous({
                passwordResetRequiredInstanceIds: ["i-x", "i-y"],
                passwordResetFailures: { "i-x": "Forbidden: no", "i-y": "Forbidden: no" },
            }),
            attached: { succeeded: ["i-x"], failed: [] },
            restarts: { restarted: ["i-x"], failed: [], owed: [] },
        }),
        {
            instanceIds: ["i-x"],
            restartedInstanceIds: ["i-x"],
            passwordResetRequiredInstanceIds: ["i-y"],
            passwordResetFailures: { "i-y": "Forbidden: no" },
        },
    ],
    [
        "unbound again with the password set: the earlier reset flag is cleared",
        record({
            instanceIds: [],
            previous: previous({ passwordResetRequiredInstanceIds: ["i-x"], passwordResetFailures: { "i-x": "Forbidden: no" } }),
            unbound: { ...NO_UNBIND, detached: ["i-x"], passwordSet: ["i-x"], pending: ["i-x"] },
        }),
        { pendingRestartInstanceIds: ["i-x"] },
    ],
    [
        "unbind refused: a key of this resource it still holds is a leftover, no reset flag",
        record({
            instanceIds: [],
            facts: facts(["i-x", { keyPairName: "ops" }]),
            ownKeys: new Set(["ops"]),
            unbound: { ...NO_UNBIND, failed: [failure("i-x")] },
        }),
        { leftoverKeyPairs: { "i-x": "ops" } },
    ],
    // Online activation (issue 12).
    [
        "online: activated without a restart, the replaced key reported, nothing pending",
        record({
            instanceIds: ["i-a"],
            facts: facts(["i-a", { keyPairName: "legacy" }]),
            bind: { alreadyBound: [], replaced: { "i-a": "legacy" } },
            attached: { succeeded: ["i-a"], failed: [] },
            online: { ...NO_ONLINE, activated: ["i-a"] },
        }),
        { instanceIds: ["i-a"], onlineActivatedInstanceIds: ["i-a"], replacedKeyPairs: { "i-a": "legacy" } },
    ],
    [
        "online: a fallback to a restart is listed as restarted only; a Stopped one is pending",
        record({
            instanceIds: ["i-a", "i-b", "i-s"],
            facts: facts(["i-a", {}], ["i-b", {}], ["i-s", { status: "Stopped" }]),
            attached: { succeeded: ["i-a", "i-b", "i-s"], failed: [] },
            online: { ...NO_ONLINE, activated: ["i-a"] },
            bindRestart: { pending: ["i-s"] },
            restarts: { restarted: ["i-b"], failed: [], owed: [] },
        }),
        {
            instanceIds: ["i-a", "i-b", "i-s"],
            onlineActivatedInstanceIds: ["i-a"],
            restartedInstanceIds: ["i-b"],
            pendingRestartInstanceIds: ["i-s"],
        },
    ],
    [
        'online, fallback "fail": bound but pending, not owed (no restart is wanted)',
        record({
            instanceIds: ["i-a", "i-f"],
            attached: { succeeded: ["i-a", "i-f"], failed: [] },
            online: { activated: ["i-a"], pending: ["i-f"], owed: [] },
        }),
        { instanceIds: ["i-a", "i-f"], onlineActivatedInstanceIds: ["i-a"], pendingRestartInstanceIds: ["i-f"] },
    ],
    [
        "online, cut off by a failed wave: bound, pending and owed (the next update restarts it)",
        record({
            instanceIds: ["i-a", "i-c"],
            attached: { succeeded: ["i-a", "i-c"], failed: [] },
            online: { activated: [], pending: ["i-c"], owed: ["i-c"] },
            restarts: { restarted: ["i-a"], failed: [], owed: [] },
        }),
        {
            instanceIds: ["i-a", "i-c"],
            restartedInstanceIds: ["i-a"],
            pendingRestartInstanceIds: ["i-c"],
            restartOwedInstanceIds: ["i-c"],
        },
    ],
    [
        "online: an earlier pending flag is cleared by the fresh attach that activated the key",
        record({
            instanceIds: ["i-a"],
            previous: previous({ instanceIds: ["i-a"], pendingRestartInstanceIds: ["i-a"], onlineActivatedInstanceIds: ["i-a"] }),
            attached: { succeeded: ["i-a"], failed: [] },
            online: { ...NO_ONLINE, activated: ["i-a"] },
        }),
        { instanceIds: ["i-a"], onlineActivatedInstanceIds: ["i-a"] },
    ],
    [
        "online: the previous run's activations are not repeated by a run that changed nothing on them",
        record({
            instanceIds: ["i-a"],
            previous: previous({ instanceIds: ["i-a"], onlineActivatedInstanceIds: ["i-a"] }),
            bind: { alreadyBound: ["i-a"], replaced: {} },
        }),
        { instanceIds: ["i-a"] },
    ],
])("%s", (_situation, run, expected) => {
    const outputs = convergedOutputs(run);
    expect(outputs).toEqual({ keyPairName: "ops", region: REGION, ...EMPTY, ...expected });
});

test("the inputs are carried into the outputs; undefined ones are left out (the host cannot encode undefined)", () => {
    const restart = { force: true };
    const withSettings = convergedOutputs(
        record({ instanceIds: [], desired: { keyPairName: "ops", instanceIds: [], restart, passwordOnUnbind: "Secret-1" } }),
    );
    expect(withSettings).toMatchObject({ restart, passwordOnUnbind: "Secret-1" });
    expect(Object.keys(convergedOutputs(record({ instanceIds: [] })))).not.toContain("restart");
    const online = { users: ["root", "deploy"], fallback: "fail" as const };
    expect(
        convergedOutputs(record({ instanceIds: [], desired: { keyPairName: "ops", instanceIds: [], activation: "online", online } })),
    ).toMatchObject({ activation: "online", online });
    expect(Object.keys(convergedOutputs(record({ instanceIds: [] })))).not.toContain("activation");
});

describe("refreshedOutputs (read)", () => {
    test("drops instances gone or holding another key, and what is recorded about them; keeps a leftover still held", () => {
        const props = previous({
            instanceIds: ["i-kept", "i-other", "i-gone"],
            pendingRestartInstanceIds: ["i-kept", "i-other"],
            replacedKeyPairs: { "i-kept": "legacy", "i-other": "legacy" },
            restartOwedInstanceIds: ["i-kept", "i-gone"],
            leftoverKeyPairs: { "i-left": "old", "i-released": "old" },
            passwordResetRequiredInstanceIds: ["i-z"],
        });
        const seen = facts(
            ["i-kept", { keyPairName: "ops" }],
            ["i-other", { keyPairName: "someone-else" }],
            ["i-left", { keyPairName: "old" }],
            ["i-released", {}],
        );
        expect(refreshedOutputs(props, seen)).toEqual({
            ...props,
            instanceIds: ["i-kept"],
            pendingRestartInstanceIds: ["i-kept"],
            replacedKeyPairs: { "i-kept": "legacy" },
            restartOwedInstanceIds: ["i-kept"],
            leftoverKeyPairs: { "i-left": "old" },
        });
    });
});
