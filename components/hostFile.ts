import * as pulumi from "@pulumi/pulumi";
import { sha256 as sha256Hex } from "../infra/hash.ts";
import { removeFileScript, writeFileScript } from "../infra/render/shell.ts";
import type { ShellCommand, Target } from "../infra/target.ts";

export interface HostFileArgs {
  /** Where the command runs: the target, or one node's shell on a swarm (anything that declares shell commands). */
  readonly target: Pick<Target, "command">;
  /** Where the file lives on the host. */
  readonly path: string;
  /** Octal mode, e.g. "0644", or "0600" for a key. */
  readonly mode: string;
  /** User owning the file (name or uid); default root. */
  readonly owner?: string;
  /** Group owning the file (name or gid); default root. */
  readonly group?: string;
  /** The content; secret when it holds a key or password (the hash is then secret too). */
  readonly content: pulumi.Input<string>;
  /**
   * Where the command writes the content, when not `path` itself: the Proxy
   * writes beside the live file and its reload puts the file in place.
   */
  readonly writePath?: string;
  /** Mode of the folder when it has to be created. */
  readonly dirMode?: string;
  /** Shell run before the write, e.g. making the owner's folders. */
  readonly prepare?: string;
  /** The delete script; default: remove the file (and the written copy). */
  readonly delete?: string;
  /** Changing any of these replaces the command: the file is written anew and the old one's delete runs where it was (a participant's files moving between swarm nodes). */
  readonly triggers?: readonly string[];
}

/**
 * One file THON puts on the event host. Its inputs are what the file is:
 * path, mode, owner, group and the sha256 of its content, so the policy pack
 * checks those (policies/files.ts) instead of reading shell back. A
 * command:local/remote Command does the writing: content on stdin (never on
 * a command line), written atomically under umask 077 by writeFileScript.
 *
 * The command keeps the name it had before this component existed and an
 * alias to its old parent (this component's parent), so no stack replaces it.
 */
export class HostFile extends pulumi.ComponentResource {
  public readonly path: string;
  /** sha256 of the content, hex; secret when the content is. */
  public readonly sha256: pulumi.Output<string>;
  public readonly command: ShellCommand;

  constructor(name: string, args: HostFileArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Checked before anything is registered: a bad mode leaves nothing half-declared.
    if (!/^0[0-7]{3}$/.test(args.mode)) throw new Error(`${name}: file mode ${args.mode} of ${args.path} is not an octal mode such as 0644`);
    const owner = args.owner ?? "0";
    const group = args.group ?? "0";
    const sha256 = pulumi.output(args.content).apply(sha256Hex);
    super("thon:host:File", name, { path: args.path, mode: args.mode, owner, group, sha256 }, opts);
    const writePath = args.writePath ?? args.path;
    this.command = args.target.command(
      name,
      {
        create: (args.prepare ?? "") + writeFileScript(writePath, { mode: args.mode, owner: `${owner}:${group}`, ...(args.dirMode ? { dirMode: args.dirMode } : {}) }),
        stdin: args.content,
        delete: args.delete ?? removeFileScript(args.path) + (writePath === args.path ? "" : removeFileScript(writePath)),
        ...(args.triggers !== undefined ? { triggers: [...args.triggers] } : {}),
      },
      {
        parent: this,
        ...(opts.dependsOn ? { dependsOn: opts.dependsOn } : {}),
        // Declared by the parent itself before thon:host:File existed.
        ...(opts.parent ? { aliases: [{ parent: opts.parent }] } : {}),
      },
    );
    this.path = args.path;
    this.sha256 = sha256;
    this.registerOutputs({ path: args.path, mode: args.mode, owner, group, sha256 });
  }
}
