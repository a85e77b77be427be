/**
 * Where a phase's time and calls went, read from the emulator's call log (arrival times on the
 * emulator's clock): status polls, the time before the first reboot, and how late each restart was
 * seen to be over.
 */
import type { ApiCall } from "pulumi-alicloud-keypair-attachment/emulator";

export interface Timeline {
    /** DescribeInstances calls after the first RebootInstances: status polls. */
    polls: number;
    /** First call → first RebootInstances (validation and binding), 0 when nothing was rebooted. */
    beforeRebootMs: number;
    /**
     * Mean over RebootInstances calls of: the first poll of one of its instances after the restart
     * was over (reboot arrival + restart duration) minus that moment. Polling's share of the wall time.
     */
    detectionLagMs: number;
}

export function readTimeline(calls: readonly ApiCall[], restartMs: number): Timeline {
    const firstReboot = calls.findIndex((c) => c.action === "RebootInstances");
    if (firstReboot < 0) return { polls: 0, beforeRebootMs: 0, detectionLagMs: 0 };
    const afterFirstReboot = calls.slice(firstReboot);
    const reboots = afterFirstReboot.filter((c) => c.action === "RebootInstances" && !c.code);
    const lags = reboots.flatMap((reboot) => {
        const overAt = reboot.at + restartMs;
        const ids = new Set(reboot.instanceIds);
        const seen = afterFirstReboot.find(
            (c) => c.action === "DescribeInstances" && !c.code && c.at >= overAt && c.instanceIds.some((id) => ids.has(id)),
        );
        return seen ? [seen.at - overAt] : [];
    });
    return {
        polls: afterFirstReboot.filter((c) => c.action === "DescribeInstances").length,
        beforeRebootMs: calls[firstReboot].at - calls[0].at,
        detectionLagMs: lags.length ? Math.round(lags.reduce((a, b) => a + b, 0) / lags.length) : 0,
    };
}
