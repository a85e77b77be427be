/**
 * The serialized provider: a thin object whose hooks load the package's lifecycle module by name at
 * call time. Serialized into the state, it stays about 2.5 KB (the serializer wraps each hook) and captures nothing (no
 * credentials, no client); a destroy after an upgrade runs the installed code, not a stale copy.
 * The package must therefore be installed where the Pulumi program is, like any dependency.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { KeyPairAttachmentInputs, KeyPairAttachmentOutputs } from "./types";

type Lifecycle = typeof import("./lifecycle");

export const keyPairAttachmentProvider = {
    async configure(request: pulumi.dynamic.ConfigureRequest) {
        (require("pulumi-alicloud-keypair-attachment/lifecycle") as Lifecycle).configure(request);
    },
    async check(olds: any, news: any) {
        return (require("pulumi-alicloud-keypair-attachment/lifecycle") as Lifecycle).check(olds, news);
    },
    async diff(id: string, olds: any, news: any) {
        return (require("pulumi-alicloud-keypair-attachment/lifecycle") as Lifecycle).diff(id, olds, news);
    },
    async create(inputs: any) {
        return (require("pulumi-alicloud-keypair-attachment/lifecycle") as Lifecycle).create(inputs);
    },
    async read(id: string, props: any) {
        return (require("pulumi-alicloud-keypair-attachment/lifecycle") as Lifecycle).read(id, props);
    },
    async update(id: string, olds: any, news: any) {
        return (require("pulumi-alicloud-keypair-attachment/lifecycle") as Lifecycle).update(id, olds, news);
    },
    async delete(id: string, props: any) {
        return (require("pulumi-alicloud-keypair-attachment/lifecycle") as Lifecycle).delete(id, props);
    },
} satisfies pulumi.dynamic.ResourceProvider<KeyPairAttachmentInputs, KeyPairAttachmentOutputs>;
