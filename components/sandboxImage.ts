import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { isAbsolute, relative } from "node:path";
import type { Event } from "../infra/config/event.ts";

export interface SandboxImageArgs {
  readonly image: Event["sandbox"]["image"];
  /** Build from this Dockerfile instead of pulling `image` (which becomes the tag). */
  readonly build?: Event["sandbox"]["build"];
  readonly provider: docker.Provider;
}

/**
 * A folder as the Docker provider should get it: relative to the folder it
 * runs in, which is the program's (infra/ under `pulumi up`). Not absolute,
 * so that the input, and with it the image and every container, stays the
 * same when the checkout moves to another folder or machine.
 */
export function providerPath(folder: string): string {
  return isAbsolute(folder) ? relative(process.cwd(), folder) || "." : folder;
}

/**
 * The one image every sandbox runs, pulled or built once per event. Changing
 * it replaces every sandbox container (their workspaces stay: they are
 * volumes), which is why it is an event-level setting, not a per-user one.
 */
export class SandboxImage extends pulumi.ComponentResource {
  /** The image ID containers are created from (changes when the content does). */
  public readonly imageId: pulumi.Output<string>;
  public readonly reference: string;

  constructor(name: string, args: SandboxImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("thon:sandbox:SandboxImage", name, {}, opts);
    const image = new docker.RemoteImage(
      name,
      {
        name: args.image,
        // Keep the image when the stack is destroyed: other events on the host may share it,
        // and pulling it again on event morning is the slowest part of a redeploy.
        keepLocally: true,
        ...(args.build ? { build: { context: providerPath(args.build.context), dockerfile: args.build.dockerfile } } : {}),
      },
      { parent: this, provider: args.provider },
    );
    this.imageId = image.imageId;
    this.reference = args.image;
    this.registerOutputs({ imageId: this.imageId });
  }
}
