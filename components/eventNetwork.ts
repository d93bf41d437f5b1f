import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { EventSandbox } from "../infra/config/event.ts";
import type { NetworkPlan } from "../infra/plan.ts";
import { egressApplyScript, egressRemoveScript } from "../infra/render/egress.ts";
import type { Target } from "../infra/target.ts";

export interface EventNetworkArgs {
  readonly eventName: string;
  readonly plan: NetworkPlan;
  readonly egress: EventSandbox["egress"];
  readonly target: Target;
}

/**
 * The event's own Docker network and the host firewall around it.
 *
 * - Inter-container traffic is off (enable_icc=false): a participant's dev
 *   server on 0.0.0.0:5000 is not open to the other sandboxes.
 * - The rules (infra/render/egress.ts) are a host command whose delete
 *   removes exactly what its create added, so `pulumi destroy` leaves the
 *   host's iptables as they were. The script is idempotent and rerun when
 *   the egress policy or the gateway's port changes; no container restarts.
 * - The bridge has a fixed short name (thon-<hash of the event>) so the
 *   rules can name it before Docker creates it.
 */
export class EventNetwork extends pulumi.ComponentResource {
  /** The Docker network name sandboxes join (networkMode). */
  public readonly networkName: pulumi.Output<string>;
  public readonly bridge: string;

  constructor(name: string, args: EventNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("thon:sandbox:EventNetwork", name, {}, opts);
    const { plan, target } = args;
    const network = new docker.Network(
      plan.name,
      {
        name: plan.name,
        driver: "bridge",
        options: {
          "com.docker.network.bridge.enable_icc": "false",
          "com.docker.network.bridge.name": plan.bridge,
        },
        labels: [
          { label: "org.thon.event", value: args.eventName },
          { label: "org.thon.managed-by", value: "pulumi" },
          { label: "org.thon.purpose", value: "event-network" },
        ],
      },
      { parent: this, provider: target.docker },
    );
    const spec = { network: plan, egress: args.egress };
    target.command(
      plan.rulesName,
      { create: egressApplyScript(spec), delete: egressRemoveScript(spec) },
      // Rules first go when the network goes; they name the bridge, not its id.
      { parent: this, dependsOn: [network], deleteBeforeReplace: true },
    );
    this.networkName = network.name;
    this.bridge = plan.bridge;
    this.registerOutputs({ networkName: this.networkName });
  }
}
