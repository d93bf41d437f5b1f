// Swarm placement at scale: 1,000 participants over 10 nodes (issue 18).
// Times the planner (thon.yaml -> Event -> placement + plan, what `thon plan`
// adds for a swarm) and measures the blast radius on the plan when one
// participant, then one node, is added after a real update has written the
// lock: how many nodes change and how many existing participants move or
// see any part of their plan change. Then the same on the program's
// resources (`thon plan`'s mock evaluation and diffEvaluations), when this
// build's program declares a swarm.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseThonFile } from "../infra/config/load.ts";
import { toEvent, type Event } from "../infra/config/event.ts";
import { placeParticipants } from "../infra/placement.ts";
import { planEvent, type EventPlan } from "../infra/plan.ts";
import { defineEvent } from "../infra/program.ts";
import { evaluate, type Evaluation } from "../infra/preview/evaluate.ts";
import { diffEvaluations } from "../infra/preview/diff.ts";
import { sandboxFor } from "../infra/config/event.ts";
import * as edit from "../infra/cli/edit.ts";
import { bigGroups, eventYaml } from "../test/support/events.ts";
import { fmt, median, table } from "./lib/stats.ts";
import { isMain, type BenchOptions, type Section } from "./lib/section.ts";

const log = (text: string) => process.stdout.write(`[swarm-plan] ${text}\n`);

const NODES = 10;
const PARTICIPANTS = 1000;
/** Room for 100 sandboxes of 2 GiB each (sandbox.memory's default) per node, and some to spare. */
const NODE_MEMORY = "256GiB";

/** The program reads the node SSH key when it declares the target; the mocks never connect, so any file does. */
const KEY_FILE = join(mkdtempSync(join(tmpdir(), "thon-bench-swarm-")), "id_ed25519");
writeFileSync(KEY_FILE, "not a key: the bench's mocks never dial SSH\n", { mode: 0o600 });

function swarmYaml(nodes: number): string {
  const list = Array.from({ length: nodes }, (_, i) => `    - { name: n${String(i + 1).padStart(2, "0")}, address: 192.0.2.${i + 10}, memory: ${NODE_MEMORY} }`).join("\n");
  return `target:\n  kind: swarm\n  ssh: { privateKeyFile: ${KEY_FILE} }\n  nodes:\n${list}\n`;
}

const load = (text: string, lock: Record<string, string> = {}): Event => toEvent(parseThonFile(text), {}, lock);

function timed<T>(runs: number, f: () => T): { value: T; ms: number } {
  const times: number[] = [];
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    value = f();
    times.push(performance.now() - t0);
  }
  return { value, ms: median(times) };
}

interface PlanBlast {
  readonly action: string;
  readonly nodesTouched: readonly string[];
  readonly moved: number;
  /** Existing participants with any difference in their ParticipantPlan. */
  readonly plansChanged: number;
  readonly ms: number;
}

function planBlast(action: string, before: EventPlan, after: EventPlan, ms: number): PlanBlast {
  const now = new Map(after.participants.map((p) => [p.name, p]));
  let moved = 0;
  let plansChanged = 0;
  for (const p of before.participants) {
    const q = now.get(p.name);
    if (q?.node !== p.node) moved++;
    if (JSON.stringify(q) !== JSON.stringify(p)) plansChanged++;
  }
  const old = new Map(before.swarm!.nodes.map((n) => [n.name, JSON.stringify(n)]));
  const nodesTouched = after.swarm!.nodes.filter((n) => old.get(n.name) !== JSON.stringify(n)).map((n) => n.name);
  return { action, nodesTouched, moved, plansChanged, ms };
}

/** The participant or node a resource belongs to, by its name or its parent's. */
function owners(e: Evaluation, plan: EventPlan): Map<string, string> {
  const byName = new Map<string, string>();
  const files: [string, string][] = [];
  for (const p of plan.participants) {
    for (const n of Object.values(p.resourceNames)) byName.set(n, `participant ${p.name}`);
    files.push([`${p.resourceNames.configFiles}-`, `participant ${p.name}`]);
  }
  for (const n of plan.swarm?.nodes ?? []) {
    byName.set(n.labelsResourceName, `node ${n.name}`);
    byName.set(n.proxyResourceName, `node ${n.name}`);
  }
  const out = new Map<string, string>();
  for (const r of e.resources) {
    const owner =
      byName.get(r.name) ??
      (r.parent ? out.get(r.parent) : undefined) ??
      (r.name.startsWith("thon-files-") ? files.find(([prefix]) => r.name.startsWith(prefix))?.[1] : undefined);
    if (owner !== undefined) out.set(r.urn, owner);
  }
  return out;
}

async function programBlast(base: Event, edits: { action: string; event: Event; subject: string }[]): Promise<string[]> {
  let before: Evaluation;
  const t0 = performance.now();
  try {
    before = await evaluate(() => defineEvent(base));
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    log(`program not measured: ${reason}`);
    return [`The program's resources were not measured: evaluating it failed (${reason}).`];
  }
  const baseMs = performance.now() - t0;
  const lines = [`Evaluation of the base event's program (\`thon plan\`): ${fmt(baseMs / 1000)} s, ${before.resources.length} resources.`];
  const plan = planEvent(base);
  const owned = owners(before, plan);
  for (const { action, event, subject } of edits) {
    const after = await evaluate(() => defineEvent(event));
    const diff = diffEvaluations(before, after);
    const others = new Set(diff.changes.map((c) => owned.get(c.urn)).filter((o): o is string => o !== undefined && o !== subject));
    const { create, update, replace, delete: del } = diff.counts;
    log(`program, ${action}: +${create} ~${update} +-${replace} -${del}; others touched ${others.size}`);
    lines.push(`- ${action}: +${create} ~${update} +-${replace} -${del}; other participants or nodes with a changed resource: ${others.size}${others.size ? ` (${[...others].slice(0, 5).join(", ")})` : ""}.`);
  }
  return lines;
}

export async function benchSwarmPlan(options: BenchOptions): Promise<Section> {
  const runs = options.quick ? 3 : 9;
  const groups = bigGroups(PARTICIPANTS, 10);
  const text = eventYaml(groups, swarmYaml(NODES));

  const loaded = timed(runs, () => load(text));
  const event = loaded.value;
  const placement = timed(runs, () =>
    placeParticipants({
      nodes: event.target.kind === "swarm" ? event.target.nodes.map((n) => ({ name: n.name, memoryMiB: n.memory })) : [],
      participants: event.participants.map((p) => ({ name: p.name, memoryMiB: sandboxFor(event, p.group).memory })),
      lock: {},
    }),
  );
  const planned = timed(runs, () => planEvent(event));
  const first = planned.value;
  log(`${PARTICIPANTS} participants over ${NODES} nodes: load ${fmt(loaded.ms)} ms, placement ${fmt(placement.ms)} ms, placement + plan ${fmt(planned.ms)} ms`);
  const spread = first.swarm!.nodes.map((n) => n.participants.length);
  log(`spread: ${spread.join(", ")} participants per node`);

  // After the first real update, the lock holds everyone.
  const lock = { ...first.swarm!.lock };
  const withNewcomer = load(edit.addUser(text, "newcomer", "g1"), lock);
  const withNode = load(eventYaml(groups, swarmYaml(NODES + 1)), lock);
  const blasts = [
    (() => {
      const t = timed(runs, () => planEvent(withNewcomer));
      return planBlast("add 1 participant", first, t.value, t.ms);
    })(),
    (() => {
      const t = timed(runs, () => planEvent(withNode));
      return planBlast("add 1 node", first, t.value, t.ms);
    })(),
  ];
  for (const b of blasts) log(`${b.action}: nodes changed or added ${b.nodesTouched.join(", ") || "none"}; participants moved ${b.moved}; other plans changed ${b.plansChanged}; plan ${fmt(b.ms)} ms`);

  const program = await programBlast(load(text, lock), [
    { action: "add 1 participant", event: withNewcomer, subject: "participant newcomer" },
    { action: "add 1 node", event: withNode, subject: `node n${NODES + 1}` },
  ]);

  const body = [
    `${PARTICIPANTS} participants in 10 groups over ${NODES} nodes of ${NODE_MEMORY} (sandbox.memory 2 GiB). Median of ${runs} runs, in this process.`,
    "",
    table(
      ["step", "ms"],
      [
        ["thon.yaml -> Event (parse, validate)", fmt(loaded.ms)],
        ["placement alone (infra/placement.ts)", fmt(placement.ms)],
        ["placement + plan (planEvent)", fmt(planned.ms)],
      ],
    ),
    "",
    `Participants per node after the first placement: ${spread.join(", ")}.`,
    "",
    "Blast radius on the plan, with the lock a real update writes (every participant placed):",
    "",
    table(
      ["action", "nodes changed or added", "existing participants moved", "other participants' plans changed", "plan ms"],
      blasts.map((b) => [b.action, `${b.nodesTouched.length}${b.nodesTouched.length ? ` (${b.nodesTouched.join(", ")})` : ""}`, String(b.moved), String(b.plansChanged), fmt(b.ms)]),
    ),
    "",
    ...program,
  ].join("\n");
  return { title: "Swarm placement: 1,000 participants over 10 nodes", body };
}

if (isMain(import.meta.url)) {
  const section = await benchSwarmPlan({ quick: process.argv.includes("--quick") });
  process.stdout.write(`\n## ${section.title}\n\n${section.body}\n`);
}
