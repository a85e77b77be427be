/**
 * The provider process of the benchmark: loads the package's lifecycle module by name, as the
 * serialized provider does inside the Pulumi dynamic-provider host, and runs the hooks the parent
 * asks for. Configured only through the environment (ALIBABA_CLOUD_ECS_ENDPOINT, credentials,
 * region), so its CPU time and memory are the provider's alone; the emulator runs in the parent.
 */
import type { ChildMessage, Operation, OperationResult, PhaseReply, PhaseRequest, ProcessUsage } from "./protocol";

type Lifecycle = typeof import("pulumi-alicloud-keypair-attachment/lifecycle");

const lifecycle = require("pulumi-alicloud-keypair-attachment/lifecycle") as Lifecycle;
// The host hands configure() the stack configuration; the benchmark sets none (all from the environment).
lifecycle.configure({ config: { get: () => undefined } });

function usage(): ProcessUsage {
    const cpu = process.cpuUsage();
    return { cpuMs: (cpu.user + cpu.system) / 1000, maxRssKb: process.resourceUsage().maxRSS };
}

function send(message: ChildMessage): void {
    process.send?.(message);
}

/** One operation as the engine drives it: check before create; check then diff before update. */
async function run(operation: Operation): Promise<OperationResult> {
    switch (operation.hook) {
        case "create": {
            const checked = await lifecycle.check({} as never, operation.inputs);
            if (checked.failures.length) return { ok: false, error: `check: ${JSON.stringify(checked.failures)}` };
            const created = await lifecycle.create(checked.inputs);
            return { ok: true, id: created.id, outs: { ...operation.inputs, ...created.outs } };
        }
        case "update": {
            const checked = await lifecycle.check(operation.olds, operation.news);
            if (checked.failures.length) return { ok: false, error: `check: ${JSON.stringify(checked.failures)}` };
            const diff = await lifecycle.diff(operation.id, operation.olds, checked.inputs);
            if (!diff.changes) return { ok: true, id: operation.id, outs: operation.olds };
            const updated = await lifecycle.update(operation.id, operation.olds, checked.inputs);
            return { ok: true, id: operation.id, outs: { ...operation.news, ...updated.outs } };
        }
        case "read": {
            const read = await lifecycle.read(operation.id, operation.props);
            return { ok: true, id: read.id, outs: read.props };
        }
        case "delete":
            await lifecycle.delete(operation.id, operation.props);
            return { ok: true, id: operation.id };
    }
}

async function runPhase(request: PhaseRequest): Promise<PhaseReply> {
    const startedAt = performance.now();
    const settled = await Promise.allSettled(request.operations.map(run));
    const wallMs = performance.now() - startedAt;
    const results = settled.map((s): OperationResult =>
        s.status === "fulfilled" ? s.value : { ok: false, error: String(s.reason?.message ?? s.reason) },
    );
    return { type: "phase-done", results, wallMs, ...usage() };
}

process.on("message", (message: PhaseRequest) => {
    if (message.type !== "phase") return;
    runPhase(message).then(send, (error: unknown) => {
        console.error(`bench provider process: ${String(error)}`);
        process.exit(1);
    });
});
// The parent closes the channel when it is done; leave with it.
process.on("disconnect", () => process.exit(0));
send({ type: "ready", ...usage() });
