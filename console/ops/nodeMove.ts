// Moving participants between swarm nodes, carrying their home and
// workspace: `thon users move-node <user> --to <node>` and `thon nodes drain
// <node>`. A volume exists only on its node (scale-out-facts §5), so a move
// is: scale the service to 0 (nothing writes), copy each volume to the new
// node, verify the copy (file count and bytes), then record the new node in
// thon.placement.yaml and apply (the service's constraint follows the lock,
// and its replicas come back as thon.yaml declares). Anything short of a
// verified copy refuses and changes nothing: the service is scaled back, a
// partial copy on the destination is removed, the lock is untouched. The
// source volumes are never deleted: the organizer removes them once happy.
import type { Event } from "../../infra/config/event.ts";
import type { ParticipantPlan } from "../../infra/plan.ts";
import type { SwarmTargetShape } from "../../infra/config/swarmTarget.ts";
import { PlacementError, placeParticipants } from "../../infra/placement.ts";

export interface VolumeMeasure {
  readonly files: number;
  readonly bytes: number;
}

/** A node's volumes, by node name (the per-node engines; nodeVolumes.ts is the real one). */
export interface NodeVolumes {
  /** Whether the volume exists on the node. */
  exists(node: string, volume: string): Promise<boolean>;
  /** Regular files and their bytes in the volume. */
  measure(node: string, volume: string): Promise<VolumeMeasure>;
  /** Creates the volume on `to` (the source's driver, options and labels) and copies the source's files into it. */
  copy(from: string, to: string, volume: string): Promise<void>;
  /** Removes a volume (only ever a partial copy on the destination of a failed move). */
  remove(node: string, volume: string): Promise<void>;
}

/** What a move needs of the participants' services. */
export interface MoveServices {
  /** The service's replica count; undefined when there is no such service. */
  replicas(service: string): Promise<number | undefined>;
  scale(service: string, replicas: number): Promise<void>;
  /** Resolves once no task of the service runs (its volumes are no longer written), or rejects after the timeout. */
  waitStopped(service: string, timeoutMs: number): Promise<void>;
}

export interface MoveDeps {
  readonly event: Event;
  readonly target: SwarmTargetShape;
  readonly participants: readonly ParticipantPlan[];
  /** user → node now (the lock, completed with each service's pinned node). */
  readonly assignment: Readonly<Record<string, string>>;
  readonly services: MoveServices;
  readonly volumes: NodeVolumes;
  /** Records the users' new nodes in thon.placement.yaml. */
  writeLock(changes: Readonly<Record<string, string>>): void;
  /** `pulumi up` of the event (the constraints follow the lock). */
  apply(): Promise<void>;
  /** How to remove a volume left on a node, for the message (the node's docker endpoint). */
  removeHint(node: string, volume: string): string;
  readonly stopTimeoutMs?: number;
}

export interface CarriedVolume extends VolumeMeasure {
  readonly volume: string;
}

export interface MoveResult {
  readonly user: string;
  readonly from: string;
  readonly to: string;
  readonly volumes: readonly CarriedVolume[];
  /** The organizer's command to remove each source volume once the move is confirmed. */
  readonly leftBehind: readonly string[];
}

/** A move that did not happen; nothing was changed. `field` names what to fix. */
export class MoveRefused extends Error {
  constructor(
    readonly user: string,
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "MoveRefused";
  }
}

const memoryOf = (deps: MoveDeps) => deps.event.sandbox.memory;

/** MiB assigned per node, every node present. */
export function usedPerNode(deps: Pick<MoveDeps, "target" | "assignment" | "event">, except?: string): Map<string, number> {
  const used = new Map(deps.target.nodes.map((n) => [n.name, 0]));
  for (const [user, node] of Object.entries(deps.assignment)) {
    if (user !== except && used.has(node)) used.set(node, used.get(node)! + deps.event.sandbox.memory);
  }
  return used;
}

/** The participant's volumes to carry (home and workspace volumes); a bind-mounted workspace cannot be carried. */
function volumesOf(p: ParticipantPlan): string[] {
  if (p.workspace.kind === "bind") throw new MoveRefused(p.name, "workspace.mode", `${p.name}'s workspace is a folder on the node (workspace.mode bind); THON carries volumes only. Copy the folder yourself, or use workspace.mode volume`);
  return [...new Set([p.home.kind === "volume" ? p.home.volumeName : undefined, p.workspace.kind === "volume" ? p.workspace.volumeName : undefined].filter((v): v is string => v !== undefined))];
}

/**
 * Checks a move without touching anything: the user, the node, the
 * capacity. Returns the source node and the volumes.
 */
export function planMove(deps: Pick<MoveDeps, "target" | "assignment" | "event" | "participants">, user: string, to: string): { from: string; volumes: string[]; participant: ParticipantPlan } {
  const p = deps.participants.find((x) => x.name === user);
  if (!p) throw new MoveRefused(user, "user", `there is no participant ${user} in thon.yaml`);
  const node = deps.target.nodes.find((n) => n.name === to);
  if (!node) throw new MoveRefused(user, "to", `${to} is not a node of target.nodes (${deps.target.nodes.map((n) => n.name).join(", ")})`);
  const from = deps.assignment[user];
  if (from === undefined) throw new MoveRefused(user, "user", `${user} has no node yet (not in thon.placement.yaml, no service): apply thon.yaml first, or set host: ${to} on them`);
  if (from === to) throw new MoveRefused(user, "to", `${user} is on ${to} already`);
  const used = usedPerNode(deps as MoveDeps, user).get(to) ?? 0;
  const need = deps.event.sandbox.memory;
  if (used + need > node.memory) {
    throw new MoveRefused(user, "to", `${to} lacks room: ${used} of ${node.memory} MiB assigned, ${user} needs ${need} MiB more. Move someone off ${to} first, or raise target.nodes[${deps.target.nodes.indexOf(node)}].memory if the node has more`);
  }
  return { from, volumes: volumesOf(p), participant: p };
}

/** Scale to 0, copy and verify each volume; on any failure undo (scale back, drop partial copies) and refuse. */
async function carry(deps: MoveDeps, user: string, from: string, to: string, volumes: readonly string[], service: string): Promise<CarriedVolume[]> {
  // Refuse before stopping anything: a volume of that name already on the destination (an earlier move's) would be merged into.
  const exists = (node: string, v: string) =>
    deps.volumes.exists(node, v).catch((err: Error) => {
      throw new MoveRefused(user, node === to ? "to" : "user", `cannot ask ${node}'s Docker engine about ${v} (${err.message}); nothing moved`);
    });
  for (const v of volumes) {
    if (!(await exists(from, v))) throw new MoveRefused(user, "user", `${v} is not on ${from}, where thon.placement.yaml says ${user}'s home is; nothing moved`);
    if (await exists(to, v)) throw new MoveRefused(user, "to", `${to} already holds a volume ${v} (left by an earlier move?); nothing moved. Remove it first if it is stale: ${deps.removeHint(to, v)}`);
  }
  const replicas = await deps.services.replicas(service);
  if (replicas === undefined) throw new MoveRefused(user, "user", `${user} has no service ${service}; apply thon.yaml first`);
  const copied: string[] = [];
  const undo = async () => {
    for (const v of copied) await deps.volumes.remove(to, v).catch(() => undefined);
    if (replicas > 0) await deps.services.scale(service, replicas).catch(() => undefined);
  };
  try {
    if (replicas > 0) await deps.services.scale(service, 0);
    await deps.services.waitStopped(service, deps.stopTimeoutMs ?? 60_000);
    const carried: CarriedVolume[] = [];
    for (const v of volumes) {
      const source = await deps.volumes.measure(from, v);
      copied.push(v);
      await deps.volumes.copy(from, to, v);
      const copy = await deps.volumes.measure(to, v);
      if (copy.files !== source.files || copy.bytes !== source.bytes) {
        throw new Error(`the copy of ${v} on ${to} has ${copy.files} files, ${copy.bytes} bytes; ${from} has ${source.files} files, ${source.bytes} bytes`);
      }
      carried.push({ volume: v, ...source });
    }
    return carried;
  } catch (err) {
    await undo();
    if (err instanceof MoveRefused) throw err;
    throw new MoveRefused(user, "to", `copying ${user}'s volumes from ${from} to ${to} failed (${(err as Error).message}); nothing moved, ${user} runs on ${from} as before`);
  }
}

/** Moves one participant to `to`; `apply: false` leaves the apply to the caller (drain applies once). */
export async function moveParticipant(deps: MoveDeps, user: string, to: string, opts: { apply?: boolean } = {}): Promise<MoveResult> {
  const { from, volumes, participant } = planMove(deps, user, to);
  const volumesCarried = await carry(deps, user, from, to, volumes, participant.containerName);
  deps.writeLock({ [user]: to });
  if (opts.apply !== false) await deps.apply();
  return { user, from, to, volumes: volumesCarried, leftBehind: volumes.map((v) => deps.removeHint(from, v)) };
}

export interface DrainResult {
  readonly node: string;
  readonly moved: readonly MoveResult[];
  readonly refused: readonly { user: string; message: string }[];
}

/**
 * Moves every participant off `node`, each to the other node with the most
 * free memory that fits (ties by node name; participants in name order:
 * the planner's placement rule, infra/placement.ts), carrying their volumes;
 * one apply at the end for those that moved. Those that cannot move stay,
 * reported with why.
 */
export async function drainNode(deps: MoveDeps, node: string): Promise<DrainResult> {
  if (!deps.target.nodes.some((n) => n.name === node)) throw new MoveRefused("", "node", `${node} is not a node of target.nodes (${deps.target.nodes.map((n) => n.name).join(", ")})`);
  const users = Object.entries(deps.assignment).filter(([, n]) => n === node).map(([u]) => u).sort();
  const assignment: Record<string, string> = { ...deps.assignment };
  const moved: MoveResult[] = [];
  const refused: { user: string; message: string }[] = [];
  for (const user of users) {
    const state = { ...deps, assignment };
    let to: string;
    try {
      to = nodeForDrained(state, node, user);
    } catch (err) {
      if (!(err instanceof PlacementError)) throw err;
      refused.push({ user, message: err.message });
      continue;
    }
    try {
      moved.push(await moveParticipant(state, user, to, { apply: false }));
      assignment[user] = to;
    } catch (err) {
      refused.push({ user, message: (err as Error).message });
    }
  }
  if (moved.length > 0) await deps.apply();
  return { node, moved, refused };
}

/**
 * Where the planner would put `user` if `node` were gone: everyone else stays
 * where they are (the lock), and `user` gets the node with the most free
 * memory that fits (placeParticipants' rule for a newcomer).
 */
function nodeForDrained(deps: Pick<MoveDeps, "target" | "assignment" | "event">, node: string, user: string): string {
  const memoryMiB = deps.event.sandbox.memory;
  const lock = Object.fromEntries(Object.entries(deps.assignment).filter(([u, n]) => u !== user && n !== node));
  const placement = placeParticipants({
    nodes: deps.target.nodes.filter((n) => n.name !== node).map((n) => ({ name: n.name, memoryMiB: n.memory })),
    participants: [...Object.keys(lock), user].map((name) => ({ name, memoryMiB })),
    lock,
  });
  return placement.assignment[user]!;
}
