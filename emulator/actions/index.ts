/** The ECS actions the emulator implements, by their wire name. */
import { DescribeInstanceAttribute, ModifyInstanceAttribute } from "./attributes";
import type { ActionBody, ActionContext } from "./context";
import { DescribeInstances, DescribeInstanceStatus } from "./describe";
import { AttachKeyPair, DetachKeyPair } from "./binding";
import { DescribeCloudAssistantStatus, DescribeInvocationResults, DescribeInvocations, RunCommand } from "./cloudassistant";
import { DeleteInstances, RunInstances } from "./instances";
import { CreateKeyPair, DeleteKeyPairs, DescribeKeyPairs, ImportKeyPair } from "./keypairs";
import { TagResources, UntagResources } from "./tags";
import { RebootInstance, RebootInstances, StartInstance, StartInstances, StopInstance, StopInstances } from "./power";

export type { ActionBody, ActionContext } from "./context";

export const actions: Readonly<Record<string, (ctx: ActionContext) => ActionBody>> = {
    AttachKeyPair,
    DetachKeyPair,
    DescribeKeyPairs,
    ImportKeyPair,
    CreateKeyPair,
    DeleteKeyPairs,
    RunInstances,
    DeleteInstances,
    TagResources,
    UntagResources,
    DescribeCloudAssistantStatus,
    RunCommand,
    DescribeInvocationResults,
    DescribeInvocations,
    DescribeInstances,
    DescribeInstanceStatus,
    DescribeInstanceAttribute,
    ModifyInstanceAttribute,
    RebootInstance,
    RebootInstances,
    StartInstance,
    StartInstances,
    StopInstance,
    StopInstances,
};
