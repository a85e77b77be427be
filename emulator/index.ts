/** Public API of the local ECS emulator (`pulumi-alicloud-keypair-attachment/emulator`). */
export { startEmulator, type ApiCall, type Emulator, type EmulatorOptions } from "./server";
export { EcsModel, DEFAULT_DURATIONS, type Durations, type InstanceView, type KeyPairView } from "./model";
export { FaultInjector, type FaultRule, type InstanceFailure, type ThrottleRule } from "./faults";
export { EcsError } from "./errors";
export { ManualClock, systemClock, type Clock } from "./clock";
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
} from "./seed";
