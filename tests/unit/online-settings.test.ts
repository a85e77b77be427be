/** The `activation` and `online` inputs: validation in check (through validateInputs), defaults, and what diff compares. */
import { normalizedActivation, onlineSettingsWithDefaults } from "../../provider/online/settings";
import { UNKNOWN_VALUE, validateInputs } from "../../provider/validate";

const valid = { keyPairName: "ops", instanceIds: ["i-a"] };

test.each<[string, Record<string, unknown>]>([
    ["restart (the default, explicit)", { activation: "restart" }],
    ["online with defaults", { activation: "online" }],
    [
        "online with every setting",
        { activation: "online", online: { users: ["root", "ec2-user", "deploy_1", "a.b"], fallback: "fail", timeoutSeconds: 120 } },
    ],
    ["a 32-character user name", { activation: "online", online: { users: ["u".repeat(32)] } }],
    ["unknown activation during preview", { activation: UNKNOWN_VALUE }],
    ["unknown online settings during preview", { activation: "online", online: UNKNOWN_VALUE }],
    ["an unknown user during preview", { activation: "online", online: { users: ["root", UNKNOWN_VALUE] } }],
    ["online settings kept while activation is restart", { online: { fallback: "fail" } }],
])("accepts %s", (_case, extra) => {
    expect(validateInputs({ ...valid, ...extra })).toEqual([]);
});

test.each<[string, Record<string, unknown>, string, RegExp]>([
    ["an unknown activation", { activation: "reboot" }, "activation", /activation must be "restart" .* or "online" .*got "reboot"/],
    ["online not an object", { online: ["root"] }, "online", /online must be an object with any of: users, fallback, timeoutSeconds/],
    [
        "an unknown online setting",
        { online: { user: "root" } },
        "online.user",
        /online.user is not an online setting; allowed: users, fallback, timeoutSeconds/,
    ],
    ["users not a list", { online: { users: "root" } }, "online.users", /online.users must be a list of at least one login user name/],
    ["users empty", { online: { users: [] } }, "online.users", /at least one/],
    [
        "a user starting with '-'",
        { online: { users: ["-oProxyCommand"] } },
        "online.users",
        /\[0\] "-oProxyCommand" is not a login user name; allowed: letters/,
    ],
    ["a user with a blank", { online: { users: ["root", "a b"] } }, "online.users", /\[1\] "a b" is not a login user name/],
    ["a user with shell characters", { online: { users: ["$(id)"] } }, "online.users", /"\$\(id\)" is not a login user name/],
    ["a user over 32 characters", { online: { users: ["u".repeat(33)] } }, "online.users", /at most 32 characters/],
    ["a user listed twice", { online: { users: ["root", "root"] } }, "online.users", /lists "root" more than once/],
    [
        "a fallback that does not exist",
        { online: { fallback: "ignore" } },
        "online.fallback",
        /must be "restart" .* or "fail" .*got "ignore"/,
    ],
    ["a timeout below RunCommand's minimum", { online: { timeoutSeconds: 5 } }, "online.timeoutSeconds", /from 10 to 86400 .*got 5/],
    ["a fractional timeout", { online: { timeoutSeconds: 30.5 } }, "online.timeoutSeconds", /whole number/],
])("refuses %s, naming the property", (_case, extra, property, reason) => {
    const failures = validateInputs({ ...valid, ...extra });
    expect(failures).toHaveLength(1);
    expect(failures[0].property).toBe(property);
    expect(failures[0].reason).toMatch(reason);
});

test("defaults: users root, fallback restart, 60 s; an empty user list means root", () => {
    expect(onlineSettingsWithDefaults(undefined)).toEqual({ users: ["root"], fallback: "restart", timeoutSeconds: 60 });
    expect(onlineSettingsWithDefaults({ users: [], timeoutSeconds: undefined })).toEqual({
        users: ["root"],
        fallback: "restart",
        timeoutSeconds: 60,
    });
});

test("diff compares the settings with defaults applied: spelling a default out is no change, a real change is", () => {
    expect(normalizedActivation({})).toBe(
        normalizedActivation({ activation: "restart", online: { users: ["root"], fallback: "restart" } }),
    );
    expect(normalizedActivation({})).not.toBe(normalizedActivation({ activation: "online" }));
    expect(normalizedActivation({ activation: "online" })).not.toBe(
        normalizedActivation({ activation: "online", online: { users: ["deploy"] } }),
    );
});
