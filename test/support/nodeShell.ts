// Stand-in for a swarm node's shell (NodeShell, infra/target.ts): the real one
// runs command.remote over SSH on the node; this one declares
// command.local.Command with the same script conventions as the local
// target (sh -c, `set -eu` first), so test/support/commands.ts can run what
// a component declares on this machine, one folder tree per "node".
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { ShellCommandArgs } from "../../infra/target.ts";
import type { NodeShell } from "../../infra/target.ts";

const shell = (script: pulumi.Input<string>) => pulumi.output(script).apply((s) => `set -eu\n${s}`);

export function localNodeShell(node: string, address: string): NodeShell {
  return {
    node,
    address,
    command(name: string, args: ShellCommandArgs, opts?: pulumi.CustomResourceOptions) {
      return new command.local.Command(
        name,
        {
          create: shell(args.create),
          interpreter: ["/bin/sh", "-c"],
          ...(args.update !== undefined ? { update: shell(args.update) } : {}),
          ...(args.delete !== undefined ? { delete: shell(args.delete) } : {}),
          ...(args.stdin !== undefined ? { stdin: args.stdin } : {}),
          ...(args.triggers !== undefined ? { triggers: args.triggers } : {}),
          ...(args.environment !== undefined ? { environment: args.environment } : {}),
        },
        opts,
      );
    },
  };
}
