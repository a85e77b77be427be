/**
 * Rolling restart: bind one key pair to a fleet, restarting at most `batchSize` instances at a time
 * so that the rest keep serving. A wave that does not come back Running within `timeoutSeconds`
 * stops the rollout (the error names the instances; the next `pulumi up` makes only what is missing).
 *
 *   rolling-restart:keyPairName     the key pair
 *   rolling-restart:instanceIds     the fleet (a JSON list)
 *   rolling-restart:batchSize       instances restarting at once (default 1; 0 = all at once)
 *   rolling-restart:timeoutSeconds  how long one wave may take (default 600)
 *   rolling-restart:forceReboot     power-cycle instead of a graceful reboot (default false)
 */
import * as pulumi from "@pulumi/pulumi";
import { KeyPairAttachment } from "pulumi-alicloud-keypair-attachment";

const config = new pulumi.Config();

const fleetKey = new KeyPairAttachment("fleet-key", {
    keyPairName: config.require("keyPairName"),
    instanceIds: config.requireObject<string[]>("instanceIds"),
    restart: {
        enabled: true,
        batchSize: config.getNumber("batchSize") ?? 1,
        timeoutSeconds: config.getNumber("timeoutSeconds") ?? 600,
        force: config.getBoolean("forceReboot") ?? false,
    },
});

export const restartedInstanceIds = fleetKey.restartedInstanceIds;
export const pendingRestartInstanceIds = fleetKey.pendingRestartInstanceIds;
export const boundInstanceIds = fleetKey.instanceIds;
