/**
 * The emulator as a whole: the model, faults, credentials and call log, served over HTTP. The steps
 * of one request live apart: routing (http/routing.ts), authentication (auth.ts), faults
 * (faults.ts), the API pipeline and action dispatch (http/api.ts, http/dispatch.ts), and the
 * envelope (http/envelope.ts). `/_emulator/*` is the control API (control.ts).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Authenticator } from "./auth";
import { type ApiCall, countByAction } from "./calls";
import { type Clock, systemClock } from "./clock";
import { type ControlTarget, handleControl } from "./control";
import type { KnownScripts } from "./cloudassistant";
import { FaultInjector } from "./faults";
import { packageKnownScripts } from "./knownscripts";
import { handleApi } from "./http/api";
import { answerClientError, requestListener } from "./http/routing";
import { Sleeper } from "./http/sleeper";
import { DEFAULT_DURATIONS, type Durations, EcsModel } from "./model";
import { DEFAULT_ACCESS_KEY, type Seed, type SeedAccessKey, type SeedSettings } from "./seed";

export type { ApiCall } from "./calls";

export interface EmulatorOptions {
    /** Default 0 (ephemeral). */
    port?: number;
    /** Default "127.0.0.1". */
    host?: string;
    seed?: Seed;
    /** Multiplies every transition duration; default 1 (e.g. 0.01 in tests). */
    timeScale?: number;
    /** Before timeScale; defaults 3000/5000/2000 ms. */
    durations?: Partial<Durations>;
    /** Added to every API response (benchmark realism); default 0. */
    latencyMs?: number;
    /**
     * Drives instance transitions and call timestamps; default Date.now. Signature timestamps, nonces
     * and throttling always use wall time, because the SDK signs with the wall clock: a test may
     * freeze or jump this clock without its requests going stale.
     */
    clock?: Clock;
    /** Default true. */
    verifySignatures?: boolean;
    /** Real-ECS behaviours: initialization window, lag (also settable by the seed and `POST /_emulator/settings`). */
    settings?: SeedSettings;
    /**
     * Scripts Cloud Assistant recognises by SHA-256 and applies to the model (it never runs one).
     * Default: the package's own authorized_keys script, when present (knownscripts.ts).
     */
    knownScripts?: KnownScripts;
}

export interface Emulator {
    /** "127.0.0.1:PORT", what the SDK's `Config.endpoint` takes. */
    endpoint: string;
    /** "http://127.0.0.1:PORT". */
    url: string;
    model: EcsModel;
    faults: FaultInjector;
    /** Every API call received, in order (control endpoints excluded). */
    calls: ApiCall[];
    callCounts(): Record<string, number>;
    resetCalls(): void;
    close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
    const clock = options.clock ?? systemClock;
    const model = new EcsModel(
        {
            clock,
            timeScale: options.timeScale ?? 1,
            durations: { ...DEFAULT_DURATIONS, ...options.durations },
            settings: options.settings,
            knownScripts: options.knownScripts ?? packageKnownScripts(),
        },
        options.seed,
    );
    const faults = new FaultInjector(systemClock);
    let accessKeys: SeedAccessKey[] = [DEFAULT_ACCESS_KEY, ...(options.seed?.accessKeys ?? [])];
    const calls: ApiCall[] = [];
    const sleeper = new Sleeper();
    const api = {
        model,
        faults,
        authenticator: new Authenticator(() => accessKeys, systemClock),
        calls,
        clock,
        sleeper,
        verifySignatures: options.verifySignatures ?? true,
        latencyMs: options.latencyMs ?? 0,
    };
    const control: ControlTarget = {
        model,
        faults,
        calls,
        reset(seed: Seed) {
            model.reset(seed);
            if (seed.accessKeys) accessKeys = [DEFAULT_ACCESS_KEY, ...seed.accessKeys];
        },
    };

    const server = createServer(
        requestListener({
            api: (req, res, rawQuery, body) => handleApi(api, req, res, rawQuery, body),
            control: (method, path, rawQuery, body) => handleControl(control, method, path, rawQuery, body),
        }),
    );
    server.on("clientError", answerClientError);
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
    });
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const endpoint = `${host}:${address.port}`;

    return {
        endpoint,
        url: `http://${endpoint}`,
        model,
        faults,
        calls,
        callCounts: () => countByAction(calls),
        resetCalls() {
            calls.length = 0;
        },
        close() {
            sleeper.cancelAll();
            return new Promise<void>((resolve, reject) => {
                server.close((error) => (error ? reject(error) : resolve()));
                server.closeAllConnections();
            });
        },
    };
}
