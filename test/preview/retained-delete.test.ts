// `thon plan --against`: a removed participant's workspace volume has
// retainOnDelete, so the engine drops it from the state and leaves it on the
// host. The diff marks it `delete[retain]` (as Pulumi's display does) and the
// summary says the workspace is kept.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { diffEvaluations, evaluateEventFile, formatDiff } from "../../infra/cli/plan.ts";
import type { Evaluation, RecordedResource } from "../../infra/preview/evaluate.ts";
import { eventYaml } from "../support/events.ts";

const dir = mkdtempSync(join(tmpdir(), "thon-retain-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
async function evaluateGroups(groups: Record<string, string[]>): Promise<Evaluation> {
  const file = join(dir, `thon-${++files}.yaml`);
  writeFileSync(file, eventYaml(groups));
  return evaluateEventFile(file, "dev");
}

describe("thon plan --against: retained deletes", () => {
  it("marks a removed participant's workspace delete[retain] and says the workspace is kept", async () => {
    const before = await evaluateGroups({ alpha: ["alice", "bob"] });
    const after = await evaluateGroups({ alpha: ["alice"] });
    const diff = diffEvaluations(before, after);
    const text = formatDiff(diff);
    const lines = text.split("\n");
    expect(lines).toContain("-  docker:index/volume:Volume  thon-workspace-bob  delete[retain]");
    // What really goes is shown as a plain delete.
    expect(lines).toContain("-  docker:index/container:Container  thon-bob");
    expect(lines.filter((l) => l.endsWith("[retain]"))).toEqual(["-  docker:index/volume:Volume  thon-home-bob  delete[retain]", "-  docker:index/volume:Volume  thon-workspace-bob  delete[retain]"]);
    expect(lines.at(-2)).toBe(`0 to create, ${diff.counts.update} to update, 0 to replace, ${diff.counts.delete} to delete; workspace kept: thon-workspace-bob; home kept: thon-home-bob`);
    expect(diff.changes.find((c) => c.name === "thon-workspace-bob")).toMatchObject({ kind: "delete", retain: true });
    expect(diff.changes.filter((c) => c.retain).map((c) => c.name).sort()).toEqual(["thon-home-bob", "thon-workspace-bob"]);
  });

  it("names every kept workspace when several participants go, and says nothing is kept when people only join", async () => {
    const three = await evaluateGroups({ alpha: ["alice", "bob"], beta: ["carol"] });
    const one = await evaluateGroups({ alpha: ["alice"] });
    expect(formatDiff(diffEvaluations(three, one))).toMatch(/ to delete; 2 workspaces kept: thon-workspace-bob, thon-workspace-carol; 2 homes kept: thon-home-bob, thon-home-carol\n$/);
    const grown = formatDiff(diffEvaluations(one, three));
    expect(grown).not.toContain("kept");
    expect(grown).not.toContain("[retain]");
  });

  it("marks a replace of a retained resource replace[retain]: the old one stays", () => {
    const volume = (name: string, driver: string): RecordedResource => ({
      type: "docker:index/volume:Volume",
      name,
      urn: `urn:pulumi:dev::thon::docker:index/volume:Volume::${name}`,
      parent: undefined,
      custom: true,
      inputs: { name, driver },
      secretInputs: [],
      inputsHash: driver,
      inputHashes: { name, driver },
      options: { protect: false, retainOnDelete: true, deleteBeforeReplace: false, provider: undefined, dependencies: [], propertyDependencies: {}, ignoreChanges: [], replaceOnChanges: [], additionalSecretOutputs: [], aliases: 0 },
    });
    const of = (r: RecordedResource): Evaluation => ({ resources: [r], outputs: {}, secretOutputs: [] });
    const diff = diffEvaluations(of(volume("thon-workspace-x", "local")), of(volume("thon-workspace-x", "other")));
    expect(diff.changes).toEqual([expect.objectContaining({ kind: "replace", retain: true, inputs: ["driver"] })]);
    expect(formatDiff(diff)).toBe(
      "+- docker:index/volume:Volume  thon-workspace-x  [driver]  replace[retain]\n\n0 to create, 0 to update, 1 to replace, 0 to delete; workspace kept: thon-workspace-x\n",
    );
  });
});
