// The planner on target.kind swarm: each participant's node, the SwarmPlan,
// and the blast radius on the plan: adding a participant or a node changes
// no existing participant's node, names or anything else of theirs.
import { describe, expect, it } from "vitest";
import { toEvent, type Event } from "../infra/config/event.ts";
import { parseThonFile } from "../infra/config/load.ts";
import { PlacementError } from "../infra/placement.ts";
import { planEvent, type EventPlan, type ParticipantPlan } from "../infra/plan.ts";
import { LABELS, nodeConstraint } from "../infra/resourceNames.ts";
import * as edit from "../infra/cli/edit.ts";
import { bigGroups, eventYaml, makeEvent } from "./support/events.ts";

/** A swarm target with nodes of the given GiB, named n1.. (addresses from TEST-NET-1, never contacted). */
function swarmYaml(gib: number[], extra = ""): string {
  const nodes = gib.map((g, i) => `    - { name: n${i + 1}, address: 192.0.2.${i + 10}, memory: ${g}GiB }`).join("\n");
  return `target:\n  kind: swarm\n${extra}  ssh: { privateKeyFile: ./id_ed25519 }\n  nodes:\n${nodes}\n`;
}

const eventOf = (text: string, lock: Record<string, string> = {}): Event => toEvent(parseThonFile(text), {}, lock);

describe("planner: target.kind swarm", () => {
  it("places everyone and describes each node", () => {
    // alice: n1 (8 GiB free against 6); bob: 6 against 6, n1 by name; carol: n2 (6 against 4).
    const plan = planEvent(eventOf(eventYaml({ alpha: ["alice", "bob"], beta: ["carol"] }, swarmYaml([8, 6]).replace("nodes:\n    - { name: n1, address: 192.0.2.10, memory: 8GiB }", 'nodes:\n    - { name: n1, address: 192.0.2.10, memory: 8GiB, labels: { gpu: "true" } }'))));
    expect(plan.participants.map((p) => [p.name, p.node])).toEqual([["alice", "n1"], ["bob", "n1"], ["carol", "n2"]]);
    expect(plan.swarm).toEqual({
      entry: "n1",
      nodePort: 8443,
      nodes: [
        { name: "n1", address: "192.0.2.10", memoryMiB: 8192, labels: { gpu: "true", [LABELS.node]: "n1" }, participants: ["alice", "bob"], usedMiB: 4096, labelsResourceName: "thon-node-labels-n1", proxyResourceName: "thon-proxy-n1" },
        { name: "n2", address: "192.0.2.11", memoryMiB: 6144, labels: { [LABELS.node]: "n2" }, participants: ["carol"], usedMiB: 2048, labelsResourceName: "thon-node-labels-n2", proxyResourceName: "thon-proxy-n2" },
      ],
      network: "thon-net-test",
      edgeResourceName: "thon-proxy-edge",
      added: ["alice", "bob", "carol"],
      lock: { alice: "n1", bob: "n1", carol: "n2" },
    });
    expect(nodeConstraint("n2")).toBe("node.labels.org.thon.node==n2");
  });

  it("counts each participant's own group memory, takes target.entry and nodePort, and follows host:", () => {
    const text = eventYaml({ alpha: ["alice"] }, swarmYaml([8, 8], "  entry: n2\n  nodePort: 9443\n")).replace("  alpha:\n", "  alpha:\n    host: n2\n    sandbox: { memory: 3GiB }\n");
    const plan = planEvent(eventOf(text));
    expect(plan.swarm).toMatchObject({ entry: "n2", nodePort: 9443 });
    expect(plan.participants[0]!.node).toBe("n2");
    expect(plan.swarm!.nodes.map((n) => n.usedMiB)).toEqual([0, 3072]);
  });

  it("keeps locked participants, adds the rest to the lock, and keeps entries of people who left", () => {
    const plan = planEvent(eventOf(eventYaml({ alpha: ["alice", "bob"] }, swarmYaml([8, 8])), { alice: "n2", gone: "n1" }));
    expect(plan.participants.map((p) => [p.name, p.node])).toEqual([["alice", "n2"], ["bob", "n1"]]);
    expect(plan.swarm!.added).toEqual(["bob"]);
    expect(plan.swarm!.lock).toEqual({ alice: "n2", bob: "n1", gone: "n1" });
  });

  it("throws the placement's refusal", () => {
    expect(() => planEvent(eventOf(eventYaml({ alpha: ["alice", "bob", "carol"] }, swarmYaml([4]))))).toThrow(PlacementError);
  });

  it("leaves local plans as they were: no node, no swarm", () => {
    const plan = planEvent(makeEvent({ alpha: ["alice"] }));
    expect(plan.swarm).toBeUndefined();
    expect(plan.participants[0]!.node).toBeUndefined();
    const json = JSON.stringify(plan);
    expect(json).not.toContain('"node"');
    expect(json).not.toContain('"swarm"');
  });
});

describe("blast radius on the plan: 60 participants over 3 nodes", () => {
  const base = eventYaml(bigGroups(60), swarmYaml([64, 64, 64]));
  const first = planEvent(eventOf(base));
  // What the first real update writes to thon.placement.yaml.
  const lock = { ...first.swarm!.lock };
  const byName = (p: EventPlan) => new Map(p.participants.map((x) => [x.name, x]));

  function unchanged(before: EventPlan, after: EventPlan): void {
    const now = byName(after);
    for (const p of before.participants) expect(now.get(p.name), p.name).toEqual<ParticipantPlan>(p);
  }

  it("spreads the first 60 over all three nodes", () => {
    expect(first.swarm!.nodes.map((n) => n.participants.length)).toEqual([20, 20, 20]);
  });

  it("adding a participant changes no one else's plan, node included, and only their node's counts", () => {
    const after = planEvent(eventOf(edit.addUser(base, "newcomer", "g3"), lock));
    unchanged(first, after);
    expect(after.swarm!.added).toEqual(["newcomer"]);
    const node = byName(after).get("newcomer")!.node!;
    const changed = after.swarm!.nodes.filter((n, i) => JSON.stringify(n) !== JSON.stringify(first.swarm!.nodes[i]));
    expect(changed.map((n) => n.name)).toEqual([node]);
    expect(after.swarm!.lock).toEqual({ ...lock, newcomer: node });
  });

  const withN4 = base.replace(/(\n {4}- \{ name: n3[^\n]*)/, "$1\n    - { name: n4, address: 192.0.2.13, memory: 128GiB }");

  it("adding a node changes no participant's plan and no other node's", () => {
    const after = planEvent(eventOf(withN4, lock));
    unchanged(first, after);
    expect(after.swarm!.nodes.slice(0, 3)).toEqual(first.swarm!.nodes);
    expect(after.swarm!.nodes[3]).toMatchObject({ name: "n4", participants: [], usedMiB: 0 });
    expect(after.swarm!.added).toEqual([]);
    // The next newcomer goes to the empty node: it has the most free memory.
    const next = planEvent(eventOf(edit.addUser(withN4, "newcomer", "g1"), lock));
    expect(byName(next).get("newcomer")!.node).toBe("n4");
  });
});
