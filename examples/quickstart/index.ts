/**
 * Quick start: bind one key pair to the instances named in the stack configuration.
 *
 *   quickstart:keyPairName   the key pair (must exist in the region)
 *   quickstart:instanceIds   the instances (a JSON list; order does not matter)
 *   quickstart:restart       optional restart settings, e.g. {"batchSize": 2}
 *   quickstart:activation    optional: "online" puts the key in effect through Cloud Assistant, without a restart
 *   quickstart:online        optional online settings, e.g. {"users": ["root", "ecs-user"], "fallback": "fail"}
 *   quickstart:passwordOnUnbind  optional, a secret: the password instances get when this resource
 *                                unbinds them (`pulumi config set --secret passwordOnUnbind …`)
 *
 * The provider reads region, credentials and endpoint from the `alicloud:*` keys; the defaults in
 * Pulumi.yaml target the local emulator. Nothing in this file changes for a real account.
 */
import * as pulumi from "@pulumi/pulumi";
import { KeyPairAttachment, type Activation, type OnlineArgs, type RestartArgs } from "pulumi-alicloud-keypair-attachment";

const config = new pulumi.Config();

const fleetKey = new KeyPairAttachment("fleet-key", {
    keyPairName: config.require("keyPairName"),
    instanceIds: config.requireObject<string[]>("instanceIds"),
    restart: config.getObject<RestartArgs>("restart"),
    activation: config.get<Activation>("activation"),
    online: config.getObject<OnlineArgs>("online"),
    // Opt-in: unbound instances get this password and a graceful restart instead of being locked out.
    passwordOnUnbind: config.getSecret("passwordOnUnbind"),
});

export const keyPairName = fleetKey.keyPairName;
export const region = fleetKey.region;
export const boundInstanceIds = fleetKey.instanceIds;
export const restartedInstanceIds = fleetKey.restartedInstanceIds;
export const onlineActivatedInstanceIds = fleetKey.onlineActivatedInstanceIds;
export const pendingRestartInstanceIds = fleetKey.pendingRestartInstanceIds;
export const passwordResetRequiredInstanceIds = fleetKey.passwordResetRequiredInstanceIds;
export const replacedKeyPairs = fleetKey.replacedKeyPairs;
export const passwordResetFailures = fleetKey.passwordResetFailures;
