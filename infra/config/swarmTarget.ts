// The Swarm target as the console and doctor read it, and the one function
// that says how to reach a node's own Docker engine.
import type { Event } from "./event.ts";
import { LABELS } from "../resourceNames.ts";

/** thon.yaml's target when it is a swarm (infra/config/schema.ts). */
export type SwarmTargetShape = Extract<Event["target"], { kind: "swarm" }>;

/** The event's target when it is a swarm, else undefined. */
export function swarmTargetOf(event: Pick<Event, "target">): SwarmTargetShape | undefined {
  return event.target.kind === "swarm" ? event.target : undefined;
}

/** The label every swarm node carries with its node name. */
export const NODE_LABEL = LABELS.node;

/** The node a participant's service is pinned to, from its placement constraint (`node.labels.org.thon.node==<node>`). */
export function pinnedNode(constraints: readonly string[] | undefined): string | undefined {
  for (const c of constraints ?? []) {
    const m = /^node\.labels\.org\.thon\.node\s*==\s*(\S+)$/.exec(c.trim());
    if (m) return m[1];
  }
  return undefined;
}

/**
 * Where a node's own Docker engine answers: `ssh://<ssh.user>@<address>[:port]`
 * on a real event (the node's dockerd over SSH, as the provider reaches
 * hosts). THON_NODE_DOCKER_HOST_<NODE> (the node name upper-cased, - as _)
 * overrides it: the e2e suite maps each netns node to its unix socket that way.
 * The one place that decides it, for status samples, volume moves and doctor.
 */
export function nodeDockerHost(target: SwarmTargetShape, node: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[`THON_NODE_DOCKER_HOST_${node.toUpperCase().replace(/-/g, "_")}`];
  if (override) return override;
  const decl = target.nodes.find((n) => n.name === node);
  if (!decl) throw new Error(`${node} is not a node of target.nodes (${target.nodes.map((n) => n.name).join(", ")})`);
  const port = target.ssh.port && target.ssh.port !== 22 ? `:${target.ssh.port}` : "";
  return `ssh://${target.ssh.user}@${decl.address}${port}`;
}
