/** Import against the emulator through the official SDK: paging past one DescribeInstances page, and the refusals. */
import { DEFAULT_ACCESS_KEY, startEmulator, type Emulator } from "../../emulator";
import { resolveSettings } from "../../provider/config";
import { SdkEcsGateway } from "../../provider/ecs/gateway";
import { importedOutputs, parseImportId } from "../../plugin/import";

describe("import through the SDK", () => {
    let emulator: Emulator;
    let gateway: SdkEcsGateway;
    const holders = Array.from({ length: 230 }, (_, i) => `i-imp${String(i).padStart(5, "0")}`);

    beforeAll(async () => {
        emulator = await startEmulator({
            port: 0,
            seed: {
                keyPairs: [{ name: "deploy" }, { name: "other" }],
                instances: [
                    ...holders.map((id) => ({ id, keyPairName: "deploy" })),
                    { id: "i-impother", keyPairName: "other" },
                    { id: "i-impnone" },
                    { id: "i-impbeijing", region: "cn-beijing", keyPairName: "deploy" },
                ],
            },
        });
        gateway = new SdkEcsGateway(
            resolveSettings(
                {
                    get: (key) =>
                        ({
                            "alicloud:accessKey": DEFAULT_ACCESS_KEY.accessKeyId,
                            "alicloud:secretKey": DEFAULT_ACCESS_KEY.accessKeySecret,
                        })[key],
                },
                { ALIBABA_CLOUD_ECS_ENDPOINT: emulator.url },
            ),
        );
    });
    afterAll(() => emulator.close());

    it("adopts every holder of the key pair in the region, across pages, and no other", async () => {
        emulator.resetCalls();
        const outputs = await importedOutputs(gateway, parseImportId("cn-hangzhou/deploy"));
        expect(outputs.instanceIds).toEqual([...holders].sort());
        expect(outputs).toMatchObject({ keyPairName: "deploy", region: "cn-hangzhou", restartedInstanceIds: [], replacedKeyPairs: {} });
        expect(emulator.calls.filter((c) => c.action === "DescribeInstances").length).toBe(3);
        expect(emulator.calls.filter((c) => !c.action.startsWith("Describe"))).toEqual([]);
    });

    it("adopts listed ids only when each holds the key, naming each one that does not", async () => {
        expect((await importedOutputs(gateway, parseImportId(`cn-hangzhou/deploy/${holders[1]},${holders[0]}`))).instanceIds).toEqual([
            holders[1],
            holders[0],
        ]);
        await expect(
            importedOutputs(gateway, parseImportId(`cn-hangzhou/deploy/${holders[0]},i-impother,i-impnone,i-impgone`)),
        ).rejects.toThrow(
            'Cannot import: 3 instance(s) do not hold key pair "deploy" in cn-hangzhou: i-impother (holds "other"), i-impnone (holds no key pair), i-impgone (not found in cn-hangzhou). Nothing was imported.',
        );
    });

    it("refuses a key pair that does not exist in the region", async () => {
        await expect(importedOutputs(gateway, parseImportId("cn-hangzhou/nope"))).rejects.toThrow(
            'key pair "nope" does not exist in region cn-hangzhou',
        );
    });
});
