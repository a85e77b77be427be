/**
 * The emulator's error inventory against the provider's retry classification: every code the
 * provider retries is one the emulator can send (or the retry is untested), and every code the
 * emulator sends as a server fault or throttling is one the provider retries.
 */
import { classifyError, TRANSIENT_CODES } from "../../provider/ecs/retry";
import { ERROR_INVENTORY, EcsError, type EcsErrorEntry, errorForCode, errors } from "../../emulator/errors";

const inventoryCodes = new Set(ERROR_INVENTORY.map((definition) => definition.code));

describe("the emulator's error inventory", () => {
    test.each(TRANSIENT_CODES)("the provider's transient code %s is one the emulator can send", (code) => {
        expect(inventoryCodes.has(code)).toBe(true);
    });

    const serverSide = ERROR_INVENTORY.filter((definition) => definition.httpStatus >= 500 || definition.code.startsWith("Throttling"));

    test("holds server faults and throttling at all (the next test is not vacuous)", () => {
        expect(serverSide.map((definition) => definition.code)).toEqual(
            expect.arrayContaining(["InternalError", "ServiceUnavailable", "Throttling.User"]),
        );
    });

    test.each(serverSide.map((definition) => [definition.code, definition.httpStatus] as const))(
        "%s (HTTP %i) is retried by the provider",
        (code, httpStatus) => {
            // The shape the SDK gives the provider: `code` and `statusCode` from the envelope.
            expect(classifyError({ code, statusCode: httpStatus })).not.toBe("fatal");
        },
    );

    test("codes are unique per status, and every entry builds the error it lists", () => {
        const keys = ERROR_INVENTORY.map((definition) => `${definition.code} ${definition.httpStatus}`);
        expect(new Set(keys).size).toBe(keys.length);
        // Every detail parameter is a string or a list of ids; a one-element list serves as either.
        for (const make of Object.values(errors) as EcsErrorEntry<string[][]>[]) {
            const error = make(["i-example"], ["i-example"]);
            expect(error).toBeInstanceOf(EcsError);
            expect({ code: error.code, httpStatus: error.httpStatus }).toEqual({ code: make.code, httpStatus: make.httpStatus });
            expect(error.message).toContain(make.message.split('"')[0]);
        }
    });

    test("an injected code takes the inventory's status and message", () => {
        expect(errorForCode("ServiceUnavailable")).toMatchObject({ httpStatus: 503, message: errors.serviceUnavailable.message });
        expect(errorForCode("Custom.Code")).toMatchObject({ httpStatus: 400, code: "Custom.Code" });
        expect(errorForCode("InternalError", 502)).toMatchObject({ httpStatus: 502, code: "InternalError" });
    });
});
