// `thon plan`: the real program (infra/index.ts) evaluated offline under
// Pulumi's mocks, listing every resource it would declare. A fast preview
// for machines without the Pulumi engine, and what the blast-radius tests
// and benchmarks compare.
import { evaluate, type Evaluation } from "../preview/evaluate.ts";
import { diffEvaluations, type EvaluationDiff } from "../preview/diff.ts";
import type { ProviderOutputs } from "../preview/providerOutputs.ts";
import { homeVolumeName, workspaceVolumeName } from "../resourceNames.ts";
import type { EventPlan } from "../plan.ts";
import { formatMiB } from "../config/units.ts";

let runs = 0;

/**
 * Runs infra/index.ts for `file` as stack `stack`, the way `pulumi preview`
 * would. `outputs` replaces the preview's computed outputs for some types
 * (tests that serve real certificates pass test/support/tlsStandIn.ts).
 * The run never writes thon.placement.yaml unless `writePlacementLock` (a
 * harness that applies the evaluation for real, as `pulumi up` would).
 */
export async function evaluateEventFile(file: string, stack = "dev", outputs?: ProviderOutputs, writePlacementLock = false): Promise<Evaluation> {
  // What infra/index.ts imports, loaded before the run: evaluate() turns stack
  // traces off, and under `node --import tsx` an ES module importing a
  // CommonJS package (@pulumi/docker, ...) for the first time needs them
  // (infra/stackTraces.ts). Cached: only the first run pays.
  await Promise.all([import("@pulumi/pulumi"), import("../config/load.ts"), import("../program.ts"), import("../stackTraces.ts")]);
  // A fresh module URL per run: ESM caches modules, and the program must run again.
  const url = new URL("../index.ts", import.meta.url);
  url.search = `?run=${++runs}`;
  const config = { "thon:file": file, ...(writePlacementLock ? {} : { "thon:writePlacementLock": "false" }) };
  return evaluate(() => import(url.href), { stack, config, ...(outputs ? { outputs } : {}) });
}

export interface PlanEntry {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly parent: string | null;
  readonly inputsHash: string;
  readonly secretInputs: readonly string[];
  readonly retainOnDelete: boolean;
  readonly protect: boolean;
  /** target.kind swarm: the node the resource belongs to (a participant's, a node's own, the edge's); absent otherwise. */
  readonly node?: string;
}

/**
 * target.kind swarm: the node of each resource, by URN. A participant's
 * resources (their names from participantResourceNames, and the per-file
 * secrets and configs under its configFiles prefix) are on their node; a
 * node's labels and nginx on that node; the edge on the entry; any other
 * resource on its parent's node. Shared resources have none.
 */
export function resourceNodes(e: Evaluation, plan: EventPlan): Map<string, string> {
  const byName = new Map<string, string>();
  const prefixes: [string, string][] = [];
  const swarm = plan.swarm;
  if (swarm === undefined) return new Map();
  for (const p of plan.participants) {
    if (p.node === undefined) continue;
    for (const name of Object.values(p.resourceNames)) byName.set(name, p.node);
    prefixes.push([`${p.resourceNames.configFiles}-`, p.node]);
  }
  for (const n of swarm.nodes) {
    byName.set(n.labelsResourceName, n.name);
    byName.set(n.proxyResourceName, n.name);
  }
  byName.set(swarm.edgeResourceName, swarm.entry);
  const nodes = new Map<string, string>();
  // Parents register before their children, so one pass sees each parent first.
  for (const r of e.resources) {
    const node = byName.get(r.name) ?? prefixes.find(([prefix]) => r.name.startsWith(prefix))?.[1] ?? (r.parent ? nodes.get(r.parent) : undefined);
    if (node !== undefined) nodes.set(r.urn, node);
  }
  return nodes;
}

/** The JSON rows of `thon plan --json`; with a swarm plan, each resource's node. */
export function planEntries(e: Evaluation, plan?: EventPlan): PlanEntry[] {
  const nodes = plan ? resourceNodes(e, plan) : new Map<string, string>();
  return e.resources.map((r) => {
    const node = nodes.get(r.urn);
    return {
      type: r.type,
      name: r.name,
      urn: r.urn,
      parent: r.parent ?? null,
      inputsHash: r.inputsHash,
      secretInputs: r.secretInputs,
      retainOnDelete: r.options.retainOnDelete,
      protect: r.options.protect,
      ...(node !== undefined ? { node } : {}),
    };
  });
}

/** target.kind swarm: one line per node (participants, memory used of its capacity), then who is placed now. */
export function formatNodes(plan: EventPlan): string[] {
  const swarm = plan.swarm;
  if (swarm === undefined) return [];
  const rows = swarm.nodes.map((n) => [
    n.name + (n.name === swarm.entry ? " (entry)" : ""),
    `${n.participants.length} participant${n.participants.length === 1 ? "" : "s"}`,
    `${n.usedMiB}/${n.memoryMiB} MiB used (${formatMiB(n.memoryMiB - n.usedMiB)} free)`,
  ]);
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => `  ${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padStart(widths[1]!)}  ${r[2]}`);
  const added = swarm.added.length === 0 ? [] : [`placed now (thon.placement.yaml gains them on the next pulumi up): ${swarm.added.join(", ")}`];
  return [`${swarm.nodes.length} swarm node${swarm.nodes.length === 1 ? "" : "s"}:`, ...lines, ...added, ""];
}

const parentName = (urn: string | undefined) => (urn ? urn.split("::").pop()! : "-");

export function formatPlan(e: Evaluation, plan?: EventPlan): string {
  const rows = e.resources.map((r) => [r.type, r.name, parentName(r.parent), r.inputsHash, r.options.retainOnDelete ? "retain" : ""]);
  const header = ["TYPE", "NAME", "PARENT", "INPUTS", ""];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const byType = new Map<string, number>();
  for (const r of e.resources) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
  const summary = [...byType].sort().map(([t, n]) => `  ${String(n).padStart(5)}  ${t}`);
  return [line(header), ...rows.map(line), "", `${e.resources.length} resources:`, ...summary, "", ...(plan ? formatNodes(plan) : [])].join("\n");
}

const VOLUME = "docker:index/volume:Volume";

/**
 * One line per change, then the counts. A retained delete (retainOnDelete:
 * the workspace volumes) is marked `delete[retain]` as Pulumi's display marks
 * it, and the summary says what stays, so nobody reads a removal as data loss.
 */
export function formatDiff(d: EvaluationDiff): string {
  const lines = d.changes.map((c) => {
    const inputs = c.inputs.length ? `  [${c.inputs.join(", ")}]` : "";
    const retain = c.retain ? `  ${c.kind}[retain]` : "";
    return `${{ create: "+", delete: "-", update: "~", replace: "+-" }[c.kind].padEnd(2)} ${c.type}  ${c.name}${inputs}${retain}`;
  });
  const { create, update, replace, delete: del } = d.counts;
  // Pulumi counts a retained delete as a delete; the summary says what stays.
  const retained = d.changes.filter((c) => c.retain);
  const volumes = (prefix: string) => retained.filter((c) => c.type === VOLUME && c.name.startsWith(prefix)).map((c) => c.name);
  const workspaces = volumes(workspaceVolumeName(""));
  const homes = volumes(homeVolumeName(""));
  const others = retained.filter((c) => !workspaces.includes(c.name) && !homes.includes(c.name)).map((c) => c.name);
  const counted = (names: string[], one: string, many: string) => (names.length > 0 ? [`${names.length === 1 ? one : `${names.length} ${many}`} kept: ${names.join(", ")}`] : []);
  const kept = [...counted(workspaces, "workspace", "workspaces"), ...counted(homes, "home", "homes"), ...(others.length > 0 ? [`retained: ${others.join(", ")}`] : [])];
  const summary = [`${create} to create, ${update} to update, ${replace} to replace, ${del} to delete`, ...kept].join("; ");
  return [...lines, "", summary, ""].join("\n");
}

export { diffEvaluations };
