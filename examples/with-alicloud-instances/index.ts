/**
 * @pulumi/alicloud creates the instances and the key pair; KeyPairAttachment binds the key to all of
 * them, restarting two at a time. `instanceIds` takes the instances' `id` Outputs directly: during
 * preview they are unknown, which KeyPairAttachment accepts.
 *
 *   with-alicloud-instances:vswitchId        an existing vSwitch
 *   with-alicloud-instances:securityGroupId  an existing security group in its VPC
 *   with-alicloud-instances:publicKey        the SSH public key to import (ssh-ed25519 AAAA… / ssh-rsa AAAA…)
 *   with-alicloud-instances:count            how many instances (default 3)
 *   with-alicloud-instances:instanceType     default ecs.g7.large
 *   with-alicloud-instances:imageId          default a public Alibaba Cloud Linux 3 image
 */
import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { KeyPairAttachment } from "pulumi-alicloud-keypair-attachment";

const config = new pulumi.Config();
const count = config.getNumber("count") ?? 3;

const opsKey = new alicloud.ecs.EcsKeyPair("ops-key", {
    keyPairName: "ops-2026",
    publicKey: config.require("publicKey"),
});

const web: alicloud.ecs.Instance[] = [];
for (let i = 0; i < count; i++) {
    web.push(
        new alicloud.ecs.Instance(`web-${i + 1}`, {
            instanceName: `web-${i + 1}`,
            instanceType: config.get("instanceType") ?? "ecs.g7.large",
            imageId: config.get("imageId") ?? "aliyun_3_x64_20G_alibase_20240819.vhd",
            vswitchId: config.require("vswitchId"),
            securityGroups: [config.require("securityGroupId")],
            systemDiskCategory: "cloud_essd",
            internetMaxBandwidthOut: 0,
        }),
    );
}

// The attachment owns the binding (the instances are created without `keyName`), so rotating the key
// later is an in-place update with a rolling restart, not a replacement of the instances.
const attachment = new KeyPairAttachment("ops-key-attachment", {
    keyPairName: opsKey.keyPairName,
    instanceIds: web.map((instance) => instance.id),
    restart: { batchSize: 2 },
});

export const instanceIds = attachment.instanceIds;
export const restartedInstanceIds = attachment.restartedInstanceIds;
export const passwordResetRequiredInstanceIds = attachment.passwordResetRequiredInstanceIds;
