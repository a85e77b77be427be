/**
 * The serialized provider: a thin object whose hooks load the package's lifecycle module by name at
 * call time. Serialized into the state, it stays small (the serializer wraps each hook and the one
 * loader they share) and captures nothing else (no credentials, no client); a destroy after an
 * upgrade runs the installed code, not a stale copy. The package must therefore be installed where
 * the Pulumi program is, like any dependency.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { KeyPairAttachmentInputs as Inputs, KeyPairAttachmentOutputs as Outputs } from "./types";

type Lifecycle = typeof import("./lifecycle");

/**
 * Loads the installed lifecycle module, at call time (captured by every hook, so serialized with
 * them). A `require` by package name, not an `import`: an import would be resolved, and its module
 * serialized, with the provider. (Comments inside a function body are serialized too: keep them out.)
 */
/* eslint-disable @typescript-eslint/no-require-imports -- see above */
function lifecycle(): Lifecycle {
    return require("pulumi-alicloud-keypair-attachment/lifecycle") as Lifecycle;
}
/* eslint-enable @typescript-eslint/no-require-imports */

export const keyPairAttachmentProvider = {
    configure(request: pulumi.dynamic.ConfigureRequest): Promise<void> {
        return Promise.resolve(lifecycle().configure(request));
    },
    async check(olds: Inputs, news: Inputs) {
        return lifecycle().check(olds, news);
    },
    async diff(id: string, olds: Outputs, news: Inputs) {
        return lifecycle().diff(id, olds, news);
    },
    async create(inputs: Inputs) {
        return lifecycle().create(inputs);
    },
    async read(id: string, props?: Outputs) {
        return lifecycle().read(id, props);
    },
    async update(id: string, olds: Outputs, news: Inputs) {
        return lifecycle().update(id, olds, news);
    },
    async delete(id: string, props: Outputs) {
        return lifecycle().delete(id, props);
    },
} satisfies pulumi.dynamic.ResourceProvider<Inputs, Outputs>;
