import { outputWarnings } from "../../provider/resource";

describe("outputWarnings (program-side warnings from the outputs)", () => {
    test("nothing to say when nothing needs attention", () => {
        expect(outputWarnings("ops", [], [], {})).toEqual([]);
        expect(outputWarnings("ops", undefined, undefined, undefined)).toEqual([]);
    });

    test("names the instances needing a password reset and how to do it", () => {
        const [warning] = outputWarnings("ops", ["i-a", "i-b"], [], {});
        expect(warning).toMatch(/^i-a, i-b no longer hold a key .*reset the password.*ModifyInstanceAttribute/);
        expect(outputWarnings("ops", ["i-a"], [], {})[0]).toMatch(/^i-a no longer holds a key/);
    });

    test("names the instances whose key waits for a restart", () => {
        expect(outputWarnings("ops", [], ["i-s"], {})).toEqual([
            expect.stringMatching(/"ops" is bound to i-s but takes effect only at their next start/),
        ]);
    });

    test("names each failed password reset with its reason", () => {
        expect(outputWarnings("ops", ["i-a"], [], {}, { "i-a": "IncorrectInstanceStatus: busy" })).toContainEqual(
            expect.stringMatching(/Setting passwordOnUnbind failed on i-a \(IncorrectInstanceStatus: busy\)/),
        );
    });

    test("names each replaced key pair", () => {
        expect(outputWarnings("ops", [], [], { "i-a": "legacy" })).toEqual([
            expect.stringMatching(/replaced another key pair on i-a \(was "legacy"\)/),
        ]);
    });
});
