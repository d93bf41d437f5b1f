// The wiring of `thon users move-node`, `thon nodes` and `thon nodes drain`
// for a real event: the swarm backend, the nodes' engines, the lock beside
// thon.yaml and an apply through the console's queue (so it waits behind, and
// is audited like, any other change). The logic is in nodeMove.ts.
import type { OpContext } from "./context.ts";
import { nodeEngines, sandboxBackend } from "./backend.ts";
import type { NodeFacts } from "./docker.ts";
import { OpError } from "./errors.ts";
import type { DrainResult, MoveDeps, MoveResult } from "./nodeMove.ts";
import { DockerNodeVolumes } from "./nodeVolumes.ts";
import { placementLockPath, readPlacementLock, updatePlacementLock } from "../../infra/config/placementLock.ts";
import { nodeDockerHost, swarmTargetOf } from "../../infra/config/swarmTarget.ts";

export async function moveDepsFor(ctx: OpContext, env: NodeJS.ProcessEnv, action: string, target: string): Promise<MoveDeps> {
  const event = ctx.project.event();
  const swarm = swarmTargetOf(event);
  if (!swarm) throw new OpError("conflict", `${action} needs a swarm target; this event runs on one host (target.kind: ${event.target.kind})`, "nothing to move: every participant is on this host", "target.kind");
  const backend = sandboxBackend(event, env).swarm!;
  const lockFile = placementLockPath(ctx.project.eventFile);
  const lock = readPlacementLock(lockFile);
  // The lock first; a participant it does not have yet is where their service is pinned.
  const assignment: Record<string, string> = {};
  for (const l of await backend.list(event.name)) {
    const node = (await backend.inspect(l.id))?.node;
    if (l.user && node) assignment[l.user] = node;
  }
  Object.assign(assignment, lock);
  return {
    event,
    target: swarm,
    participants: ctx.project.plan().participants,
    assignment,
    services: backend,
    volumes: new DockerNodeVolumes(nodeEngines(swarm, env), event.sandbox.image),
    writeLock: (changes) => updatePlacementLock(lockFile, changes),
    apply: async () => {
      const { done } = ctx.declarative.submit({ action, target }, { confirm: true, actor: ctx.principal.id, ifBusy: "wait" });
      const rec = await done;
      if (rec.error) throw new OpError("failed", `the volumes were carried and ${lockFile} updated, but the update failed: ${rec.error.message}`, "fix the cause, then `pulumi up` (or npx thon up): the services follow thon.placement.yaml");
    },
    removeHint: (node, volume) => `docker -H ${nodeDockerHost(swarm, node, env)} volume rm ${volume}`,
  };
}

export function formatMove(r: MoveResult): string {
  const vols = r.volumes.map((v) => `  ${v.volume}: ${v.files} files, ${v.bytes} bytes, verified on ${r.to}`).join("\n");
  return `moved ${r.user} from ${r.from} to ${r.to}\n${vols}\nthe copies on ${r.from} are kept; once ${r.user} works on ${r.to}, remove them:\n${r.leftBehind.map((c) => `  ${c}`).join("\n")}\n`;
}

export function formatDrain(r: DrainResult): string {
  const lines = [
    ...r.moved.map((m) => `ok    ${m.user}: ${m.from} -> ${m.to} (${m.volumes.map((v) => `${v.volume} ${v.files} files`).join(", ")})`),
    ...r.refused.map((x) => `FAIL  ${x.user}: ${x.message}`),
  ];
  const left = r.moved.flatMap((m) => m.leftBehind);
  return `${lines.join("\n")}${lines.length ? "\n" : ""}${r.node}: ${r.moved.length} moved, ${r.refused.length} not moved${left.length ? `\nthe copies on ${r.node} are kept; remove them once everyone works:\n${left.map((c) => `  ${c}`).join("\n")}` : ""}\n`;
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

/** `thon nodes`: one line per node. */
export function formatNodes(nodes: readonly NodeFacts[]): string {
  const rows = nodes.map((n) => [n.node, n.state, n.availability, `${n.running}/${n.participants}`, `${gib(n.memoryAssignedBytes)} / ${n.memoryBytes ? gib(n.memoryBytes) : "?"}`]);
  const header = ["NODE", "STATE", "AVAILABILITY", "RUNNING", "MEMORY (ASSIGNED / NODE)"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}
