// `thon plan` on target.kind swarm: each resource of a participant carries
// their node in --json, and the human output ends with one line per node.
// The resources come from the program run for the same participants (their
// names do not depend on the target); the nodes from the swarm planner.
import { beforeAll, describe, expect, it } from "vitest";
import { toEvent } from "../../infra/config/event.ts";
import { parseThonFile } from "../../infra/config/load.ts";
import type { Evaluation } from "../../infra/preview/evaluate.ts";
import { planEvent, type EventPlan } from "../../infra/plan.ts";
import { formatNodes, formatPlan, planEntries, resourceNodes } from "../../infra/cli/plan.ts";
import { eventYaml, makeEvent } from "../support/events.ts";
import { runEvent } from "../support/program.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { tempEvent, thon } from "../support/cli.ts";

const GROUPS = { alpha: ["alice", "bob"], beta: ["carol"] };
const SWARM = `target:
  kind: swarm
  entry: n2
  ssh: { privateKeyFile: ./id_ed25519 }
  nodes:
    - { name: n1, address: 192.0.2.10, memory: 8GiB }
    - { name: n2, address: 192.0.2.11, memory: 6GiB }
`;

let e: Evaluation;
let swarm: EventPlan;
let local: EventPlan;
beforeAll(async () => {
  e = await runEvent(makeEvent(GROUPS));
  local = planEvent(makeEvent(GROUPS));
  swarm = planEvent(toEvent(parseThonFile(eventYaml(GROUPS, SWARM)), {}, { carol: "n2" }));
});

describe("thon plan: nodes", () => {
  it("gives every resource of a participant their node, and shared resources none", () => {
    const entries = planEntries(e, swarm);
    const node = Object.fromEntries(swarm.participants.map((p) => [p.name, p.node]));
    expect(node).toEqual({ alice: "n1", bob: "n1", carol: "n2" });
    for (const user of ["alice", "bob", "carol"]) {
      const own = entries.filter((x) => x.name.endsWith(`-${user}`) || x.name === `thon-${user}`);
      expect(own.length, user).toBeGreaterThan(5);
      for (const x of own) expect(x.node, `${x.type}::${x.name}`).toBe(node[user]);
    }
    for (const shared of entries.filter((x) => x.name === "thon-tls" || x.name === "thon-proxy-reload" || x.name === "thon-sandbox-image")) {
      expect(shared.node, shared.name).toBeUndefined();
    }
  });

  it("puts a resource under a participant's component on their node, by its parent", () => {
    const sandbox = e.resources.find((r) => r.name === "thon-bob" && r.type === "thon:sandbox:Sandbox")!;
    const children = e.resources.filter((r) => r.parent === sandbox.urn);
    const nodes = resourceNodes({ ...e, resources: [sandbox, ...children.map((c) => ({ ...c, name: `child-of-bob-${c.name}` }))] }, swarm);
    expect(children.length).toBeGreaterThan(0);
    for (const c of children) expect(nodes.get(c.urn)).toBe("n1");
  });

  it("lists each node with its participants and memory, marks the entry, and who is placed now", () => {
    expect(formatNodes(swarm)).toEqual([
      "2 swarm nodes:",
      "  n1          2 participants  4096/8192 MiB used (4GiB free)",
      "  n2 (entry)   1 participant  2048/6144 MiB used (4GiB free)",
      "placed now (thon.placement.yaml gains them on the next pulumi up): alice, bob",
      "",
    ]);
    expect(formatPlan(e, swarm).endsWith(formatNodes(swarm).join("\n"))).toBe(true);
  });

  it("leaves local plans as they were", () => {
    expect(planEntries(e, local)).toEqual(planEntries(e));
    expect(JSON.stringify(planEntries(e, local))).not.toContain('"node"');
    expect(formatPlan(e, local)).toBe(formatPlan(e));
  });
});

describe("thon plan: a placement that cannot be made", () => {
  it("fails with the file and the field before declaring anything, and writes no lock", async () => {
    const { dir, file } = tempEvent(eventYaml({ alpha: ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank"] }, SWARM));
    const r = await thon(["plan", file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}: target.nodes: no node has 2048 MiB free for hank (used/capacity: n1 8192/8192 MiB, n2 6144/6144 MiB)`);
    expect(existsSync(join(dir, "thon.placement.yaml"))).toBe(false);
  });
});
