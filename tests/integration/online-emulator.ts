/**
 * The emulator's side of online activation as the integration tests use it: what a guest's
 * authorized_keys holds, and the emulator options for Cloud Assistant faults.
 */
import type { EmulatorOptions } from "../../emulator";
import type { Fixture } from "./fixture";

/** The lines of `user`'s authorized_keys on the emulated instance. */
export function keysOf(f: Fixture, instanceId: string, user = "root"): string[] {
    return f.emulator.model.instance(instanceId)?.authorizedKeys[user] ?? [];
}

export interface OnlineEmulatorOptions {
    /** Instances on which every command runs past its timeout (the invocation ends Timeout). */
    slowInstances?: string[];
}

export function onlineEmulator(options: OnlineEmulatorOptions = {}): EmulatorOptions {
    void options;
    return {};
}
