import * as pulumi from "@pulumi/pulumi";
import { shellQuote as q } from "../infra/render/shell.ts";
import type { ShellCommand, Target } from "../infra/target.ts";

export interface HostDirectoryArgs {
  /** The host's shell, or on a swarm the node's (NodeShell). */
  readonly target: Pick<Target, "command">;
  readonly path: string;
  /** Octal mode, e.g. "0750", or "2770" for a setgid folder. */
  readonly mode: string;
  /** User owning the folder (name or uid). */
  readonly owner: string;
  /** Group owning the folder (name or gid). */
  readonly group: string;
  /** Keep the folder and its content when the resource goes (a participant's workspace). */
  readonly keep: boolean;
  /** Files removed with the folder (e.g. a socket left behind); the folder itself only goes when empty. */
  readonly removeFiles?: readonly string[];
}

/**
 * One folder THON makes on the event host, with typed inputs (path, mode,
 * owner, group, keep) for the policy pack, carried out by a command that
 * keeps its pre-component name and an alias to its old parent.
 */
export class HostDirectory extends pulumi.ComponentResource {
  public readonly path: string;
  public readonly command: ShellCommand;

  constructor(name: string, args: HostDirectoryArgs, opts: pulumi.ComponentResourceOptions = {}) {
    if (!/^[0-7]{3,4}$/.test(args.mode)) throw new Error(`${name}: folder mode ${args.mode} of ${args.path} is not an octal mode such as 0750`);
    const inputs = { path: args.path, mode: args.mode, owner: args.owner, group: args.group, keep: args.keep };
    super("thon:host:Directory", name, inputs, opts);
    const remove = [...(args.removeFiles ?? [])].map((f) => `rm -f -- ${q(f)}`);
    this.command = args.target.command(
      name,
      {
        create: `install -d -m ${args.mode} -o ${q(args.owner)} -g ${q(args.group)} -- ${q(args.path)}\n`,
        // A kept folder has no delete: like a volume, it stays when its participant leaves.
        ...(args.keep ? {} : { delete: [...remove, `rmdir -- ${q(args.path)} 2>/dev/null || true`, ""].join("\n") }),
      },
      { parent: this, ...(opts.parent ? { aliases: [{ parent: opts.parent }] } : {}) },
    );
    this.path = args.path;
    this.registerOutputs(inputs);
  }
}
