/** The preview's impact: pure planning from instance facts, and how it reads. */
import { InstanceFacts } from "../../provider/ecs/instance";
import { ImpactRequest, planImpact, refusal, renderImpact } from "../../provider/impact";
import { impactRequest } from "../../provider/preview";
import { RESTART_DEFAULTS, RestartSettings } from "../../provider/types";
import { UNKNOWN_VALUE } from "../../provider/validate";

const REGION = "cn-hangzhou";

function facts(...entries: [string, Partial<InstanceFacts>][]): Map<string, InstanceFacts> {
    return new Map(
        entries.map(([instanceId, f]) => [
            instanceId,
            { instanceId, status: "Running", osType: "linux", ioOptimized: true, lockedForSecurity: false, ...f },
        ]),
    );
}

type RequestOverrides = Partial<Omit<ImpactRequest, "restart">> & { restart?: RestartSettings };

function request(overrides: RequestOverrides = {}): ImpactRequest {
    return {
        keyPairName: "ops",
        region: REGION,
        instanceIds: [],
        unknownInstanceIds: 0,
        removed: [],
        undecidedRemovals: [],
        ownKeyPairNames: new Set(),
        passwordOnUnbind: false,
        owedRestarts: [],
        restartKnown: true,
        ...overrides,
        restart: { ...RESTART_DEFAULTS, ...overrides.restart },
    };
}

/** The case: four instances, three running (one holding another key), one stopped. */
const FOUR = facts(["i-1", {}], ["i-2", {}], ["i-3", { keyPairName: "legacy" }], ["i-4", { status: "Stopped" }]);

describe("planImpact", () => {
    test.each<[string, RequestOverrides, Map<string, InstanceFacts>, Partial<ReturnType<typeof planImpact>>]>([
        [
            "four instances, three running, one holding another key, one stopped; waves of 2",
            { instanceIds: ["i-1", "i-2", "i-3", "i-4"], restart: { batchSize: 2 } },
            FOUR,
            {
                attach: ["i-1", "i-2", "i-3", "i-4"],
                restart: ["i-1", "i-2", "i-3"],
                waves: 2,
                atNextStart: ["i-4"],
                replaced: { "i-3": "legacy" },
                unbind: [],
            },
        ],
        ["all at once: one wave", { instanceIds: ["i-1", "i-2", "i-3"] }, FOUR, { waves: 1 }],
        [
            "restart.enabled false: nothing restarts, the running ones take it at their next restart",
            { instanceIds: ["i-1", "i-4"], restart: { enabled: false } },
            FOUR,
            { restart: [], waves: 0, notRestarted: ["i-1"], atNextStart: ["i-4"] },
        ],
        [
            "an instance that already holds the key: nothing to do",
            { instanceIds: ["i-1", "i-2"] },
            facts(["i-1", { keyPairName: "ops" }], ["i-2", {}]),
            { attach: ["i-2"], alreadyBound: ["i-1"], restart: ["i-2"] },
        ],
        [
            "a key change: the resource's own previous key is not reported as replaced",
            { instanceIds: ["i-1"], ownKeyPairNames: new Set(["ops-old"]) },
            facts(["i-1", { keyPairName: "ops-old" }]),
            { attach: ["i-1"], replaced: {} },
        ],
        [
            "a removed instance still holding the key is unbound and needs a password reset",
            { instanceIds: ["i-1"], removed: ["i-2", "i-3"], ownKeyPairNames: new Set(["ops"]) },
            facts(["i-1", { keyPairName: "ops" }], ["i-2", { keyPairName: "ops" }], ["i-3", { keyPairName: "someone-else" }]),
            { attach: [], unbind: ["i-2"], passwordResetRequired: ["i-2"], passwordSet: [], restart: [] },
        ],
        [
            "with passwordOnUnbind the unbound running instance gets it and a restart",
            { instanceIds: ["i-1"], removed: ["i-2"], ownKeyPairNames: new Set(["ops"]), passwordOnUnbind: true },
            facts(["i-1", { keyPairName: "ops" }], ["i-2", { keyPairName: "ops" }]),
            { unbind: ["i-2"], passwordSet: ["i-2"], passwordResetRequired: [], restart: ["i-2"], waves: 1 },
        ],
        [
            "forced: bound and unbound restart in separate wave sequences",
            { instanceIds: ["i-1", "i-2"], removed: ["i-3"], ownKeyPairNames: new Set(["ops"]), restart: { force: true, onUnbind: true } },
            facts(["i-1", {}], ["i-2", {}], ["i-3", { keyPairName: "ops" }]),
            { restart: ["i-1", "i-2", "i-3"], waves: 2 },
        ],
        [
            "an owed restart of an instance already bound is made",
            { instanceIds: ["i-1"], owedRestarts: ["i-1"], ownKeyPairNames: new Set(["ops"]) },
            facts(["i-1", { keyPairName: "ops" }]),
            { attach: [], restart: ["i-1"], waves: 1 },
        ],
        [
            "a transitional instance is waited for, not counted as stopped",
            { instanceIds: ["i-1"] },
            facts(["i-1", { status: "Starting" }]),
            { transitional: ["i-1"], atNextStart: [], restart: [] },
        ],
        [
            "a key pair not known yet: every known instance counts as changing, no key is said replaced",
            { keyPairName: undefined, instanceIds: ["i-3"] },
            FOUR,
            { attach: ["i-3"], replaced: {}, restart: ["i-3"] },
        ],
    ])("%s", (_name, overrides, instanceFacts, expected) => {
        expect(planImpact(request(overrides), instanceFacts)).toMatchObject(expected);
    });
});

describe("refusal", () => {
    test.each<[string, Map<string, InstanceFacts>, boolean | undefined, RegExp | undefined]>([
        ["all eligible, key exists", FOUR, true, undefined],
        ["a Windows instance", facts(["i-1", {}], ["i-2", { osType: "windows" }]), true, /i-2: DependencyViolation\.WindowsInstance/],
        ["a Generation I instance", facts(["i-1", {}], ["i-2", { ioOptimized: false }]), true, /i-2: DependencyViolation\.IoOptimize/],
        ["a locked instance", facts(["i-1", {}], ["i-2", { lockedForSecurity: true }]), true, /i-2: InstanceLockedForSecurity/],
        ["a missing instance", facts(["i-1", {}]), true, /i-2: InvalidInstanceId\.NotFound does not exist in region cn-hangzhou/],
        [
            "a missing key pair",
            facts(["i-1", {}], ["i-2", {}]),
            false,
            /Key pair "ops" does not exist in region cn-hangzhou\. Nothing was changed/,
        ],
    ])("%s", (_name, instanceFacts, keyPairExists, expected) => {
        const refused = refusal(request({ instanceIds: ["i-1", "i-2"] }), instanceFacts, keyPairExists);
        if (expected) expect(refused?.reason).toMatch(expected);
        else expect(refused).toBeUndefined();
    });

    test("names the property the check failure belongs to", () => {
        expect(refusal(request({ instanceIds: ["i-9"] }), FOUR, true)?.property).toBe("instanceIds");
        expect(refusal(request({ instanceIds: ["i-1"] }), FOUR, false)?.property).toBe("keyPairName");
    });
});

describe("impactRequest reads the engine's inputs", () => {
    test("unknown elements are counted, not guessed", () => {
        const r = impactRequest(REGION, { keyPairName: "ops", instanceIds: ["i-1", UNKNOWN_VALUE, UNKNOWN_VALUE] });
        expect([r.instanceIds, r.unknownInstanceIds]).toEqual([["i-1"], 2]);
    });

    test("with ids not known yet, an instance held now is not said to be unbound", () => {
        const r = impactRequest(
            REGION,
            { keyPairName: "ops", instanceIds: ["i-1", UNKNOWN_VALUE] },
            {
                keyPairName: "ops",
                instanceIds: ["i-1", "i-2"],
                region: REGION,
                restartedInstanceIds: [],
                pendingRestartInstanceIds: [],
                passwordResetRequiredInstanceIds: [],
                passwordResetFailures: {},
                replacedKeyPairs: {},
            },
        );
        expect([r.removed, r.undecidedRemovals]).toEqual([[], ["i-2"]]);
        expect(renderImpact("KPA", r, planImpact(r, new Map()))).toContain(
            "    - bound now, and not among the known ids: i-2 — whether they are unbound is not known yet (the ids not known yet may name them)",
        );
    });

    test("a whole list not known yet", () => {
        const r = impactRequest(REGION, { keyPairName: UNKNOWN_VALUE, instanceIds: UNKNOWN_VALUE as unknown as string[] });
        expect([r.keyPairName, r.instanceIds, r.unknownInstanceIds]).toEqual([undefined, [], "all"]);
    });

    test("an update: removed instances come from the recorded outputs, with leftover keys", () => {
        const r = impactRequest(
            REGION,
            { keyPairName: "ops-next", instanceIds: ["i-1"] },
            {
                keyPairName: "ops",
                instanceIds: ["i-1", "i-2"],
                region: REGION,
                restartedInstanceIds: [],
                pendingRestartInstanceIds: [],
                passwordResetRequiredInstanceIds: [],
                passwordResetFailures: {},
                replacedKeyPairs: {},
                leftoverKeyPairs: { "i-3": "ops-older" },
            },
        );
        expect([r.removed, [...r.ownKeyPairNames]]).toEqual([
            ["i-2", "i-3"],
            ["ops", "ops-older"],
        ]);
    });

    test("a restart setting not known yet is marked, and its default stands in", () => {
        const r = impactRequest(REGION, {
            keyPairName: "ops",
            instanceIds: ["i-1"],
            restart: { batchSize: UNKNOWN_VALUE as unknown as number },
        });
        expect([r.restartKnown, r.restart.batchSize]).toEqual([false, 0]);
    });
});

describe("renderImpact", () => {
    test("the issue's case reads with counts, ids, waves, the stopped one and the replaced key", () => {
        const r = request({ instanceIds: ["i-1", "i-2", "i-3", "i-4"], restart: { batchSize: 2 } });
        expect(renderImpact("KeyPairAttachment (new)", r, planImpact(r, FOUR)).split("\n")).toEqual([
            'KeyPairAttachment (new): key pair "ops" in cn-hangzhou — 4 instance(s) would get the key: i-1, i-2, i-3, i-4.',
            "    - restarted (Running; graceful reboot, in 2 waves of at most 2 (restart.batchSize)): i-1, i-2, i-3",
            "    - not running: take the key at their next start (not started by this): i-4",
            '    - another key pair would be replaced: "legacy" on i-3',
        ]);
    });

    test("an unbind names the password reset; unknown ids are said to be not known yet", () => {
        const r = request({ instanceIds: ["i-1"], unknownInstanceIds: 2, removed: ["i-2"], ownKeyPairNames: new Set(["ops"]) });
        const text = renderImpact(
            "KeyPairAttachment kpa-1",
            r,
            planImpact(r, facts(["i-1", { keyPairName: "ops" }], ["i-2", { keyPairName: "ops" }])),
        );
        expect(text.split("\n")).toEqual([
            'KeyPairAttachment kpa-1: key pair "ops" in cn-hangzhou — 1 instance(s) would be unbound from it: i-2.',
            "    - unbound: i-2 — reset their password before password logon (or set passwordOnUnbind)",
            "    - already hold the key (nothing to do): i-1",
            "    - 2 instance id(s) not known yet (created in this run): whether they are restarted or take the key at their next start is not known yet",
        ]);
    });

    test("a whole list not known yet says so and nothing else", () => {
        const r = request({ unknownInstanceIds: "all" });
        expect(renderImpact("KeyPairAttachment (new)", r, planImpact(r, new Map()))).toBe(
            'KeyPairAttachment (new): key pair "ops" in cn-hangzhou — instanceIds is not known yet (computed in this run).\n' +
                "    - which instances get the key, and which are restarted, is not known yet: it is decided at `pulumi up`",
        );
    });

    test("long lists are shortened as every message shortens them", () => {
        const ids = Array.from({ length: 25 }, (_, i) => `i-${i}`);
        const r = request({ instanceIds: ids, restart: { batchSize: 10 } });
        const text = renderImpact("KPA", r, planImpact(r, facts(...ids.map((id): [string, Partial<InstanceFacts>] => [id, {}]))));
        expect(text).toContain(
            "25 instance(s) would get the key: i-0, i-1, i-2, i-3, i-4, i-5, i-6, i-7, i-8, i-9, i-10, i-11, i-12, i-13, i-14, i-15, i-16, i-17, i-18, i-19 and 5 more.",
        );
        expect(text).toContain("in 3 waves of at most 10 (restart.batchSize)");
    });
});
