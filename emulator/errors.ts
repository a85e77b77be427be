/**
 * Typed ECS errors. The model and the actions throw these; the server's single dispatcher turns
 * them into the ECS error envelope `{RequestId, HostId, Code, Message, Recommend}` (ecs-api.md §5.1).
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

/** Common ECS messages, verbatim from ecs-api.md §2 and §5.2 so clients can match on them. */
export const errors = {
    missingParameter: (name: string) =>
        new EcsError(`Missing${name}`, 400, `The input parameter "${name}" that is mandatory for processing this request is not supplied.`),
    invalidParameter: (name: string, why = "") =>
        new EcsError("InvalidParameter", 400, `The specified parameter "${name}" is not valid.${why ? ` ${why}` : ""}`),
    instanceNotFound: (id: string) => new EcsError("InvalidInstanceId.NotFound", 404, `The specified InstanceId does not exist. (${id})`),
    keyPairNotFound: (name: string) =>
        new EcsError("InvalidKeyPairName.NotFound", 400, `The specified KeyPairName does not exist in our records. (${name})`),
    incorrectStatus: (id: string, status: string) =>
        new EcsError(
            "IncorrectInstanceStatus",
            403,
            `The current status of the resource does not support this operation. (${id} is ${status})`,
        ),
    lockedForSecurity: (id: string) =>
        new EcsError("InstanceLockedForSecurity", 403, `The specified instance is locked for security reasons. (${id})`),
    tooManyInstanceIds: () => new EcsError("InvalidParameter.TooManyInstanceIds", 403, "Instance ids cannot be more than 100."),
    throttled: () => new EcsError("Throttling.User", 400, "Request was denied due to user flow control."),
};
