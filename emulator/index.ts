/** Public API of the local ECS emulator (`pulumi-alicloud-keypair-attachment/emulator`). */
export { startEmulator, type ApiCall, type Emulator, type EmulatorOptions } from "./server";
export {
    EcsModel,
    DEFAULT_DURATIONS,
    DEFAULT_SETTINGS,
    type Durations,
    type InstanceView,
    type KeyPairView,
    type ModelSettings,
} from "./model";
export { FaultInjector, type FaultRule, type InstanceFailure, type ThrottleRule } from "./faults";
export { EcsError, ERROR_INVENTORY, errors as ecsErrors, type EcsErrorDefinition } from "./errors";
export { ManualClock, systemClock, type Clock } from "./clock";
export { ARBITRARY_SCRIPT_OUTPUT, scriptHash, type KnownScripts, type ScriptEffect, type ScriptResult } from "./cloudassistant";
export {
    authorizedKeysEffect,
    DEFAULT_PARAMETER_NAMES,
    EXIT_UNKNOWN_USER,
    packageKnownScripts,
    type AuthorizedKeysParameters,
} from "./knownscripts";
export { Guest } from "./guest";
export { generateOpenSshKeyPair, keyOf } from "./publickeys";
export {
    DEFAULT_ACCESS_KEY,
    DEFAULT_REGION,
    loadSeedFile,
    parseSeed,
    type InstanceStatus,
    type Seed,
    type SeedAccessKey,
    type SeedInstance,
    type SeedKeyPair,
    type SeedSettings,
} from "./seed";
