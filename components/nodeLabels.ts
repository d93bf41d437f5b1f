import * as pulumi from "@pulumi/pulumi";
import { nodeLabelsDeleteScript, nodeLabelsScript } from "../infra/render/swarm.ts";
import type { ShellCommand, Target } from "../infra/target.ts";

export interface NodeLabelsArgs {
  /** The swarm target: the command runs the docker CLI against its manager. */
  readonly target: Target;
  /** The Swarm node's name. */
  readonly node: string;
  /** Every label THON sets on it: the organizer's and org.thon.node (SwarmNodePlan.labels). */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * One swarm node's labels, set on the manager with `docker node update`
 * (infra/render/swarm.ts): org.thon.node=<node> pins the node's participants,
 * the organizer's labels (gpu, ...) mark what else runs there. A change of
 * labels updates in place; the delete removes what THON set.
 */
export class NodeLabels extends pulumi.ComponentResource {
  public readonly command: ShellCommand;

  constructor(name: string, args: NodeLabelsArgs, opts?: pulumi.ComponentResourceOptions) {
    const inputs = { node: args.node, labels: { ...args.labels } };
    super("thon:swarm:NodeLabels", name, inputs, opts);
    const script = nodeLabelsScript(args.node, args.labels);
    this.command = args.target.command(name, { create: script, update: script, delete: nodeLabelsDeleteScript(args.node) }, { parent: this });
    this.registerOutputs(inputs);
  }
}
