import { outputWarnings } from "../../provider/resource";

describe("outputWarnings (program-side warnings from the outputs)", () => {
    test("nothing to say when nothing needs attention", () => {
        expect(outputWarnings("ops", [], [], {})).toEqual([]);
        expect(outputWarnings("ops", undefined, undefined, undefined)).toEqual([]);
    });

    test("names the instances needing a password reset and how to do it", () => {
        const [warning] = outputWarnings("ops", ["i-a", "i-b"], [], {});
        expect(warning).toMatch(/^i-a, i-b no longer hold .*reset their passwords.*ModifyInstanceAttribute/);
    });

    test("names the instances whose key waits for a restart", () => {
        expect(outputWarnings("ops", [], ["i-s"], {})).toEqual([expect.stringMatching(/"ops" is bound to i-s but takes effect only at their next start/)]);
    });

    test("names each replaced key pair", () => {
        expect(outputWarnings("ops", [], [], { "i-a": "legacy" })).toEqual([expect.stringMatching(/replaced another key pair on i-a \(was "legacy"\)/)]);
    });
});
