export { KeyPairAttachment, KeyPairAttachmentArgs, OnlineArgs, RestartArgs, outputWarnings } from "./resource";
export { keyPairAttachmentProvider } from "./provider";
export {
    Activation,
    KeyPairAttachmentInputs,
    KeyPairAttachmentOutputs,
    OnlineFallback,
    OnlineSettings,
    RestartSettings,
    RESTART_DEFAULTS,
} from "./types";
