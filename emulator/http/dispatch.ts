/** Action dispatch: find the handler for `Action` + `Version` and run it against the model. */
import { type ActionBody, type ActionContext, actions } from "../actions";
import { errors } from "../errors";

const API_VERSION = "2014-05-26";

export type ActionHandler = (ctx: ActionContext) => ActionBody;

/** Unknown actions get POP's 404 `InvalidAction.NotFound`; a wrong Version is refused too. */
export function findAction(action: string, version: string | undefined): ActionHandler {
    if (action === "") throw errors.missingAction();
    const handler = Object.hasOwn(actions, action) ? actions[action] : undefined;
    if (!handler) throw errors.actionNotFound(action);
    if (version !== API_VERSION) throw errors.invalidVersion(API_VERSION);
    return handler;
}
