// target.kind swarm in thon.yaml, host: on groups and participants, and
// thon.placement.yaml: what is accepted, what is refused (naming the field
// and the fix), and how the lock file is read and written.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadEvent, parseThonFile, ThonConfigError } from "../../infra/config/load.ts";
import { toEvent } from "../../infra/config/event.ts";
import { parsePlacementLock, placementLockPath, PLACEMENT_LOCK_HEADER, readPlacementLock, recordPlacement, renderPlacementLock, writePlacementLock } from "../../infra/config/placementLock.ts";
import { planEvent } from "../../infra/plan.ts";
import { problemsOf } from "../support/events.ts";

const SWARM = `target:
  kind: swarm
  dockerHost: tcp://manager:2376
  ssh: { privateKeyFile: ./id_ed25519 }
  nodes:
    - { name: n1, address: 192.0.2.10, memory: 64GiB, labels: { gpu: "true" } }
    - { name: n2, address: 192.0.2.11, memory: 24GiB }
`;
const HEAD = "event: { name: e, host: 127.0.0.1 }\n";

describe("thon.yaml: target.kind swarm", () => {
  it("parses nodes, entry, nodePort and ssh with their defaults", () => {
    const file = parseThonFile(`${HEAD}groups: { alpha: { users: [alice] } }\n${SWARM}`);
    expect(file.target).toEqual({
      kind: "swarm",
      dockerHost: "tcp://manager:2376",
      nodePort: 8443,
      ssh: { user: "root", port: 22, privateKeyFile: "./id_ed25519" },
      nodes: [
        { name: "n1", address: "192.0.2.10", memory: 64 * 1024, labels: { gpu: "true" } },
        { name: "n2", address: "192.0.2.11", memory: 24 * 1024, labels: {} },
      ],
    });
  });

  it("gives each participant their own host:, else their group's", () => {
    const event = toEvent(parseThonFile(`${HEAD}groups:\n  alpha: { host: n2, users: [alice, { name: bob, host: n1 }] }\n  beta: { users: [carol] }\n${SWARM}`));
    expect(event.participants).toEqual([
      { name: "alice", group: "alpha", state: "running", host: "n2" },
      { name: "bob", group: "alpha", state: "running", host: "n1" },
      { name: "carol", group: "beta", state: "running" },
    ]);
    expect(event.placementLock).toEqual({});
  });

  it.each([
    ["a host: naming no node (group)", `groups: { alpha: { host: n9, users: [alice] } }\n${SWARM}`, '2:26 groups.alpha.host: "n9": is not one of target.nodes (n1, n2). Fix:'],
    ["a host: naming no node (participant)", `groups: { alpha: { users: [alice, { name: bob, host: n3 }] } }\n${SWARM}`, '2:54 groups.alpha.users[1].host: "n3": is not one of target.nodes (n1, n2)'],
    ["host: on a local target", `groups: { alpha: { host: n1, users: [alice] } }\n`, '2:26 groups.alpha.host: "n1": places participants on a swarm node, and target.kind is "local". Fix: remove it'],
    ["an entry naming no node", `groups: { a: { users: [x] } }\n${SWARM.replace("  ssh:", "  entry: n7\n  ssh:")}`, '6:10 target.entry: "n7": is not one of target.nodes (n1, n2). Fix: name the node that runs the edge nginx, or remove entry (default: n1)'],
    ["two nodes with one name", `groups: { a: { users: [x] } }\n${SWARM}    - { name: n1, address: 192.0.2.12, memory: 8GiB }\n`, '10:15 target.nodes[2].name: "n1": is already declared at target.nodes[0]'],
    ["a node without memory", `groups: { a: { users: [x] } }\n${SWARM}    - { name: n3, address: 192.0.2.12 }\n`, "10:7 target.nodes[2].memory: is required: the node's memory for participants"],
    ["a node memory that is not a size", `groups: { a: { users: [x] } }\n${SWARM}    - { name: n3, address: 192.0.2.12, memory: lots }\n`, `target.nodes[2].memory: "lots": a node's memory must be a size such as "2GiB"`],
    ["a node name that is not a hostname THON accepts", `groups: { a: { users: [x] } }\n${SWARM}    - { name: N_3, address: 192.0.2.12, memory: 1GiB }\n`, "target.nodes[2].name: \"N_3\": a node name must be 1 to 32 characters"],
    ["a node named like the edge", `groups: { a: { users: [x] } }\n${SWARM}    - { name: edge, address: 192.0.2.12, memory: 1GiB }\n`, '10:15 target.nodes[2].name: "edge": is the name of THON\'s entry nginx'],
    ["a node label in THON's own namespace", `groups: { a: { users: [x] } }\n${SWARM}    - { name: n3, address: 192.0.2.12, memory: 1GiB, labels: { org.thon.node: n1 } }\n`, 'target.nodes[2].labels["org.thon.node"]: "n1": labels under org.thon. are THON\'s own'],
    ["a swarm without nodes", `groups: { a: { users: [x] } }\ntarget: { kind: swarm, ssh: { privateKeyFile: k }, nodes: [] }\n`, "target.nodes: target.nodes needs at least one node"],
    ["a swarm without ssh", `groups: { a: { users: [x] } }\ntarget: { kind: swarm, nodes: [{ name: n1, address: h, memory: 1GiB }] }\n`, "target.ssh: is required"],
  ])("rejects %s, naming the field", (_what, body, expected) => {
    expect(problemsOf(`${HEAD}${body}`).join("\n")).toContain(expected);
  });
});

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "thon-placement-"));
}

describe("thon.placement.yaml", () => {
  it("lies beside the event file", () => {
    expect(placementLockPath("/srv/event/thon.yaml")).toBe("/srv/event/thon.placement.yaml");
    expect(placementLockPath("/srv/event/devfest.yml")).toBe("/srv/event/devfest.placement.yaml");
  });

  it("is read by loadEvent for a swarm event, and ignored on other targets", () => {
    const dir = tempDir();
    const file = join(dir, "thon.yaml");
    writeFileSync(join(dir, "thon.placement.yaml"), `${PLACEMENT_LOCK_HEADER}\nplacement:\n  alice: n2\n  gone: n1\n`);
    writeFileSync(file, `${HEAD}groups: { alpha: { users: [alice] } }\n${SWARM}`);
    const event = loadEvent(file);
    expect(event.placementLock).toEqual({ alice: "n2", gone: "n1" });
    // The key file is resolved beside thon.yaml, as target.privateKeyFile is for ssh.
    expect(event.target.kind === "swarm" && event.target.ssh.privateKeyFile).toBe(join(dir, "id_ed25519"));
    writeFileSync(file, `${HEAD}groups: { alpha: { users: [alice] } }\n`);
    expect(loadEvent(file).placementLock).toEqual({});
  });

  it("is empty when absent or empty", () => {
    expect(readPlacementLock(join(tempDir(), "thon.placement.yaml"))).toEqual({});
    expect(parsePlacementLock(`${PLACEMENT_LOCK_HEADER}\nplacement: {}\n`, "x")).toEqual({});
    expect(parsePlacementLock("", "x")).toEqual({});
  });

  it.each([
    ["a node that is not a name", "placement:\n  alice: [n1]\n", "thon.placement.yaml:2:10 placement.alice: must name a node"],
    ["a user that is not a participant name", "placement:\n  Alice: n1\n", 'thon.placement.yaml:2:3 placement.Alice: "Alice" is not a participant name'],
    ["an unknown key", "placment:\n  alice: n1\n", "thon.placement.yaml:1:1 placment: unknown key"],
    ["a list instead of a mapping", "placement: [alice]\n", "thon.placement.yaml:1:12 placement: must map participants to nodes"],
    ["broken YAML", "placement:\n  alice: n1\n  alice: n2\n", "thon.placement.yaml:3:3 YAML syntax: Map keys must be unique"],
  ])("refuses %s, naming the file, the key and the line", (_what, text, expected) => {
    let error: unknown;
    try {
      parsePlacementLock(text, "thon.placement.yaml");
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ThonConfigError);
    expect((error as ThonConfigError).message).toContain(expected);
  });

  it("stops loadEvent with the lock file's name when it is broken", () => {
    const dir = tempDir();
    const file = join(dir, "thon.yaml");
    writeFileSync(join(dir, "thon.placement.yaml"), "placement:\n  alice: 7\n");
    writeFileSync(file, `${HEAD}groups: { alpha: { users: [alice] } }\n${SWARM}`);
    expect(() => loadEvent(file)).toThrow(/thon\.placement\.yaml:2:10 placement\.alice: must name a node/);
  });

  it("is written sorted, under THON's header, atomically, and reads back the same", () => {
    const dir = tempDir();
    const path = join(dir, "thon.placement.yaml");
    writePlacementLock(path, { carol: "n1", alice: "n2", bob: "n1" });
    expect(readFileSync(path, "utf8")).toBe(`${PLACEMENT_LOCK_HEADER}\nplacement:\n  alice: n2\n  bob: n1\n  carol: n1\n`);
    expect(readPlacementLock(path)).toEqual({ alice: "n2", bob: "n1", carol: "n1" });
    // No temporary file is left behind.
    expect(readdirSync(dir)).toEqual(["thon.placement.yaml"]);
  });

  it("keeps the existing file's header comment when rewritten", () => {
    const dir = tempDir();
    const path = join(dir, "thon.placement.yaml");
    writeFileSync(path, "# devfest 2026: nodes racked in room B\n# ask Kim before moving anyone\nplacement:\n  bob: n1\n");
    writePlacementLock(path, { bob: "n1", alice: "n2" });
    expect(readFileSync(path, "utf8")).toBe("# devfest 2026: nodes racked in room B\n# ask Kim before moving anyone\nplacement:\n  alice: n2\n  bob: n1\n");
  });

  it("gains the newly placed after a real update only, never on a preview or when nobody is new", () => {
    const dir = tempDir();
    const file = join(dir, "thon.yaml");
    const lockFile = join(dir, "thon.placement.yaml");
    writeFileSync(file, `${HEAD}groups: { alpha: { users: [alice, bob] } }\n${SWARM}`);
    writeFileSync(lockFile, `${PLACEMENT_LOCK_HEADER}\nplacement:\n  alice: n2\n`);
    const swarm = planEvent(loadEvent(file)).swarm!;
    expect(swarm.added).toEqual(["bob"]);
    expect(recordPlacement(file, swarm, false)).toBe(false);
    expect(readPlacementLock(lockFile)).toEqual({ alice: "n2" });
    expect(recordPlacement(file, swarm, true)).toBe(true);
    expect(readPlacementLock(lockFile)).toEqual({ alice: "n2", bob: "n1" });
    // The next run places nobody new: nothing to write.
    const next = planEvent(loadEvent(file)).swarm!;
    expect(next.added).toEqual([]);
    writeFileSync(lockFile, "# hand-made\nplacement: { alice: n2, bob: n1 }\n");
    expect(recordPlacement(file, next, true)).toBe(false);
    expect(readFileSync(lockFile, "utf8")).toBe("# hand-made\nplacement: { alice: n2, bob: n1 }\n");
    expect(recordPlacement(file, undefined, true)).toBe(false);
  });

  it("renders an empty lock as an empty mapping", () => {
    expect(renderPlacementLock({})).toBe(`${PLACEMENT_LOCK_HEADER}\nplacement: {}\n`);
  });
});
