// Declares the swarm's routing as the program will (the lead wires it in
// infra/program.ts): the event's Tls, one NodeProxy per node and the
// EdgeProxy on the entry, each node's commands through a NodeShell stand-in
// (./nodeShell.ts). The swarm plan is built here from a plain user → node
// map, in SWARM.md's shape.
import { Tls } from "../../components/tls.ts";
import { NodeProxy } from "../../components/nodeProxy.ts";
import { EdgeProxy } from "../../components/edgeProxy.ts";
import type { SwarmPlan } from "../../infra/plan.ts";
import type { Event } from "../../infra/config/event.ts";
import { planEvent } from "../../infra/plan.ts";
import type { Target } from "../../infra/target.ts";
import { evaluate, type Evaluation } from "../../infra/preview/evaluate.ts";
import { localNodeShell } from "./nodeShell.ts";
import { tlsStandIn } from "./tlsStandIn.ts";

export interface RoutingSetup {
  readonly event: Event;
  readonly nodes: readonly { readonly name: string; readonly address: string }[];
  readonly entry: string;
  readonly nodePort: number;
  /** user → node. */
  readonly placement: Readonly<Record<string, string>>;
  /** The event as one node sees it; the two-hop test gives each node its own folders and nginx. Default: `event`. */
  readonly eventFor?: (node: string) => Event;
}

export function swarmPlanOf(s: RoutingSetup): SwarmPlan {
  return {
    entry: s.entry,
    nodePort: s.nodePort,
    nodes: s.nodes.map((n) => ({
      ...n,
      participants: Object.keys(s.placement).filter((u) => s.placement[u] === n.name).sort(),
      proxyResourceName: `thon-proxy-${n.name}`,
      // Routing reads none of these; they complete the planner's shape.
      memoryMiB: 0,
      usedMiB: 0,
      labels: { "org.thon.node": n.name },
      labelsResourceName: `thon-node-labels-${n.name}`,
    })),
    edgeResourceName: "thon-proxy-edge",
    network: `thon-net-${s.event.name}`,
    added: [],
    lock: { ...s.placement },
  };
}

export function defineRouting(s: RoutingSetup): void {
  const { event } = s;
  const plan = planEvent(event);
  const swarm = swarmPlanOf(s);
  const shells = new Map(s.nodes.map((n) => [n.name, localNodeShell(n.name, n.address)]));
  // Tls only declares a command (mode provided's check) through its target.
  const tls = new Tls("thon-tls", { eventName: event.name, host: event.host, altNames: event.altNames, tls: event.tls, target: shells.get(s.entry)! as unknown as Target });
  const nodes = new Map(
    swarm.nodes.map((n) => [
      n.name,
      new NodeProxy(n.proxyResourceName, {
        event: s.eventFor?.(n.name) ?? event,
        swarm,
        node: n,
        participants: s.eventFor ? planEvent(s.eventFor(n.name)).participants : plan.participants,
        tls,
        shell: shells.get(n.name)!,
      }),
    ]),
  );
  new EdgeProxy(swarm.edgeResourceName, { event, swarm, participants: plan.participants, tls, shell: shells.get(s.entry)!, after: [nodes.get(s.entry)!.reload] });
}

/** The routing under Pulumi's mocks, with real certificates. */
export function evaluateRouting(s: RoutingSetup): Promise<Evaluation> {
  return evaluate(() => defineRouting(s), { outputs: tlsStandIn });
}
