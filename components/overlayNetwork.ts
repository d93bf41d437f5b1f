import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { LABELS } from "../infra/resourceNames.ts";
import type { Target } from "../infra/target.ts";

export interface OverlayNetworkArgs {
  readonly eventName: string;
  /** Docker name and Pulumi name: thon-net-<event> (SwarmPlan.network). */
  readonly name: string;
  readonly target: Target;
}

/**
 * The event's overlay network on a swarm: every participant's service joins
 * it; attachable, so plain containers (the gateway, a node's tools) can join
 * too. Unlike the single host's bridge, an overlay has no
 * enable_icc=false: sandboxes on it can reach each other (docs/swarm-sandboxes.md).
 */
export class OverlayNetwork extends pulumi.ComponentResource {
  public readonly networkId: pulumi.Output<string>;
  public readonly networkName: string;

  constructor(name: string, args: OverlayNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("thon:swarm:OverlayNetwork", name, {}, opts);
    const network = new docker.Network(
      args.name,
      {
        name: args.name,
        driver: "overlay",
        attachable: true,
        labels: [
          { label: LABELS.event, value: args.eventName },
          { label: LABELS.managedBy, value: "pulumi" },
          { label: LABELS.purpose, value: "event-network" },
        ],
      },
      { parent: this, provider: args.target.docker },
    );
    this.networkId = network.id;
    this.networkName = args.name;
    this.registerOutputs({ networkId: this.networkId });
  }
}
