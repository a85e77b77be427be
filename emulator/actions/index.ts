/** The ECS actions the emulator implements, by their wire name. */
import { DescribeInstanceAttribute, ModifyInstanceAttribute } from "./attributes";
import type { ActionBody, ActionContext } from "./context";
import { DescribeInstances, DescribeInstanceStatus } from "./describe";
import { AttachKeyPair, DescribeKeyPairs, DetachKeyPair } from "./keypairs";
import { RebootInstance, RebootInstances, StartInstance, StartInstances, StopInstance, StopInstances } from "./power";

export type { ActionBody, ActionContext } from "./context";

export const actions: Readonly<Record<string, (ctx: ActionContext) => ActionBody>> = {
    AttachKeyPair,
    DetachKeyPair,
    DescribeKeyPairs,
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
