import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { isAbsolute, relative } from "node:path";
import type { Event } from "../infra/config/event.ts";
import { shellQuote as shq } from "../infra/render/shell.ts";
import type { Target } from "../infra/target.ts";

export interface SandboxImageArgs {
  readonly image: Event["sandbox"]["image"];
  /** Build from this Dockerfile instead of pulling `image` (which becomes the tag). */
  readonly build?: Event["sandbox"]["build"];
  readonly provider: docker.Provider;
  /** More Debian packages (sandbox.packages), installed in an image built on top, on the target. */
  readonly packages?: readonly string[];
  /** Needed with packages: the host that runs `docker build`. */
  readonly target?: Target;
}

/**
 * The script that builds `FROM <image id>` plus Debian packages, tagged by
 * content, and prints the new image's ID (the command's stdout). The
 * Dockerfile comes on stdin (`docker build -`), so there is no context folder.
 */
export function packagesBuildScript(packages: readonly string[]): string {
  const list = [...new Set(packages)].sort().join(" ");
  return [
    `tag="thon-sandbox-packages:$(printf '%s %s' "$THON_BASE_IMAGE" ${shq(list)} | sha256sum | cut -c1-12)"`,
    `if ! docker image inspect "$tag" >/dev/null 2>&1; then`,
    `  printf '%s\n' "FROM $THON_BASE_IMAGE" 'USER 0:0' ${shq(`RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${list} && rm -rf /var/lib/apt/lists/*`)} 'USER 1000:1000' \\`,
    `    | docker build -q -t "$tag" - >/dev/null`,
    "fi",
    `docker image inspect -f '{{.Id}}' "$tag"`,
    "",
  ].join("\n");
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
    const packages = args.packages ?? [];
    if (packages.length > 0) {
      if (!args.target) throw new pulumi.ResourceError("sandbox.packages needs a target to build on", this);
      const build = args.target.command(
        `${name}-packages`,
        {
          create: packagesBuildScript(packages),
          environment: { THON_BASE_IMAGE: image.imageId },
          triggers: [image.imageId, [...packages].sort().join(" ")],
        },
        { parent: this },
      );
      this.imageId = build.stdout;
    } else {
      this.imageId = image.imageId;
    }
    this.reference = args.image;
    this.registerOutputs({ imageId: this.imageId });
  }
}
