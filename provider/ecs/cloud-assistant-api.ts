/**
 * What online activation asks of ECS (issue 12), in the provider's own vocabulary: the limits of the
 * Cloud Assistant actions, an invocation's result, and the gateway interface. No SDK type appears
 * here, so that the package's declarations do not pull in the SDK's (cloud-assistant.ts implements it).
 */
import type { AuthorizedKeysCommand } from "../online/script";

/** DescribeCloudAssistantStatus: up to 50 results a page (MaxResults); ids asked for per call. */
export const CLOUD_ASSISTANT_STATUS_BATCH = 50;
/** RunCommand: 1–100 instances a call (InstanceId.N). */
export const RUN_COMMAND_BATCH = 100;
/** DescribeInvocationResults: MaxResults ≤ 50 a page. */
export const INVOCATION_RESULTS_PAGE = 50;

/** The statuses after which an instance's invocation changes no more (RunCommand / DescribeInvocationResults docs). */
export const FINISHED_INVOCATION_STATUSES: readonly string[] = [
    "Success",
    "Failed",
    "Error",
    "Timeout",
    "Invalid",
    "Aborted",
    "Cancelled",
    "Terminated",
];

/** One instance's result of one invocation, output decoded. */
export interface InvocationResult {
    instanceId: string;
    /** InvocationStatus: Pending, Running, Success, Failed, Error, Timeout, Invalid, Aborted, … */
    status: string;
    exitCode?: number;
    /** The command's output, decoded from Base64. */
    output: string;
    errorCode?: string;
    errorInfo?: string;
}

export interface RunCommandRequest {
    command: AuthorizedKeysCommand;
    instanceIds: readonly string[];
    timeoutSeconds: number;
    /** Says what the command is for, in the ECS console. */
    name: string;
}

/** What online activation needs from ECS. */
export interface CloudAssistantGateway {
    /** Instance → whether its Cloud Assistant agent is working (CloudAssistantStatus "true"). Absent: unknown to the API. */
    agentStatus(region: string, instanceIds: readonly string[]): Promise<Map<string, boolean>>;
    /** The key pair's public key (DescribeKeyPairs IncludePublicKey=true), or undefined when the key pair does not exist. */
    publicKey(region: string, keyPairName: string): Promise<string | undefined>;
    /** RunCommand (at most 100 instances); returns the InvokeId. Sent with a ClientToken, so that a retry runs it once. */
    runCommand(region: string, request: RunCommandRequest): Promise<string>;
    /** Every instance's result of an invocation, all pages read. */
    invocationResults(region: string, invokeId: string): Promise<Map<string, InvocationResult>>;
}
