// Which swarm node each participant runs on. Pure: no Pulumi, no I/O.
//
// A participant's home and workspace are Docker volumes, and a volume exists
// only on its node: a participant moved by a constraint change would start
// with an empty home (docs/swarm-placement.md). So placement is stable
// first and clever second. Whoever thon.placement.yaml (the lock) already
// places stays there; `host:` places someone new; everyone else new goes to
// the node with the most free memory. Adding a participant or a node
// therefore moves nobody, and moving someone is an explicit operation
// (`thon users move-node`), never a side effect of an edit.
//
// Hand-written rather than a bin-packing library: the rules are a few lines,
// and their order (lock, then host:, then free memory) is the point.

export interface PlacementNode {
  readonly name: string;
  /** The node's capacity for participants (target.nodes[].memory, MiB). */
  readonly memoryMiB: number;
}

export interface PlacementInput {
  /** In declaration order (target.nodes). */
  readonly nodes: readonly PlacementNode[];
  /** Every participant with their sandbox memory (MiB, running or not) and `host:`; any order. */
  readonly participants: readonly { readonly name: string; readonly memoryMiB: number; readonly host?: string }[];
  /** thon.placement.yaml: user -> node. May name people no longer listed; they are ignored here. */
  readonly lock: Readonly<Record<string, string>>;
}

export interface Placement {
  /** user -> node, for every participant. */
  readonly assignment: Readonly<Record<string, string>>;
  /** Participants not in the lock (placed now; the lock gains them on the next real update), sorted. */
  readonly added: readonly string[];
  /** Memory assigned per node (MiB), every node present. */
  readonly usedMiB: Readonly<Record<string, number>>;
}

/** A placement that cannot be made; `field` is the thon.yaml path to change. */
export class PlacementError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "PlacementError";
  }
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function usage(nodes: readonly PlacementNode[], used: ReadonlyMap<string, number>): string {
  return nodes.map((n) => `${n.name} ${used.get(n.name) ?? 0}/${n.memoryMiB} MiB`).join(", ");
}

/** Places every participant; throws PlacementError when the rules cannot be met. */
export function placeParticipants(input: PlacementInput): Placement {
  const nodes = new Map(input.nodes.map((n) => [n.name, n]));
  const used = new Map(input.nodes.map((n) => [n.name, 0]));
  const assignment = new Map<string, string>();
  // Name order, so the result never depends on the order of the list.
  const participants = [...input.participants].sort((a, b) => byName(a.name, b.name));
  const assign = (user: string, node: string, memoryMiB: number) => {
    assignment.set(user, node);
    used.set(node, used.get(node)! + memoryMiB);
  };

  // 1. Locked participants stay where their home is.
  const lost = new Map<string, string[]>();
  for (const p of participants) {
    const locked = input.lock[p.name];
    if (locked === undefined) continue;
    if (!nodes.has(locked)) {
      lost.set(locked, [...(lost.get(locked) ?? []), p.name]);
      continue;
    }
    if (p.host !== undefined && p.host !== locked) {
      throw new PlacementError(
        `${p.name}.host`,
        `${p.name}'s home and workspace are on ${locked} (thon.placement.yaml); host: ${p.host} would give them an empty home. ` +
          `Run \`thon users move-node ${p.name} --to ${p.host}\`, which carries them over, or set host back to ${locked}`,
      );
    }
    assign(p.name, locked, p.memoryMiB);
  }
  if (lost.size > 0) {
    const which = [...lost].sort(([a], [b]) => byName(a, b)).map(([node, users]) => `${node} (${users.join(", ")})`);
    throw new PlacementError(
      "target.nodes",
      `${which.join("; ")}: no longer in target.nodes, but thon.placement.yaml has these participants' homes and workspaces there. ` +
        `Put the node back, or move them first: \`thon users move-node <user> --to <node>\` (or drain the node), then remove it`,
    );
  }

  // 2. New participants with host: go there.
  const free: typeof participants = [];
  for (const p of participants) {
    if (assignment.has(p.name)) continue;
    if (p.host === undefined) {
      free.push(p);
      continue;
    }
    if (!nodes.has(p.host)) {
      throw new PlacementError(`${p.name}.host`, `"${p.host}" is not one of target.nodes (${[...nodes.keys()].join(", ")})`);
    }
    assign(p.name, p.host, p.memoryMiB);
  }

  // 3. The rest: the node with the most free memory that fits; ties by node name.
  const tieOrder = [...input.nodes].sort((a, b) => byName(a.name, b.name));
  for (const p of free) {
    let best: PlacementNode | undefined;
    let bestFree = -1;
    for (const n of tieOrder) {
      const left = n.memoryMiB - used.get(n.name)!;
      if (left >= p.memoryMiB && left > bestFree) {
        best = n;
        bestFree = left;
      }
    }
    if (best === undefined) {
      throw new PlacementError(
        "target.nodes",
        `no node has ${p.memoryMiB} MiB free for ${p.name} (used/capacity: ${usage(input.nodes, used)}). ` +
          "Add a node, give nodes more memory, or lower sandbox.memory",
      );
    }
    assign(p.name, best.name, p.memoryMiB);
  }

  // 4. Only locks and host: can overfill a node.
  input.nodes.forEach((n, index) => {
    const total = used.get(n.name)!;
    if (total > n.memoryMiB) {
      const here = participants.filter((p) => assignment.get(p.name) === n.name).map((p) => p.name);
      throw new PlacementError(
        `target.nodes[${index}].memory`,
        `${n.name} is assigned ${total} MiB (${here.join(", ")}) but has ${n.memoryMiB} MiB. ` +
          "Give it more memory, send new participants elsewhere (host:), or move some with `thon users move-node`",
      );
    }
  });

  const sorted = [...assignment].sort(([a], [b]) => byName(a, b));
  return {
    assignment: Object.fromEntries(sorted),
    added: participants.filter((p) => input.lock[p.name] === undefined).map((p) => p.name),
    usedMiB: Object.fromEntries(input.nodes.map((n) => [n.name, used.get(n.name)!])),
  };
}
