export { KeyPairAttachment, KeyPairAttachmentArgs, RestartArgs, outputWarnings } from "./resource";
export { keyPairAttachmentProvider } from "./provider";
export { KeyPairAttachmentInputs, KeyPairAttachmentOutputs, RestartSettings, RESTART_DEFAULTS } from "./types";
