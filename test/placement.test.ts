// infra/placement.ts: who runs on which swarm node. Examples for each rule,
// then properties over random events (fast-check): adding a participant or a
// node moves nobody, host: wins for newcomers, capacity is never exceeded,
// and the result depends on the input, not on its order.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { placeParticipants, PlacementError, type Placement, type PlacementInput, type PlacementNode } from "../infra/placement.ts";

const GiB = 1024;
const nodes = (...spec: [string, number][]): PlacementNode[] => spec.map(([name, gib]) => ({ name, memoryMiB: gib * GiB }));
const people = (names: string[], memoryMiB = 2 * GiB, host?: Record<string, string>) =>
  names.map((name) => ({ name, memoryMiB, ...(host?.[name] !== undefined ? { host: host[name]! } : {}) }));

function refusal(input: PlacementInput): PlacementError {
  try {
    placeParticipants(input);
  } catch (err) {
    expect(err).toBeInstanceOf(PlacementError);
    return err as PlacementError;
  }
  throw new Error("expected the placement to be refused");
}

describe("placeParticipants: the rules", () => {
  it("puts each newcomer, in name order, on the node with the most free memory; ties by node name", () => {
    const p = placeParticipants({ nodes: nodes(["n2", 8], ["n1", 8], ["n3", 4]), participants: people(["carol", "alice", "bob", "dave"]), lock: {} });
    // alice: n1 and n2 tie at 8 GiB free, n1 by name; bob: n2 (8 free); carol: n1 and n2 tie at 6, n1; dave: n2 (6 free).
    expect(p.assignment).toEqual({ alice: "n1", bob: "n2", carol: "n1", dave: "n2" });
    expect(p.usedMiB).toEqual({ n2: 4 * GiB, n1: 4 * GiB, n3: 0 });
    expect(p.added).toEqual(["alice", "bob", "carol", "dave"]);
  });

  it("keeps locked participants where the lock says, even where the free-memory rule would not put them", () => {
    const p = placeParticipants({ nodes: nodes(["n1", 64], ["n2", 8]), participants: people(["alice", "bob"]), lock: { alice: "n2", bob: "n2", gone: "n1" } });
    expect(p.assignment).toEqual({ alice: "n2", bob: "n2" });
    expect(p.added).toEqual([]);
    // The lock's entry for someone no longer listed costs no memory.
    expect(p.usedMiB).toEqual({ n1: 0, n2: 4 * GiB });
  });

  it("puts a newcomer with host: on that node, before the others are spread", () => {
    const p = placeParticipants({ nodes: nodes(["n1", 8], ["n2", 8]), participants: people(["alice", "bob", "zed"], 2 * GiB, { zed: "n1" }), lock: {} });
    // zed takes 2 GiB of n1 first; alice goes to n2 (8 free against 6); bob: 6 free on both, n1 by name.
    expect(p.assignment).toEqual({ alice: "n2", bob: "n1", zed: "n1" });
  });

  it("refuses host: that names another node than the locked one, naming the participant, both nodes and the command", () => {
    const err = refusal({ nodes: nodes(["n1", 8], ["n2", 8]), participants: people(["alice"], 2 * GiB, { alice: "n2" }), lock: { alice: "n1" } });
    expect(err.field).toBe("alice.host");
    expect(err.message).toContain("alice's home and workspace are on n1 (thon.placement.yaml); host: n2 would give them an empty home");
    expect(err.message).toContain("thon users move-node alice --to n2");
  });

  it("accepts host: that names the locked node", () => {
    const p = placeParticipants({ nodes: nodes(["n1", 8], ["n2", 8]), participants: people(["alice"], 2 * GiB, { alice: "n1" }), lock: { alice: "n1" } });
    expect(p.assignment).toEqual({ alice: "n1" });
  });

  it("refuses a lock on a node no longer declared, naming the node and everyone on it", () => {
    const err = refusal({ nodes: nodes(["n1", 8]), participants: people(["alice", "bob", "carol"]), lock: { alice: "n3", carol: "n3", bob: "n1" } });
    expect(err.field).toBe("target.nodes");
    expect(err.message).toContain("n3 (alice, carol): no longer in target.nodes");
    expect(err.message).toContain("thon users move-node");
  });

  it("refuses a newcomer no node can hold, listing every node's used/capacity", () => {
    const err = refusal({ nodes: nodes(["n1", 4], ["n2", 3]), participants: people(["alice", "bob", "carol", "dave"]), lock: {} });
    expect(err.field).toBe("target.nodes");
    expect(err.message).toContain("no node has 2048 MiB free for dave");
    expect(err.message).toContain("n1 4096/4096 MiB, n2 2048/3072 MiB");
  });

  it("refuses a node that locks and host: overfill, naming target.nodes[i].memory and who is there", () => {
    const err = refusal({ nodes: nodes(["n1", 8], ["n2", 3]), participants: people(["alice", "bob"], 2 * GiB, { bob: "n2" }), lock: { alice: "n2" } });
    expect(err.field).toBe("target.nodes[1].memory");
    expect(err.message).toContain("n2 is assigned 4096 MiB (alice, bob) but has 3072 MiB");
  });
});

// --- properties

const userName = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
const nodeName = fc.stringMatching(/^n[0-9]{1,2}$/);
const memory = fc.constantFrom(512, 1024, 2048, 3072);
const nodeList = fc.uniqueArray(fc.record({ name: nodeName, memoryMiB: fc.integer({ min: 1, max: 64 }).map((g) => g * GiB) }), { minLength: 1, maxLength: 6, selector: (n) => n.name });
const participantList = fc.uniqueArray(fc.record({ name: userName, memoryMiB: memory }), { minLength: 0, maxLength: 30, selector: (p) => p.name });

/** The placement, or undefined when it is refused (too little memory). */
function tryPlace(input: PlacementInput): Placement | undefined {
  try {
    return placeParticipants(input);
  } catch (err) {
    if (err instanceof PlacementError) return undefined;
    throw err;
  }
}

/** After a real update, the lock holds everyone placed. */
const lockOf = (p: Placement) => ({ ...p.assignment });

describe("placeParticipants: properties", () => {
  it("adding a participant moves nobody", () => {
    fc.assert(
      fc.property(nodeList, participantList, fc.record({ name: userName, memoryMiB: memory }), (ns, ps, newcomer) => {
        fc.pre(!ps.some((p) => p.name === newcomer.name));
        const before = tryPlace({ nodes: ns, participants: ps, lock: {} });
        fc.pre(before !== undefined);
        const after = tryPlace({ nodes: ns, participants: [...ps, newcomer], lock: lockOf(before!) });
        if (after === undefined) return; // no room for the newcomer: refused, nobody moved
        for (const p of ps) expect(after.assignment[p.name]).toBe(before!.assignment[p.name]);
        expect(after.added).toEqual([newcomer.name]);
      }),
      { numRuns: 300 },
    );
  });

  it("adding a node moves nobody", () => {
    fc.assert(
      fc.property(nodeList, participantList, fc.integer({ min: 1, max: 64 }), (ns, ps, gib) => {
        const extra = { name: "n999", memoryMiB: gib * GiB };
        const before = tryPlace({ nodes: ns, participants: ps, lock: {} });
        fc.pre(before !== undefined);
        const after = placeParticipants({ nodes: [...ns, extra], participants: ps, lock: lockOf(before!) });
        expect(after.assignment).toEqual(before!.assignment);
        expect(after.usedMiB[extra.name]).toBe(0);
        expect(after.added).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("a newcomer's host: is where they go", () => {
    fc.assert(
      fc.property(nodeList, participantList, fc.nat(), (ns, ps, pick) => {
        fc.pre(ps.length > 0);
        const chosen = ps[pick % ps.length]!;
        const node = ns[pick % ns.length]!.name;
        const withHost = ps.map((p) => (p === chosen ? { ...p, host: node } : p));
        const placed = tryPlace({ nodes: ns, participants: withHost, lock: {} });
        if (placed !== undefined) expect(placed.assignment[chosen.name]).toBe(node);
      }),
      { numRuns: 300 },
    );
  });

  it("never assigns a node more memory than it has, and counts every participant once", () => {
    fc.assert(
      fc.property(nodeList, participantList, (ns, ps) => {
        const placed = tryPlace({ nodes: ns, participants: ps, lock: {} });
        if (placed === undefined) return;
        for (const n of ns) {
          const here = ps.filter((p) => placed.assignment[p.name] === n.name).reduce((sum, p) => sum + p.memoryMiB, 0);
          expect(placed.usedMiB[n.name]).toBe(here);
          expect(here).toBeLessThanOrEqual(n.memoryMiB);
        }
        expect(Object.keys(placed.assignment).sort()).toEqual(ps.map((p) => p.name).sort());
      }),
      { numRuns: 300 },
    );
  });

  it("is deterministic: the same input gives the same placement, whatever the participants' order", () => {
    fc.assert(
      fc.property(nodeList, participantList.chain((ps) => fc.tuple(fc.constant(ps), fc.shuffledSubarray(ps, { minLength: ps.length, maxLength: ps.length }))), (ns, [ps, shuffled]) => {
        const a = tryPlace({ nodes: ns, participants: ps, lock: {} });
        const b = tryPlace({ nodes: ns, participants: shuffled, lock: {} });
        const c = tryPlace({ nodes: ns, participants: ps, lock: {} });
        expect(JSON.stringify(b)).toBe(JSON.stringify(a));
        expect(JSON.stringify(c)).toBe(JSON.stringify(a));
      }),
      { numRuns: 300 },
    );
  });
});
