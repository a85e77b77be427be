/** The emulator's side of online activation as the integration tests read it: what a guest's authorized_keys holds. */
import type { Fixture } from "./fixture";

/** The lines of `user`'s authorized_keys on the emulated instance. */
export function keysOf(f: Fixture, instanceId: string, user = "root"): string[] {
    return f.emulator.model.instance(instanceId)?.authorizedKeys[user] ?? [];
}

/** Every RunCommand on these instances times out (the invocation ends Timeout after RunCommand's Timeout). */
export function commandsTimeOut(f: Fixture, instanceIds: readonly string[]): void {
    f.emulator.faults.add({
        action: "RunCommand",
        instanceFailures: instanceIds.map((instanceId) => ({ instanceId, code: "ExecutionTimeout" })),
        times: Infinity,
    });
}
