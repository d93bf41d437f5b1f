// LEAD: shapes from /work/wt/SWARM.md that other branches define
// (NodeShell in infra/target.ts, SwarmPlan/SwarmNodePlan in infra/plan.ts).
// Declared here, in exactly those shapes (cut to the fields routing reads),
// only so this branch compiles alone: at merge, import them from there and
// delete this file.
import type * as pulumi from "@pulumi/pulumi";
import type { ShellCommand, ShellCommandArgs } from "../infra/target.ts";

export interface NodeShell {
  readonly node: string;
  readonly address: string;
  /** A shell command run on this node (command.remote over target.ssh). */
  command(name: string, args: ShellCommandArgs, opts?: pulumi.CustomResourceOptions): ShellCommand;
}

export interface SwarmNodePlan {
  readonly name: string;
  readonly address: string;
  readonly participants: readonly string[];
  readonly proxyResourceName: string;
}

export interface SwarmPlan {
  readonly entry: string;
  readonly nodePort: number;
  readonly nodes: readonly SwarmNodePlan[];
  readonly edgeResourceName: string;
}
