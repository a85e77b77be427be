/** Key pairs with public keys: DescribeKeyPairs IncludePublicKey, ImportKeyPair, CreateKeyPair, DeleteKeyPairs. */
import * as ecs from "@alicloud/ecs20140526";
import type Client from "@alicloud/ecs20140526";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { startEmulator, type Emulator } from "../../emulator";
import { ecsClient, ecsErrorOf, REGION } from "./helpers";

const SEEDED_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGnXl0MbQ3PSpvb2gGgbUXwcmsI1D5Y4vG9e7UjVxO1H ops@laptop";

let emulator: Emulator;
let client: Client;

beforeAll(async () => {
    emulator = await startEmulator();
    client = ecsClient(emulator);
});
afterAll(() => emulator.close());
beforeEach(() =>
    emulator.model.reset({
        keyPairs: [{ name: "seeded", publicKey: SEEDED_KEY }, { name: "generated" }],
        instances: [{ id: "i-a", keyPairName: "seeded" }],
    }),
);

async function keyPairs(includePublicKey?: boolean) {
    const response = await client.describeKeyPairs(new ecs.DescribeKeyPairsRequest({ regionId: REGION, includePublicKey }));
    return response.body?.keyPairs?.keyPair ?? [];
}

/** The 32 raw bytes inside an OpenSSH ed25519 line (string "ssh-ed25519", string key). */
function ed25519Bytes(line: string): Buffer {
    const blob = Buffer.from(line.split(" ")[1], "base64");
    expect(blob.readUInt32BE(0)).toBe(11);
    expect(blob.subarray(4, 15).toString()).toBe("ssh-ed25519");
    expect(blob.readUInt32BE(15)).toBe(32);
    expect(blob.length).toBe(51);
    return blob.subarray(19);
}

describe("public keys", () => {
    test("DescribeKeyPairs returns PublicKey only with IncludePublicKey=true", async () => {
        expect((await keyPairs()).map((k) => k.publicKey)).toEqual([undefined, undefined]);
        const withKeys = await keyPairs(true);
        expect(withKeys.find((k) => k.keyPairName === "seeded")?.publicKey).toBe(SEEDED_KEY);
        const generated = withKeys.find((k) => k.keyPairName === "generated")?.publicKey ?? "";
        expect(generated).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/]+=* generated$/);
        ed25519Bytes(generated);
        expect(withKeys.map((k) => k.keyPairFingerPrint)).toEqual([
            expect.stringMatching(/^[0-9a-f]{32}$/),
            expect.stringMatching(/^[0-9a-f]{32}$/),
        ]);
    });

    test("ImportKeyPair registers a public key; a malformed or duplicate one is refused", async () => {
        const line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBsV6v8Rk0bCqT+LQYc3mS0m0k9w0gE6B7m4t2l9cU2f imported";
        const imported = await client.importKeyPair(
            new ecs.ImportKeyPairRequest({ regionId: REGION, keyPairName: "imported", publicKeyBody: line }),
        );
        expect(imported.body?.keyPairName).toBe("imported");
        expect(imported.body?.keyPairFingerPrint).toMatch(/^[0-9a-f]{32}$/);
        expect((await keyPairs(true)).find((k) => k.keyPairName === "imported")?.publicKey).toBe(line);

        const importing = (name: string, body: string) =>
            client.importKeyPair(new ecs.ImportKeyPairRequest({ regionId: REGION, keyPairName: name, publicKeyBody: body }));
        expect(await ecsErrorOf(importing("other", "not a key"))).toMatchObject({
            code: "InvalidPublicKeyBody.Malformed",
            statusCode: 400,
        });
        expect(await ecsErrorOf(importing("imported", line))).toMatchObject({ code: "KeyPair.AlreadyExist", statusCode: 400 });
        expect(await ecsErrorOf(importing("1bad", line))).toMatchObject({ code: "InvalidKeyPairName.Malformed", statusCode: 400 });
    });

    test("CreateKeyPair hands out a private key once, matching the public key DescribeKeyPairs gives", async () => {
        const created = await client.createKeyPair(new ecs.CreateKeyPairRequest({ regionId: REGION, keyPairName: "made" }));
        const privateKey = createPrivateKey(created.body?.privateKeyBody ?? "");
        const raw = createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(-32);
        const publicKey = (await keyPairs(true)).find((k) => k.keyPairName === "made")?.publicKey ?? "";
        expect(ed25519Bytes(publicKey).equals(raw)).toBe(true);
        expect(created.body?.keyPairFingerPrint).toBe((await keyPairs()).find((k) => k.keyPairName === "made")?.keyPairFingerPrint);
    });
});

describe("DeleteKeyPairs", () => {
    const deleteKeyPairs = (names: string[]) =>
        client.deleteKeyPairs(new ecs.DeleteKeyPairsRequest({ regionId: REGION, keyPairNames: JSON.stringify(names) }));

    test("refuses a key pair bound to an instance (and deletes nothing of that call); after unbinding it goes", async () => {
        expect(await ecsErrorOf(deleteKeyPairs(["generated", "seeded"]))).toMatchObject({
            code: "InvalidParameter.KeypairAlreadyAttachedInstance",
            statusCode: 400,
        });
        expect((await keyPairs()).map((k) => k.keyPairName)).toEqual(["seeded", "generated"]);

        await client.detachKeyPair(new ecs.DetachKeyPairRequest({ regionId: REGION, keyPairName: "seeded", instanceIds: '["i-a"]' }));
        await deleteKeyPairs(["generated", "seeded", "never-existed"]);
        expect(await keyPairs()).toEqual([]);
        // The guest still logs on with the old key until its next boot.
        expect(emulator.model.instance("i-a")?.effectiveKeyPairName).toBe("seeded");
    });
});
