/**
 * `pulumi import alicloud-keypair:ecs:KeyPairAttachment NAME <region>/<keyPairName>[/<id>,<id>…]`:
 * the engine calls Read with that id and no properties. The instances that hold the key pair now
 * (all of them, or the listed ones, each of which must hold it) become the recorded state; the
 * lifecycle's read then checks it as a refresh would.
 */
import type { EcsGateway } from "../provider/ecs/gateway";
import type { KeyPairAttachmentOutputs } from "../provider/types";

export interface ImportId {
    region: string;
    keyPairName: string;
    /** Undefined: every instance holding the key pair in the region. */
    instanceIds?: string[];
}

const FORMAT = "<region>/<keyPairName> or <region>/<keyPairName>/<instanceId>,<instanceId>,…";

export function parseImportId(id: string): ImportId {
    const parts = id.split("/");
    if (parts.length < 2 || parts.length > 3 || parts.some((p) => p.trim() === "")) {
        throw new Error(
            `Cannot import KeyPairAttachment "${id}": the id must be ${FORMAT} (for example cn-hangzhou/deploy-key/i-abc,i-def).`,
        );
    }
    const [region, keyPairName, list] = parts.map((p) => p.trim());
    if (list === undefined) return { region, keyPairName };
    const instanceIds = [...new Set(list.split(",").map((s) => s.trim()))];
    if (instanceIds.some((s) => s === "")) {
        throw new Error(`Cannot import KeyPairAttachment "${id}": an empty instance id in "${list}"; list them as i-abc,i-def.`);
    }
    return { region, keyPairName, instanceIds };
}

/** The outputs of an adopted binding: nothing restarted, owed or replaced by this resource (yet). */
export async function importedOutputs(gateway: EcsGateway, target: ImportId): Promise<KeyPairAttachmentOutputs> {
    const { region, keyPairName } = target;
    if (!(await gateway.keyPairExists(region, keyPairName, { fresh: true }))) {
        throw new Error(
            `Cannot import: key pair "${keyPairName}" does not exist in region ${region}. Check the region and the key pair name (ECS console → Key Pairs).`,
        );
    }
    let instanceIds: string[];
    if (target.instanceIds) {
        const facts = await gateway.describeInstances(region, target.instanceIds);
        const wrong = target.instanceIds.filter((id) => facts.get(id)?.keyPairName !== keyPairName);
        if (wrong.length) {
            const why = wrong.map((id) => {
                const held = facts.get(id);
                return !held
                    ? `${id} (not found in ${region})`
                    : held.keyPairName
                      ? `${id} (holds "${held.keyPairName}")`
                      : `${id} (holds no key pair)`;
            });
            throw new Error(
                `Cannot import: ${wrong.length} instance(s) do not hold key pair "${keyPairName}" in ${region}: ${why.join(", ")}. ` +
                    `Nothing was imported. Leave them out of the id, or import ${region}/${keyPairName} to adopt every instance that holds it.`,
            );
        }
        instanceIds = target.instanceIds;
    } else {
        if (!gateway.describeInstancesByKeyPair)
            throw new Error("This ECS gateway cannot list the instances of a key pair; import with explicit instance ids.");
        instanceIds = [...(await gateway.describeInstancesByKeyPair(region, keyPairName)).keys()].sort();
    }
    return {
        keyPairName,
        instanceIds,
        region,
        restartedInstanceIds: [],
        pendingRestartInstanceIds: [],
        passwordResetRequiredInstanceIds: [],
        passwordResetFailures: {},
        replacedKeyPairs: {},
    };
}
