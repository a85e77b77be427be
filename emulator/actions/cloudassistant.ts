/**
 * DescribeCloudAssistantStatus, RunCommand, DescribeInvocationResults, DescribeInvocations
 * (ecs-api.md §12.2; shapes from the SDK models). The invocation lifecycle is in cloudassistant.ts;
 * nothing here runs a command.
 */
import type { InstanceRun, Invocation, RunOutcome } from "../cloudassistant";
import { errors, INVOCATION_ERROR_CODES, missingParameter } from "../errors";
import type { InstanceView } from "../model";
import { type ActionBody, type ActionContext, INSTANCE_ID_MAX, regionOf } from "./context";
import { cursorPage } from "./paging";

const COMMAND_TYPES = ["RunShellScript", "RunBatScript", "RunPowerShellScript"];
/** RunCommand: CommandContent at most 24 KB after Base64 encoding. */
const CONTENT_BASE64_MAX = 24 * 1024;
const TIMEOUT_SECONDS = { min: 10, max: 86_400, default: 60 };
/** Cloud Assistant lists page at most 50 (MaxResults 1..50). */
const LIST_LIMITS = { minResults: 1, maxResults: 50, maxPageSize: 50 };
const AGENT_VERSION = "2.2.3.857";

export function DescribeCloudAssistantStatus(ctx: ActionContext): ActionBody {
    const region = regionOf(ctx);
    const ids = ctx.params.repeatList("InstanceId");
    if (ids.length > INSTANCE_ID_MAX) throw errors.tooManyInstanceIds();
    const osType = ctx.params.optional("OSType")?.toLowerCase();
    const matching = ctx.model
        .instances(region)
        .filter((instance) => ids.length === 0 || ids.includes(instance.id))
        .filter((instance) => osType === undefined || instance.osType === osType);
    const invocations = ctx.model.cloudAssistant.list();
    const page = cursorPage(ctx.params, matching, LIST_LIMITS);
    return {
        ...page.body,
        InstanceCloudAssistantStatusSet: {
            InstanceCloudAssistantStatus: page.items.map((instance) => {
                const runs = invocations.flatMap((invocation) => invocation.runs.filter((run) => run.instanceId === instance.id));
                return {
                    InstanceId: instance.id,
                    // A string, not a boolean (SDK model); only a running instance's agent answers.
                    CloudAssistantStatus: String(agentOnline(instance)),
                    CloudAssistantVersion: instance.cloudAssistant ? AGENT_VERSION : "",
                    LastHeartbeatTime: agentOnline(instance) ? ecsSecondTime(ctx.model.now()) : "",
                    OSType: instance.osType === "windows" ? "Windows" : "Linux",
                    SupportSessionManager: instance.cloudAssistant,
                    InvocationCount: runs.length,
                    ActiveTaskCount: runs.filter((run) => run.status === "Pending" || run.status === "Running").length,
                    LastInvokedTime: runs.length > 0 ? ecsSecondTime(Math.max(...runs.map((run) => run.createdAt))) : "",
                };
            }),
        },
    };
}

function agentOnline(instance: InstanceView): boolean {
    return instance.cloudAssistant && instance.status === "Running";
}

/**
 * Starts a command on 1–100 instances and answers at once with its ids; each instance's run then
 * progresses on the clock. An instance that cannot take it (stopped, agent offline, a shell script
 * on Windows) fails at delivery, inside the invocation, not as a request error.
 */
export function RunCommand(ctx: ActionContext): ActionBody {
    const region = regionOf(ctx);
    const type = ctx.params.required("Type");
    if (!COMMAND_TYPES.includes(type)) throw errors.commandTypeNotSupported(type);
    const script = scriptOf(ctx);
    const ids = ctx.params.repeatList("InstanceId");
    if (ids.length === 0) throw missingParameter("InstanceId");
    if (ids.length > INSTANCE_ID_MAX) throw errors.tooManyInstanceIds();
    const instances = ids.map((id) => ctx.model.instanceIn(region, id) ?? throwNotFound(id));
    const timeoutSeconds = ctx.params.optional("Timeout") === undefined ? TIMEOUT_SECONDS.default : Number(ctx.params.optional("Timeout"));
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < TIMEOUT_SECONDS.min || timeoutSeconds > TIMEOUT_SECONDS.max) {
        throw errors.timeoutMalformed();
    }
    const repeatMode = ctx.params.optional("RepeatMode") ?? "Once";
    if (repeatMode !== "Once") throw errors.invalidParameter("RepeatMode", "The emulator runs commands Once only.");
    const parameters = ctx.params.bool("EnableParameter") ? parametersOf(ctx) : {};

    const outcomes = new Map<string, RunOutcome>();
    for (const instance of instances) {
        const outcome = deliveryFailure(ctx, instance, type);
        if (outcome) outcomes.set(instance.id, outcome);
    }
    const invocation = ctx.model.cloudAssistant.invoke({
        type,
        script,
        parameters,
        timeoutSeconds,
        username: ctx.params.optional("Username") ?? "root",
        instanceIds: ids,
        outcomes,
    });
    return { CommandId: invocation.commandId, InvokeId: invocation.invokeId };
}

function throwNotFound(id: string): never {
    throw errors.instanceNotFound(id);
}

/** CommandContent as text: PlainText by default, or Base64 (what the provider sends). */
function scriptOf(ctx: ActionContext): string {
    const content = ctx.params.required("CommandContent");
    const encoding = ctx.params.optional("ContentEncoding") ?? "PlainText";
    if (encoding !== "PlainText" && encoding !== "Base64") throw errors.invalidParameter("ContentEncoding");
    const base64 = encoding === "Base64" ? content : Buffer.from(content, "utf8").toString("base64");
    if (base64.length > CONTENT_BASE64_MAX) throw errors.commandContentMalformed("It is over 24 KB after Base64 encoding.");
    if (encoding === "Base64" && !/^[A-Za-z0-9+/]*={0,2}$/.test(content)) throw errors.commandContentMalformed("It is not Base64.");
    return encoding === "Base64" ? Buffer.from(content, "base64").toString("utf8") : content;
}

/** `Parameters`: a JSON object of strings for the script's `{{name}}` placeholders. */
function parametersOf(ctx: ActionContext): Record<string, string> {
    const raw = ctx.params.optional("Parameters");
    if (raw === undefined) return {};
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw);
    } catch {
        throw errors.parametersMalformed();
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw errors.parametersMalformed();
    const entries = Object.entries(parsed as Record<string, unknown>);
    if (!entries.every(([, value]) => typeof value === "string")) throw errors.parametersMalformed();
    return Object.fromEntries(entries) as Record<string, string>;
}

/** Why the command will not run on this instance (ErrorCode values of DescribeInvocationResults), if it will not. */
function deliveryFailure(ctx: ActionContext, instance: InstanceView, type: string): RunOutcome | undefined {
    const undelivered = (errorCode: string, errorInfo: string): RunOutcome => ({
        status: "Failed",
        errorCode,
        errorInfo,
        undelivered: true,
    });
    if (instance.status !== "Running") return undelivered(INVOCATION_ERROR_CODES.instanceNotRunning, `The instance is ${instance.status}.`);
    if ((type === "RunShellScript") !== (instance.osType === "linux")) {
        return undelivered(INVOCATION_ERROR_CODES.commandNotApplicable, `${type} does not apply to a ${instance.osType} instance.`);
    }
    if (!instance.cloudAssistant) return undelivered(INVOCATION_ERROR_CODES.clientNotRunning, "The Cloud Assistant agent is not running.");
    // Injected faults: `ExecutionTimeout` times out after Timeout; any other code fails the run.
    const injected = ctx.instanceFailures.find((failure) => failure.instanceId === instance.id);
    if (!injected) return undefined;
    if (injected.code === INVOCATION_ERROR_CODES.executionTimeout)
        return { status: "Timeout", errorCode: injected.code, errorInfo: "The command timed out." };
    return {
        status: "Failed",
        errorCode: injected.code,
        errorInfo: injected.message ?? `Injected failure ${injected.code}.`,
        exitCode: injected.exitCode ?? 1,
        output: `${injected.message ?? `Injected failure ${injected.code}.`}\n`,
    };
}

export function DescribeInvocationResults(ctx: ActionContext): ActionBody {
    regionOf(ctx);
    const invocations = invocationsOf(ctx);
    const instanceId = ctx.params.optional("InstanceId");
    const recordStatus = ctx.params.optional("InvokeRecordStatus");
    const encode = outputEncoder(ctx);
    const results = invocations
        .flatMap((invocation) => invocation.runs.map((run) => ({ invocation, run })))
        .filter(({ run }) => instanceId === undefined || run.instanceId === instanceId)
        .filter(({ run }) => recordStatus === undefined || invokeRecordStatus(run) === recordStatus);
    const page = cursorPage(ctx.params, results, LIST_LIMITS);
    return {
        Invocation: {
            ...page.body,
            InvocationResults: {
                InvocationResult: page.items.map(({ invocation, run }) => ({
                    CommandId: invocation.commandId,
                    InvokeId: invocation.invokeId,
                    InstanceId: run.instanceId,
                    InvocationStatus: run.status,
                    InvokeRecordStatus: invokeRecordStatus(run),
                    ExitCode: run.exitCode ?? 0,
                    Output: encode(run.output),
                    ErrorCode: run.errorCode,
                    ErrorInfo: run.errorInfo,
                    Dropped: 0,
                    Repeats: 1,
                    Username: invocation.username,
                    StartTime: isStarted(run) ? ecsSecondTime(run.startAt) : "",
                    FinishedTime: isFinal(run) ? ecsSecondTime(run.finishAt) : "",
                    StopTime: "",
                    Tags: { Tag: [] },
                })),
            },
        },
    };
}

export function DescribeInvocations(ctx: ActionContext): ActionBody {
    regionOf(ctx);
    const instanceId = ctx.params.optional("InstanceId");
    const invokeStatus = ctx.params.optional("InvokeStatus");
    const includeOutput = ctx.params.bool("IncludeOutput");
    const encode = outputEncoder(ctx);
    const matching = invocationsOf(ctx)
        .filter((invocation) => instanceId === undefined || invocation.runs.some((run) => run.instanceId === instanceId))
        .filter((invocation) => invokeStatus === undefined || invocationStatus(invocation) === invokeStatus);
    const page = cursorPage(ctx.params, matching, LIST_LIMITS);
    return {
        ...page.body,
        Invocations: {
            Invocation: page.items.map((invocation) => ({
                InvokeId: invocation.invokeId,
                CommandId: invocation.commandId,
                CommandType: invocation.type,
                CommandContent: invocation.commandContent,
                Parameters: JSON.stringify(invocation.parameters),
                InvocationStatus: invocationStatus(invocation),
                InvokeStatus: invocationStatus(invocation) === "Running" ? "Running" : "Finished",
                RepeatMode: "Once",
                Timed: false,
                Timeout: invocation.timeoutSeconds,
                Username: invocation.username,
                CreationTime: ecsSecondTime(invocation.createdAt),
                InvokeInstances: {
                    InvokeInstance: invocation.runs.map((run) => ({
                        InstanceId: run.instanceId,
                        InvocationStatus: run.status,
                        InstanceInvokeStatus: invokeRecordStatus(run),
                        ExitCode: run.exitCode ?? 0,
                        Output: includeOutput ? encode(run.output) : "",
                        ErrorCode: run.errorCode,
                        ErrorInfo: run.errorInfo,
                        Dropped: 0,
                        Repeats: 1,
                        CreationTime: ecsSecondTime(run.createdAt),
                        StartTime: isStarted(run) ? ecsSecondTime(run.startAt) : "",
                        FinishTime: isFinal(run) ? ecsSecondTime(run.finishAt) : "",
                        UpdateTime: ecsSecondTime(isFinal(run) ? run.finishAt : run.createdAt),
                    })),
                },
            })),
        },
    };
}

/** One invocation by InvokeId (unknown → 404), or all of them. */
function invocationsOf(ctx: ActionContext): Invocation[] {
    const invokeId = ctx.params.optional("InvokeId");
    if (invokeId === undefined) return ctx.model.cloudAssistant.list();
    const invocation = ctx.model.cloudAssistant.get(invokeId);
    if (!invocation) throw errors.invokeIdNotFound(invokeId);
    return [invocation];
}

/** Output is Base64 unless ContentEncoding=PlainText (DescribeInvocationResults' default is Base64). */
function outputEncoder(ctx: ActionContext): (output: string) => string {
    const encoding = ctx.params.optional("ContentEncoding") ?? "Base64";
    if (encoding !== "PlainText" && encoding !== "Base64") throw errors.invalidParameter("ContentEncoding");
    return encoding === "PlainText" ? (output) => output : (output) => Buffer.from(output, "utf8").toString("base64");
}

function isFinal(run: InstanceRun): boolean {
    return run.status !== "Pending" && run.status !== "Running";
}

function isStarted(run: InstanceRun): boolean {
    return run.status !== "Pending";
}

/** Per instance: Running until the run ends, then Finished (Failed when it never got delivered). */
function invokeRecordStatus(run: InstanceRun): string {
    if (!isFinal(run)) return "Running";
    return run.errorCode === "" || run.status === "Timeout" || run.exitCode !== undefined ? "Finished" : "Failed";
}

/** The whole invocation: Pending, Running, Success, Failed, or PartialFailed when some runs failed. */
function invocationStatus(invocation: Invocation): string {
    const statuses = invocation.runs.map((run) => run.status);
    if (statuses.every((status) => status === "Pending")) return "Pending";
    if (statuses.some((status) => status === "Pending" || status === "Running")) return "Running";
    if (statuses.every((status) => status === "Success")) return "Success";
    return statuses.some((status) => status === "Success") ? "PartialFailed" : "Failed";
}

/** Cloud Assistant times carry seconds: `2020-12-10T08:00:00Z`. */
function ecsSecondTime(epochMs: number): string {
    return new Date(epochMs).toISOString().slice(0, 19) + "Z";
}
