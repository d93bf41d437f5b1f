// Moving participants between swarm nodes (console/ops/nodeMove.ts) with a
// stand-in of the per-node engines' volumes (test/support): the workspace and
// home are carried and verified before the lock changes; every refusal
// changes nothing; drain moves each participant by the placement rule.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { drainNode, moveParticipant, MoveRefused, type MoveDeps, type MoveServices } from "../../console/ops/nodeMove.ts";
import { readPlacementLock, updatePlacementLock as writePlacementLock } from "../../infra/config/placementLock.ts";
import type { SwarmTargetShape } from "../../infra/config/swarmTarget.ts";
import { planEvent } from "../../infra/plan.ts";
import { makeEvent } from "../support/events.ts";
import { StandInNodeVolumes } from "../support/nodeVolumesStandIn.ts";

const event = makeEvent({ alpha: ["alice", "bob", "carol"] }, "sandbox:\n  memory: 2GiB\n");
const participants = planEvent(event).participants;
const target: SwarmTargetShape = {
  kind: "swarm",
  dockerHost: "unix:///nonexistent/manager.sock",
  nodePort: 8443,
  ssh: { user: "root", port: 22, privateKeyFile: "/dev/null" },
  nodes: [
    { name: "n1", address: "127.0.0.11", memory: 8192, labels: {} },
    { name: "n2", address: "127.0.0.12", memory: 8192, labels: {} },
    { name: "n3", address: "127.0.0.13", memory: 4096, labels: {} },
  ],
};

/** Services in memory: replicas per service; `apply` sets them back to 1 as thon.yaml declares (running). */
class StandInServices implements MoveServices {
  readonly replicasOf = new Map(participants.map((p) => [p.containerName, 1]));
  readonly calls: string[] = [];
  async replicas(s: string) {
    return this.replicasOf.get(s);
  }
  async scale(s: string, n: number) {
    this.calls.push(`scale ${s}=${n}`);
    this.replicasOf.set(s, n);
  }
  async waitStopped(s: string) {
    if (this.replicasOf.get(s) !== 0) throw new Error(`${s} still runs`);
  }
}

let volumes: StandInNodeVolumes;
let services: StandInServices;
let lockFile: string;
let applied: number;
let deps: MoveDeps;

beforeEach(() => {
  volumes = new StandInNodeVolumes();
  services = new StandInServices();
  lockFile = join(mkdtempSync(join(tmpdir(), "thon-lock-")), "thon.placement.yaml");
  writePlacementLock(lockFile, { alice: "n2", bob: "n1", carol: "n2" });
  applied = 0;
  for (const [user, node] of Object.entries(readPlacementLock(lockFile))) {
    volumes.put(node, `thon-home-${user}`, { ".bashrc": `# ${user}`, ".local/share/code-server/settings.json": "{}" });
    volumes.put(node, `thon-workspace-${user}`, { "main.py": `print("${user}")` });
  }
  deps = {
    event,
    target,
    participants,
    assignment: readPlacementLock(lockFile),
    services,
    volumes,
    writeLock: (changes) => writePlacementLock(lockFile, changes),
    apply: async () => {
      applied++;
      for (const p of participants) services.replicasOf.set(p.containerName, 1);
    },
    removeHint: (node, v) => `docker -H ssh://root@${target.nodes.find((n) => n.name === node)!.address} volume rm ${v}`,
  };
});

const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(MoveRefused);
  return e as MoveRefused;
};

describe("thon users move-node", () => {
  it("carries home and workspace to the new node, verified, then records the node and applies; the source stays", async () => {
    const r = await moveParticipant(deps, "alice", "n1");
    expect(r).toMatchObject({ user: "alice", from: "n2", to: "n1" });
    expect(r.volumes).toEqual([
      { volume: "thon-home-alice", files: 2, bytes: Buffer.byteLength("# alice{}") },
      { volume: "thon-workspace-alice", files: 1, bytes: Buffer.byteLength('print("alice")') },
    ]);
    expect(volumes.files("n1", "thon-workspace-alice")).toEqual({ "main.py": 'print("alice")' });
    expect(volumes.files("n2", "thon-workspace-alice")).toEqual({ "main.py": 'print("alice")' }); // never deleted
    expect(r.leftBehind).toEqual(["docker -H ssh://root@127.0.0.12 volume rm thon-home-alice", "docker -H ssh://root@127.0.0.12 volume rm thon-workspace-alice"]);
    expect(readPlacementLock(lockFile)).toEqual({ alice: "n1", bob: "n1", carol: "n2" });
    expect(services.calls).toEqual(["scale thon-alice=0"]);
    expect(applied).toBe(1);
    expect(services.replicasOf.get("thon-alice")).toBe(1);
  });

  const unchanged = () => {
    expect(readPlacementLock(lockFile)).toEqual({ alice: "n2", bob: "n1", carol: "n2" });
    expect(applied).toBe(0);
    expect(services.replicasOf.get("thon-alice")).toBe(1);
    expect(volumes.files("n2", "thon-home-alice")).toBeDefined();
  };

  it("refuses an unknown node, an unknown user, the node they are on, naming the field; nothing changes", async () => {
    expect(await refusal(moveParticipant(deps, "alice", "n9"))).toMatchObject({ field: "to", message: expect.stringContaining("n9 is not a node of target.nodes (n1, n2, n3)") });
    expect(await refusal(moveParticipant(deps, "zed", "n1"))).toMatchObject({ field: "user", message: "there is no participant zed in thon.yaml" });
    expect(await refusal(moveParticipant(deps, "alice", "n2"))).toMatchObject({ field: "to", message: "alice is on n2 already" });
    unchanged();
    expect(services.calls).toEqual([]);
  });

  it("refuses when the destination lacks capacity", async () => {
    writePlacementLock(lockFile, { bob: "n3" });
    const full = { ...deps, assignment: { alice: "n2", bob: "n3", carol: "n3" } };
    const e = await refusal(moveParticipant(full, "alice", "n3"));
    expect(e.message).toBe("n3 lacks room: 4096 of 4096 MiB assigned, alice needs 2048 MiB more. Move someone off n3 first, or raise target.nodes[2].memory if the node has more");
    expect(services.calls).toEqual([]);
  });

  it("a copy that does not verify: scaled back, the partial copy removed, the lock untouched", async () => {
    volumes.lossyCopy = true;
    const e = await refusal(moveParticipant(deps, "alice", "n1"));
    expect(e.message).toMatch(/^copying alice's volumes from n2 to n1 failed \(the copy of thon-home-alice on n1 has 1 files, 2 bytes; n2 has 2 files, 9 bytes\); nothing moved, alice runs on n2 as before$/);
    expect(volumes.files("n1", "thon-home-alice")).toBeUndefined();
    expect(services.calls).toEqual(["scale thon-alice=0", "scale thon-alice=1"]);
    unchanged();
  });

  it("an unreachable destination, or a stale volume there, refuses before anything stops", async () => {
    volumes.unreachable.add("n1");
    expect((await refusal(moveParticipant(deps, "alice", "n1"))).message).toContain("cannot connect to the Docker daemon on n1");
    volumes.unreachable.clear();
    volumes.put("n1", "thon-workspace-alice", { old: "x" });
    expect((await refusal(moveParticipant(deps, "alice", "n1"))).message).toBe(
      "n1 already holds a volume thon-workspace-alice (left by an earlier move?); nothing moved. Remove it first if it is stale: docker -H ssh://root@127.0.0.11 volume rm thon-workspace-alice",
    );
    expect(services.calls).toEqual([]);
    unchanged();
  });
});

describe("thon nodes drain", () => {
  it("moves each participant of the node to the node with the most free memory, carrying their volumes; one apply", async () => {
    const r = await drainNode(deps, "n2");
    // alice first (name order): n1 has 6144 free, n3 4096: n1. carol: n1 4096, n3 4096: tie, by name n1.
    expect(r.moved.map((m) => `${m.user}->${m.to}`)).toEqual(["alice->n1", "carol->n1"]);
    expect(r.refused).toEqual([]);
    expect(readPlacementLock(lockFile)).toEqual({ alice: "n1", bob: "n1", carol: "n1" });
    expect(volumes.files("n1", "thon-home-carol")).toEqual({ ".bashrc": "# carol", ".local/share/code-server/settings.json": "{}" });
    expect(applied).toBe(1);
  });

  it("reports those that cannot move, and moves the others", async () => {
    const small: MoveDeps = { ...deps, target: { ...target, nodes: [{ name: "n1", address: "127.0.0.11", memory: 4096, labels: {} }, { name: "n2", address: "127.0.0.12", memory: 8192, labels: {} }] } };
    const r = await drainNode(small, "n2");
    expect(r.moved.map((m) => `${m.user}->${m.to}`)).toEqual(["alice->n1"]);
    // The planner's own refusal (infra/placement.ts), with the drained node left out.
    expect(r.refused).toEqual([{ user: "carol", message: expect.stringContaining("no node has 2048 MiB free for carol (used/capacity: n1 4096/4096 MiB)") }]);
    expect(readPlacementLock(lockFile)).toEqual({ alice: "n1", bob: "n1", carol: "n2" });
    expect(applied).toBe(1);
  });

  it("an unknown node is refused", async () => {
    expect((await refusal(drainNode(deps, "n7"))).field).toBe("node");
  });
});

describe("thon.placement.yaml", () => {
  it("is created with its header; a rewrite keeps comments and order, new users in name order", () => {
    const file = join(mkdtempSync(join(tmpdir(), "thon-lock-")), "thon.placement.yaml");
    writePlacementLock(file, { bob: "n1", alice: "n2" });
    expect(readFileSync(file, "utf8")).toBe(
      "# THON's record of which node holds each participant's home and workspace.\n# Written by thon; commit it with thon.yaml. Edit only through `thon users move-node`.\nplacement:\n  alice: n2\n  bob: n1\n",
    );
    writeFileSync(file, readFileSync(file, "utf8").replace("  bob: n1\n", "  bob: n1 # the GPU one\n"));
    writePlacementLock(file, { bob: "n3", aaron: "n1" });
    expect(readFileSync(file, "utf8")).toContain("placement:\n  alice: n2\n  bob: n3 # the GPU one\n  aaron: n1\n");
    expect(readPlacementLock(file)).toEqual({ alice: "n2", bob: "n3", aaron: "n1" });
    expect(readPlacementLock(join(file, "..", "absent.yaml"))).toEqual({});
  });
});

describe("the CLI on a single-host event", () => {
  it("thon nodes and thon users move-node refuse, naming target.kind, and exit 1", async () => {
    const { Command } = await import("commander");
    const { registerConsoleCommands } = await import("../../console/cli.ts");
    const { DockerStandIn, makeProject } = await import("../support/consoleFixture.ts");
    const fx = makeProject();
    try {
      for (const args of [["nodes"], ["users", "move-node", "alice", "--to", "n2", "--yes"], ["nodes", "drain", "n1"]]) {
        let err = "";
        const program = new Command();
        registerConsoleCommands(program, { cwd: fx.dir, docker: new DockerStandIn(), out: () => undefined, err: (t) => (err += t) });
        process.exitCode = 0;
        await program.parseAsync(["node", "thon", ...args]);
        expect(process.exitCode, args.join(" ")).toBe(1);
        expect(err, args.join(" ")).toMatch(/^thon: .*(one host|single|target\.kind: local)/);
      }
    } finally {
      process.exitCode = 0;
      fx.cleanup();
    }
  });
});
