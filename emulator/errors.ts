/**
 * The inventory of every ECS error the emulator can send (moto's `exceptions.py`): code, HTTP status
 * and message, in one place. The model, the actions and the server throw these entries; the
 * server's single dispatcher turns them into the ECS error envelope
 * `{RequestId, HostId, Code, Message, Recommend}` (ecs-api.md §5.1). Messages are verbatim from
 * ecs-api.md §2 and §5.2 where ECS publishes them, so clients can match on them; an entry marked
 * "emulator choice" or "guessed" has no published code or status.
 */
export class EcsError extends Error {
    constructor(
        readonly code: string,
        readonly httpStatus: number,
        message: string,
    ) {
        super(message);
        this.name = "EcsError";
    }
}

/** One inventory entry: call it (with the details it takes) to get the error to throw. */
export interface EcsErrorEntry<A extends unknown[] = []> {
    (...details: A): EcsError;
    readonly code: string;
    readonly httpStatus: number;
    /** The published message; the details the call takes are appended to it. */
    readonly message: string;
}

function entry<A extends unknown[] = []>(
    code: string,
    httpStatus: number,
    message: string,
    detail: (...details: A) => string = () => "",
): EcsErrorEntry<A> {
    const make = (...details: A) => {
        const extra = detail(...details);
        return new EcsError(code, httpStatus, extra ? `${message} ${extra}` : message);
    };
    return Object.assign(make, { code, httpStatus, message });
}

/** An entry whose message is not the published one plus details, but formatted as a whole. */
function formatted<A extends unknown[]>(
    code: string,
    httpStatus: number,
    message: string,
    format: (...details: A) => string,
): EcsErrorEntry<A> {
    return Object.assign((...details: A) => new EcsError(code, httpStatus, format(...details)), { code, httpStatus, message });
}

const inParentheses = (what: string) => `(${what})`;
const idList = (ids: readonly string[]) => `(${ids.join(", ")})`;

export const errors = {
    // Gateway and request envelope (ecs-api.md §5.2).
    invalidParameter: formatted(
        "InvalidParameter",
        400,
        'The specified parameter "{Parameter}" is not valid.',
        (name: string, why: string = "") => `The specified parameter "${name}" is not valid.${why ? ` ${why}` : ""}`,
    ),
    missingAction: entry(
        "MissingAction",
        400,
        'The input parameter "Action" that is mandatory for processing this request is not supplied.',
    ),
    actionNotFound: entry("InvalidAction.NotFound", 404, "Specified api is not found, please check your url and method.", inParentheses),
    invalidVersion: entry(
        "InvalidVersion",
        400,
        "Specified parameter Version is not valid.",
        (expected: string) => `Expected ${expected}.`,
    ),
    internalError: entry("InternalError", 500, "The request processing has failed due to some unknown error."),
    serviceUnavailable: entry("ServiceUnavailable", 503, "The request has failed due to a temporary failure of the server."),
    limitedServiceUnavailable: entry(
        "LimitedOperation.ServiceUnavailable",
        503,
        "The request has failed due to a temporary failure of the server.",
    ),
    throttling: entry("Throttling", 400, "Request was denied due to request throttling."),
    throttlingUser: entry("Throttling.User", 400, "Request was denied due to user flow control."),
    throttlingApi: entry("Throttling.Api", 400, "Request was denied due to api flow control."),
    conflict: entry(
        "InvalidOperation.Conflict",
        409,
        "Request was denied due to conflict with a previous request, please try again later.",
    ),
    /** Status unconfirmed (ecs-api.md §11); 409 like InvalidOperation.Conflict. */
    operationConflict: entry("OperationConflict", 409, "Request was denied due to conflict with a previous request."),
    forbidden: entry("Forbidden", 403, "The operation is forbidden."),
    forbiddenRam: entry("Forbidden.RAM", 403, "User not authorized to operate on the specified resource, or this API doesn't support RAM."),
    apiNotFound: entry("InvalidApi.NotFound", 404, "Specified api is not found."),
    // HTTP-level refusals before ECS parses the request (emulator choices: POP publishes no body for them).
    requestTooLarge: entry(
        "RequestEntityTooLarge",
        413,
        "The request body is too large.",
        (maxBytes: number) => `(over ${maxBytes} bytes)`,
    ),
    headersTooLarge: entry("RequestHeaderFieldsTooLarge", 431, "The request line or headers are too large (the query string counts)."),
    requestTimeout: entry("RequestTimeout", 408, "The request was not received in time."),
    malformedRequest: entry("MalformedRequest", 400, "The request is not valid HTTP."),

    // Signatures and credentials (ecs-api.md §5.2, §6).
    incompleteSignature: entry(
        "IncompleteSignature",
        400,
        "The request signature does not conform to Aliyun standards.",
        (why: string) => why,
    ),
    signatureMismatch: entry(
        "SignatureDoesNotMatch",
        400,
        "Specified signature is not matched with our calculation.",
        (detail: string = "") => detail,
    ),
    accessKeyNotFound: entry("InvalidAccessKeyId.NotFound", 404, "Specified access key is not found."),
    timestampFormat: entry("InvalidTimeStamp.Format", 400, "Specified time stamp or date value is not well formatted."),
    timestampExpired: entry("InvalidTimeStamp.Expired", 400, "Specified time stamp or date value is expired."),
    nonceUsed: entry("SignatureNonceUsed", 400, "Specified signature nonce was used already."),
    missingSecurityToken: entry("MissingSecurityToken", 400, "The security token of this temporary access key is missing."),
    securityTokenMismatch: entry("InvalidSecurityToken.MismatchWithAccessKey", 400, "The security token does not match the access key."),

    // Regions, instances, status (ecs-api.md §2).
    regionNotFound: entry("InvalidRegionId.NotFound", 404, "The specified RegionId does not exist.", inParentheses),
    instanceNotFound: entry("InvalidInstanceId.NotFound", 404, "The specified InstanceId does not exist.", inParentheses),
    /** D-RBS: a batch without any InstanceId.N. */
    instanceIdMissing: entry("InvalidInstanceId.NotFound", 403, "InstanceId should not be null."),
    instanceIdsNotFound: entry("InvalidInstanceIds.NotFound", 404, "The specified InstanceIds does not exist.", idList),
    /** Emulator choice: the current DescribeInstances doc names no code for a malformed InstanceIds. */
    instanceIdsMalformed: entry("InvalidInstanceIds.Malformed", 400, "The specified parameter InstanceIds is not valid."),
    instanceIdsNotSupported: entry("InvalidInstanceIds.ValueNotSupported", 400, "The specified parameter InstanceIds is not valid."),
    tooManyInstanceIds: entry("InvalidParameter.TooManyInstanceIds", 403, "Instance ids cannot be more than 100."),
    statusNotFound: entry("InvalidStatus.NotFound", 404, "The specified Status is not valid.", inParentheses),
    incorrectStatus: entry(
        "IncorrectInstanceStatus",
        403,
        "The current status of the resource does not support this operation.",
        (id: string, status: string) => `(${id} is ${status})`,
    ),
    /** Fresh instances for a while after RunInstances (ecs-api.md §12.4; Terraform and packer retry it). */
    initializing: entry(
        "IncorrectInstanceStatus.Initializing",
        403,
        "The instance is initializing, please try again later.",
        inParentheses,
    ),
    lockedForSecurity: entry("InstanceLockedForSecurity", 403, "The specified instance is locked for security reasons.", inParentheses),
    dryRunBatch: entry("DRYRUN.SUCCESS", 400, "This request is a dryrun request with successful result."),
    dryRunSingle: entry("DryRunOperation", 400, "Request validation has been passed with DryRun flag set."),
    passwordMalformed: entry("InvalidPassword.Malformed", 400, 'The specified parameter "Password" is not valid.'),
    /** RunInstances `Amount` is 1..100. */
    amountOutOfRange: entry("InvalidAmount.ValueNotSupported", 400, "The specified parameter Amount is not valid (1 to 100)."),

    // Key pairs (ecs-api.md §2.1, §2.2, §12.1).
    keyPairNotFound: entry("InvalidKeyPairName.NotFound", 400, "The specified KeyPairName does not exist in our records.", inParentheses),
    keyPairNotMatch: entry(
        "InvalidKeyPairName.NotMatch",
        400,
        "The instance is bound to another key pair.",
        (id: string, keyPairName: string) => `(${id} does not hold ${keyPairName})`,
    ),
    keyPairLimitExceeded: entry("InstanceKeyPairLimitExceeded", 403, "The specified instances are beyond the permitted range."),
    windowsInstance: entry(
        "DependencyViolation.WindowsInstance",
        403,
        "The instance creating is windows, cannot use ssh key pair to login.",
        inParentheses,
    ),
    notIoOptimized: entry(
        "DependencyViolation.IoOptimize",
        400,
        "The specified parameter InstanceIds is not valid: the instance is not I/O optimized.",
        inParentheses,
    ),
    keyPairAttached: entry(
        "InvalidParameter.KeypairAlreadyAttachedInstance",
        400,
        "The specified keypair already attached instance, please detach it first.",
        (name: string, ids: readonly string[]) => `(${name}: ${ids.join(", ")})`,
    ),
    keyPairDuplicate: entry("KeyPair.AlreadyExist", 400, "The key pair already exists.", inParentheses),
    publicKeyMalformed: entry("InvalidPublicKeyBody.Malformed", 400, "The specified parameter PublicKeyBody is not valid."),
    keyPairNameMalformed: entry("InvalidKeyPairName.Malformed", 400, "The specified parameter KeyPairName is not valid.", inParentheses),
    tooManyKeyPairNames: entry("InvalidParameter.KeyPairNames", 400, "KeyPairNames cannot be more than 100."),

    // Tags (ecs-api.md §12.3; codes of the limit errors guessed from the TagResources doc's wording).
    resourceTypeNotFound: entry(
        "InvalidResourceType.NotFound",
        400,
        "The ResourceType provided does not exist in our records.",
        inParentheses,
    ),
    resourceIdsNotFound: entry("InvalidResourceId.NotFound", 404, "The specified ResourceIds are not found in our records.", idList),
    tooManyResourceIds: entry("InvalidResourceId.TooMany", 400, "The number of ResourceId.N cannot be more than 50."),
    tooManyTags: entry("InvalidTag.TooMany", 400, "The number of Tag.N or TagKey.N cannot be more than 20."),
    tagKeyMalformed: entry("InvalidTagKey.Malformed", 400, "The specified Tag.n.Key is not valid.", inParentheses),
    tagValueMalformed: entry("InvalidTagValue.Malformed", 400, "The specified Tag.n.Value is not valid.", inParentheses),
    tagKeyDuplicate: entry("InvalidTagKey.Duplicate", 400, "The specified Tag.n.Key is duplicated.", inParentheses),
    tagQuotaExceeded: entry("OperationDenied.QuotaExceed", 403, "The quota of tags on resource is beyond permitted range.", inParentheses),

    // Cloud Assistant (ecs-api.md §12.2; codes guessed where the doc gives none).
    commandTypeNotSupported: entry("InvalidCmdType.NotFound", 400, "The specified command type does not exist.", inParentheses),
    commandContentMalformed: entry("InvalidCmdContent.Malformed", 400, "The specified command content is not valid.", (why: string) => why),
    parametersMalformed: entry("InvalidParameter.Parameters", 400, "The specified parameter Parameters is not valid."),
    timeoutMalformed: entry("InvalidTimeout.Malformed", 400, "The specified parameter Timeout is not valid (10 to 86400)."),
    invokeIdNotFound: entry("InvalidInvokeId.NotFound", 404, "The specified InvokeId does not exist.", inParentheses),
};

/** `Missing{Parameter}`: one code per parameter name (ecs-api.md §5.2), so it sits beside the table. */
export const missingParameter = Object.assign(
    (name: string) =>
        new EcsError(`Missing${name}`, 400, `The input parameter "${name}" that is mandatory for processing this request is not supplied.`),
    {
        code: "Missing{Parameter}",
        httpStatus: 400,
        message: 'The input parameter "{Parameter}" that is mandatory for processing this request is not supplied.',
    },
);

export interface EcsErrorDefinition {
    code: string;
    httpStatus: number;
    message: string;
}

/** Every error the emulator can send: the table above, as data (for tests and the control API). */
export const ERROR_INVENTORY: readonly EcsErrorDefinition[] = [...Object.values(errors), missingParameter].map(
    ({ code, httpStatus, message }) => ({ code, httpStatus, message }),
);

/**
 * An error for a code a fault rule names: the inventory's status and message when it knows the code;
 * a code the inventory does not hold (a test may inject anything) gets the given or a 400 status.
 */
export function errorForCode(code: string, httpStatus?: number): EcsError {
    const known = ERROR_INVENTORY.find(
        (definition) => definition.code === code && (httpStatus ?? definition.httpStatus) === definition.httpStatus,
    );
    return new EcsError(code, httpStatus ?? known?.httpStatus ?? 400, known?.message ?? `Injected fault: ${code}.`);
}

/** The code the inventory sends for a bare HTTP status (a fault rule that gives only `status`). */
export function codeForStatus(httpStatus: number): string {
    const preferred: Record<number, { code: string }> = {
        400: errors.invalidParameter,
        403: errors.forbidden,
        404: errors.apiNotFound,
        409: errors.conflict,
        503: errors.serviceUnavailable,
    };
    return (preferred[httpStatus] ?? errors.internalError).code;
}

/**
 * Non-ECS answers a gateway in front of ECS can give: an HTML page with a 5xx status, no envelope
 * (ecs-api.md §12.4). The SDK then fails to parse JSON. Not ECS codes, so not in the inventory.
 */
export const GATEWAY_ANSWERS: Readonly<Record<502 | 504, string>> = {
    502: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n",
    504: "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n",
};

/**
 * The `ErrorCode` values of one instance's Cloud Assistant run (DescribeInvocationResults): not API
 * errors (they come inside an HTTP 200), listed here so that every code the emulator sends is in
 * this file. Values as the DescribeInvocationResults doc names them.
 */
export const INVOCATION_ERROR_CODES = {
    instanceNotRunning: "InstanceNotRunning",
    commandNotApplicable: "CommandNotApplicable",
    clientNotRunning: "ClientNotRunning",
    executionTimeout: "ExecutionTimeout",
    exitCodeNonzero: "ExitCodeNonzero",
    instanceReleased: "InstanceReleased",
} as const;
