// The swarm's node-label scripts (infra/render/swarm.ts), run by the real sh
// against a stand-in of `docker node` (test/support/dockerNodeStandIn.sh):
// what ends up on the node after a create, an update and a delete.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nodeLabelsDeleteScript, nodeLabelsScript } from "../infra/render/swarm.ts";

const root = mkdtempSync(join(tmpdir(), "thon-node-labels-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
copyFileSync(resolve(import.meta.dirname, "support/dockerNodeStandIn.sh"), join(root, "docker"));
spawnSync("chmod", ["755", join(root, "docker")]);

let n = 0;
/** A node with these labels to start with; runs scripts against it. */
function node(initial: Record<string, string>) {
  const state = join(root, `state-${++n}`);
  const log = join(root, `log-${n}`);
  writeFileSync(state, Object.entries(initial).map(([k, v]) => `${k}=${v}\n`).join(""));
  writeFileSync(log, "");
  return {
    run(script: string): number | null {
      const r = spawnSync("sh", ["-c", `set -eu\n${script}`], { env: { PATH: `${root}:/usr/bin:/bin`, THON_NODE_STATE: state, THON_NODE_LOG: log }, encoding: "utf8", timeout: 10_000 });
      if (r.status !== 0) throw new Error(`script failed (${r.status}): ${r.stderr}`);
      return r.status;
    },
    labels(): Record<string, string> {
      return Object.fromEntries(readFileSync(state, "utf8").split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    },
    updates(): string[] {
      return readFileSync(log, "utf8").split("\n").filter(Boolean);
    },
  };
}

describe("node labels on a swarm", () => {
  it("adds org.thon.node and the organizer's labels, records their keys, and keeps labels THON did not set", () => {
    const n1 = node({ "ops.rack": "r7" });
    n1.run(nodeLabelsScript("n1", { gpu: "true", "org.thon.node": "n1" }));
    expect(n1.labels()).toEqual({ "ops.rack": "r7", gpu: "true", "org.thon.node": "n1", "org.thon.labels": "gpu,org.thon.node" });
  });

  it("on an update, drops the labels THON no longer sets in the same single update, never removing org.thon.node", () => {
    const n1 = node({});
    n1.run(nodeLabelsScript("n1", { gpu: "true", zone: "a", "org.thon.node": "n1" }));
    n1.run(nodeLabelsScript("n1", { zone: "b", "org.thon.node": "n1" }));
    expect(n1.labels()).toEqual({ zone: "b", "org.thon.node": "n1", "org.thon.labels": "org.thon.node,zone" });
    const [, second] = n1.updates();
    expect(second).toMatch(/^--label-rm gpu --label-add org\.thon\.node=n1 --label-add zone=b /);
    expect(second).not.toMatch(/--label-rm org\.thon\.node/);
  });

  it("on delete, removes exactly what THON set, and tolerates a node with none of it", () => {
    const n1 = node({ "ops.rack": "r7" });
    n1.run(nodeLabelsScript("n1", { gpu: "true", "org.thon.node": "n1" }));
    n1.run(nodeLabelsDeleteScript("n1"));
    expect(n1.labels()).toEqual({ "ops.rack": "r7" });
    n1.run(nodeLabelsDeleteScript("n1"));
    expect(n1.labels()).toEqual({ "ops.rack": "r7" });
  });

  it("refuses label keys the recorded key list cannot hold, naming the node", () => {
    expect(() => nodeLabelsScript("n2", { "a,b": "x", "org.thon.node": "n2" })).toThrow(/node n2: label key "a,b"/);
    expect(() => nodeLabelsScript("n2", { gpu: "true" })).toThrow(/node n2: its labels must include org\.thon\.node=n2/);
  });
});
