import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FileRestartJournal, defaultJournalDir } from "../../provider/journal";

/** A journal whose notes look as if written by a process that has since died. */
const DEAD = { pid: 5_000_000, isAlive: () => false };

describe("FileRestartJournal (write-ahead note of owed restarts)", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpa-journal-test-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("notes, reads back, and settles per region and key pair; an empty note leaves no file", async () => {
        const journal = new FileRestartJournal(dir, undefined, DEAD);
        await journal.note("cn-hangzhou", "ops", ["i-a", "i-b"]);
        await journal.note("cn-beijing", "ops", ["i-c"]);
        expect([...(await journal.owed("cn-hangzhou", "ops"))].sort()).toEqual(["i-a", "i-b"]);
        expect([...(await journal.owed("cn-beijing", "ops"))]).toEqual(["i-c"]);
        expect([...(await journal.owed("cn-hangzhou", "other"))]).toEqual([]);

        await journal.settle("cn-hangzhou", "ops", ["i-a"]);
        expect([...(await journal.owed("cn-hangzhou", "ops"))]).toEqual(["i-b"]);
        await journal.settle("cn-hangzhou", "ops", ["i-b"]);
        await journal.settle("cn-beijing", "ops", ["i-c"]);
        expect(fs.readdirSync(dir)).toEqual([]);
    });

    test("a later process owes what a dead process noted, but not what a live one is still working on", async () => {
        await new FileRestartJournal(dir, undefined, { pid: 5_000_000 }).note("cn-hangzhou", "ops", ["i-dead"]);
        await new FileRestartJournal(dir).note("cn-hangzhou", "ops", ["i-live"]);
        expect([...(await new FileRestartJournal(dir).owed("cn-hangzhou", "ops"))]).toEqual(["i-dead"]);
    });

    test("concurrent notes are all kept, in one write", async () => {
        const journal = new FileRestartJournal(dir, undefined, DEAD);
        const renames = jest.spyOn(fs.promises, "rename");
        await Promise.all(Array.from({ length: 20 }, (_, i) => journal.note("cn-hangzhou", "ops", [`i-${i}`])));
        expect((await journal.owed("cn-hangzhou", "ops")).size).toBe(20);
        expect(renames.mock.calls.length).toBeLessThanOrEqual(2);
        renames.mockRestore();
    });

    test("a corrupt file is ignored with a warning; an unwritable folder warns and never throws", async () => {
        const warnings: string[] = [];
        const journal = new FileRestartJournal(dir, (w) => warnings.push(w), DEAD);
        await journal.note("cn-hangzhou", "ops", ["i-a"]);
        const [file] = fs.readdirSync(dir);
        fs.writeFileSync(path.join(dir, file), "{not json");
        expect([...(await journal.owed("cn-hangzhou", "ops"))]).toEqual([]);
        expect(warnings.join("\n")).toMatch(/could not be read .*ignoring it/);

        const blocked = path.join(dir, "a-file");
        fs.writeFileSync(blocked, "");
        const unwritable = new FileRestartJournal(path.join(blocked, "journal"), (w) => warnings.push(w));
        await expect(unwritable.note("cn-hangzhou", "ops", ["i-a"])).resolves.toBeUndefined();
        expect(warnings.join("\n")).toMatch(/could not be written .*interrupted run may leave restarts undone/);
    });

    test("lives under PULUMI_HOME, like the CLI's own files", () => {
        expect(defaultJournalDir({ PULUMI_HOME: "/tmp/ph" })).toBe(path.join("/tmp/ph", "keypair-attachment", "journal"));
        expect(defaultJournalDir({})).toBe(path.join(os.homedir(), ".pulumi", "keypair-attachment", "journal"));
    });
});
