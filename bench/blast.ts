// Blast radius: what `pulumi up` would create, update, replace and delete
// after one organizer action, for events of 10, 100 and 1000 participants.
// The goal: constant for adding, removing and moving a participant (it must
// not grow with the event), everything for a new sandbox image.
import { runChild } from "./lib/child.ts";
import { fmt, table } from "./lib/stats.ts";
import { load } from "./lib/host.ts";
import { isMain, type BenchOptions, type Section } from "./lib/section.ts";
import type { BlastResult } from "./blastWorker.ts";
import { PROGRAM_NODE_FLAGS } from "../infra/nodeFlags.ts";

const log = (text: string) => process.stdout.write(`[blast] ${text}\n`);

export async function benchBlast(options: BenchOptions): Promise<Section> {
  const sizes = options.quick ? [10, 100] : [10, 100, 1000];
  const results: BlastResult[] = [];
  for (const participants of sizes) {
    const r = await runChild<BlastResult>("bench/blastWorker.ts", { participants }, { nodeArgs: PROGRAM_NODE_FLAGS, timeoutMs: 900_000 });
    results.push(r);
    for (const c of r.changes) {
      const { create, update, replace, delete: del } = c.counts;
      log(`${participants} participants, ${c.action}: +${create} ~${update} +-${replace} -${del}; diff ${fmt(c.diffMs)} ms; ${load()}`);
    }
  }
  const actions = results[0]!.changes.map((c) => c.action);
  const rows: string[][] = [];
  for (const action of actions) {
    for (const r of results) {
      const c = r.changes.find((x) => x.action === action)!;
      rows.push([
        action,
        String(r.participants),
        String(c.counts.create),
        String(c.counts.update),
        String(c.counts.replace),
        String(c.counts.delete),
        String(c.othersTouched),
        c.shared.length > 8 ? `${c.shared.slice(0, 6).join(", ")}, … (${c.shared.length})` : c.shared.join(", ") || "–",
        fmt(c.diffMs),
      ]);
    }
  }
  // The goal: what belongs to participants (created, deleted, replaced; other people touched) does not grow with the event.
  const constant = actions.slice(0, 3).map((action) => {
    const at = results.map((r) => ({ n: r.participants, c: r.changes.find((x) => x.action === action)! }));
    const own = new Set(at.map(({ c }) => `${c.counts.create}/${c.counts.delete}/${c.counts.replace}/${c.othersTouched}`));
    const updates = at.map(({ n, c }) => `${c.counts.update} at ${n}`).join(", ");
    return `${action}: ${own.size === 1 ? "constant" : "NOT constant"} (creates/deletes/replaces/other participants) over ${sizes.join(", ")} participants; shared updates ${updates}`;
  });
  const body = [
    "Two evaluations of the real program (before and after the edit, made with the same functions as `thon users add/remove/move`), " +
      "compared by `diffEvaluations` with each provider's replace rules, as `pulumi preview` would count them. " +
      "Every feature on (TLS, proxy, Lemonade, gateway per participant). \"Other participants\" counts people, other than the one acted on, " +
      "with any changed resource; \"shared\" lists changed resources that belong to nobody in particular.",
    "",
    table(["action", "participants", "create", "update", "replace", "delete", "other participants", "shared resources changed", "diff ms"], rows),
    "",
    ...constant.map((c) => `- ${c}`),
    "",
    `Evaluation time of the base event: ${results.map((r) => `${r.participants}: ${fmt(r.baseMs / 1000)} s (${r.resources} resources)`).join(", ")}.`,
  ].join("\n");
  return { title: "Blast radius", body };
}

if (isMain(import.meta.url)) {
  const section = await benchBlast({ quick: process.argv.includes("--quick") });
  process.stdout.write(`\n## ${section.title}\n\n${section.body}\n`);
}
