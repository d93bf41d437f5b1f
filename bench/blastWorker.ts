// Blast radius at one event size, in a fresh process (bench/blast.ts starts
// it): the real program is evaluated for a thon.yaml of N participants and
// again after each organizer action, edited the way `thon users ...` edits the
// file; diffEvaluations counts what `pulumi preview` would show.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { evaluateEventFile } from "../infra/cli/plan.ts";
import { diffEvaluations, type ChangeKind } from "../infra/preview/diff.ts";
import type { Evaluation } from "../infra/preview/evaluate.ts";
import * as edit from "../infra/cli/edit.ts";
import { report } from "./lib/child.ts";
import { benchEventYaml, benchGroups } from "./lib/events.ts";

export interface BlastSpec {
  readonly participants: number;
}

export interface BlastChange {
  readonly action: string;
  readonly counts: Readonly<Record<ChangeKind, number>>;
  /** Changed resources that belong to no participant in particular (proxy reload, models, ...), as "kind name". */
  readonly shared: readonly string[];
  /** Participants other than the one acted on whose resources changed. */
  readonly othersTouched: number;
  readonly evaluateMs: number;
  readonly diffMs: number;
}

export interface BlastResult {
  readonly participants: number;
  readonly resources: number;
  readonly baseMs: number;
  readonly changes: readonly BlastChange[];
}

/** The participant a resource name belongs to, or undefined for shared ones. */
function ownerOf(name: string, users: ReadonlySet<string>): string | undefined {
  const m = /^thon-(?:workspace-dir-|workspace-|password-|sockets-|stop-|nginx-|upstream-|llm-key-|consumer-)?(.+)$/.exec(name);
  return m && users.has(m[1]!) ? m[1] : undefined;
}

function setImage(text: string, image: string): string {
  const doc = parseDocument(text);
  doc.setIn(["sandbox", "image"], image);
  return doc.toString();
}

async function measure(spec: BlastSpec): Promise<BlastResult> {
  const n = spec.participants;
  const groups = benchGroups(n);
  const users = new Set(Object.values(groups).flat());
  const all = [...users].sort();
  // Someone from the middle of the list, in the first group; moved to the second.
  const subject = all[Math.floor(all.length / 2)]!;
  const from = Object.keys(groups).find((g) => groups[g]!.includes(subject))!;
  const to = Object.keys(groups).find((g) => g !== from)!;

  const dir = mkdtempSync(join(tmpdir(), "thon-blast-"));
  const evaluateText = async (text: string): Promise<{ e: Evaluation; ms: number }> => {
    const file = join(dir, "thon.yaml");
    writeFileSync(file, text);
    const start = performance.now();
    const e = await evaluateEventFile(file, "bench");
    return { e, ms: performance.now() - start };
  };

  const base = benchEventYaml(n);
  const before = await evaluateText(base);
  const actions: [string, string, string | undefined][] = [
    ["add one participant", edit.addUser(base, "newcomer", to), "newcomer"],
    [`remove one participant`, edit.removeUser(base, subject), subject],
    [`move one participant to another group`, edit.moveUser(base, subject, to), subject],
    ["change the sandbox image", setImage(base, "thon-sandbox:next"), undefined],
  ];
  const changes: BlastChange[] = [];
  for (const [action, text, who] of actions) {
    const after = await evaluateText(text);
    const start = performance.now();
    const diff = diffEvaluations(before.e, after.e);
    const diffMs = performance.now() - start;
    const known = new Set([...users, "newcomer"]);
    const owners = diff.changes.map((c) => ownerOf(c.name, known));
    changes.push({
      action,
      counts: diff.counts,
      shared: diff.changes.filter((_, i) => owners[i] === undefined).map((c) => `${c.kind} ${c.name}`),
      othersTouched: new Set(owners.filter((o) => o !== undefined && o !== who)).size,
      evaluateMs: after.ms,
      diffMs,
    });
  }
  rmSync(dir, { recursive: true, force: true });
  return { participants: n, resources: before.e.resources.length, baseMs: before.ms, changes };
}

if (process.argv[2]) {
  report(await measure(JSON.parse(process.argv[2]) as BlastSpec));
  process.exit(0);
}
