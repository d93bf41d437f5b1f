// The console's swarm backend (console/ops/swarm.ts) through real dockerode
// against the Engine API stand-in's swarm manager (test/support): status per
// participant with its node, host down distinct from crashed and stopped,
// replicas 0 as stopped, the per-node summary, restart as a forced update,
// scale, and service logs.
import Docker from "dockerode";
import { afterEach, describe, expect, it } from "vitest";
import { sandboxBackend } from "../../console/ops/backend.ts";
import { DockerodeSandboxes } from "../../console/ops/docker.ts";
import { parkParticipant } from "../../console/idle/park.ts";
import { MemoryParkRecords } from "../../console/idle/records.ts";
import { SwarmSandboxes, swarmIdleDocker, serviceFacts, nodeSummary, type SwarmNode, type SwarmService, type SwarmTask } from "../../console/ops/swarm.ts";
import { StatusService } from "../../console/ops/status.ts";
import type { ParticipantPlan } from "../../infra/plan.ts";
import { standInNode, standInService, startEngineStandIn, type EngineStandIn, type SwarmState } from "../support/dockerEngineStandIn.ts";

const GiB = 2 ** 30;
let engine: EngineStandIn | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

async function swarmOf(): Promise<{ swarm: SwarmState; backend: SwarmSandboxes }> {
  const swarm: SwarmState = { nodes: [standInNode("n1", 64 * GiB), standInNode("n2", 24 * GiB), standInNode("n3", 24 * GiB)], services: [], tasks: [], logs: { "thon-alice": ["one", "two", "three"] } };
  standInService(swarm, "ev", "alice", "n2");
  standInService(swarm, "ev", "bob", "n1");
  standInService(swarm, "ev", "carol", "n2", 0);
  standInService(swarm, "other", "dave", "n2"); // another event's service on the same swarm
  engine = await startEngineStandIn({ swarm });
  return { swarm, backend: new SwarmSandboxes(new Docker({ socketPath: engine.socketPath }), undefined, 0) };
}

const plan = (name: string, state: "running" | "stopped" = "running") => ({ name, state, socketHostPath: `/nonexistent/thon-${name}.sock` }) as unknown as ParticipantPlan;

describe("swarm status through the manager", () => {
  it("lists the event's services only, with each participant's node; replicas 0 reads as stopped", async () => {
    const { backend } = await swarmOf();
    const listed = await backend.list("ev");
    expect(listed.map((l) => `${l.user}:${l.state}`).sort()).toEqual(["alice:running", "bob:running", "carol:exited"]);
    const status = await new StatusService(backend, { healthzTimeoutMs: 100 }).refresh("ev", [plan("alice"), plan("bob"), plan("carol", "stopped")]);
    expect(status.get("alice")).toMatchObject({ node: "n2", container: { state: "running" } });
    expect(status.get("bob")).toMatchObject({ node: "n1", container: { state: "running" } });
    expect(status.get("carol")).toMatchObject({ node: "n2", container: { state: "exited" }, summary: "stopped, as thon.yaml says" });
  });

  it("a node that goes down reads as host down for its participants only, with the node's name", async () => {
    const { swarm, backend } = await swarmOf();
    const n2 = swarm.nodes.find((n) => n.Description.Hostname === "n2")!;
    n2.Status = { State: "down", Addr: "127.0.0.1", Message: "heartbeat failure" };
    const status = await new StatusService(backend, { healthzTimeoutMs: 100 }).refresh("ev", [plan("alice"), plan("bob"), plan("carol", "stopped")]);
    expect(status.get("alice")!.container).toMatchObject({ state: "host-down", hostDown: "node n2 is down (heartbeat failure)" });
    expect(status.get("alice")!.summary).toMatch(/^host down: node n2 is down/);
    expect(status.get("bob")!.container.state).toBe("running");
    // Stopped on purpose: still stopped, not host down.
    expect(status.get("carol")!.container.state).toBe("exited");
  });

  it("an orphaned task reads as host down; failed tasks count as restarts; an OOM error is OOM", () => {
    const nodes = new Map<string, SwarmNode>([["N1", { ID: "N1", Description: { Hostname: "n1" }, Status: { State: "ready" } }]]);
    const service: SwarmService = { ID: "S", Version: { Index: 1 }, Spec: { Name: "thon-a", Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: { Placement: { Constraints: ["node.labels.org.thon.node==n1"] } } } };
    const task = (i: number, state: string, desired: string, err?: string): SwarmTask => ({ ID: `t${i}`, ServiceID: "S", NodeID: "N1", Version: { Index: i }, DesiredState: desired, Status: { State: state, ...(err ? { Err: err } : {}), ContainerStatus: { ExitCode: state === "failed" ? 137 : 0 } } });
    expect(serviceFacts(service, [task(1, "orphaned", "running")], nodes)).toMatchObject({ hostDown: "node n1 does not report the task (task orphaned)", running: false });
    const crashed = serviceFacts(service, [task(1, "failed", "shutdown"), task(2, "failed", "shutdown", "task: non-zero exit (137): OOM killed"), task(3, "starting", "running")], nodes);
    expect(crashed).toMatchObject({ status: "restarting", restartCount: 2, oomKilled: true, node: "n1" });
    expect(crashed.hostDown).toBeUndefined();
  });

  it("the per-node summary: state, availability, participants, assigned memory and capacity", async () => {
    const { swarm, backend } = await swarmOf();
    swarm.nodes[2]!.Spec.Availability = "drain";
    const nodes = await new StatusService(backend).nodes("ev");
    expect(nodes).toEqual([
      { node: "n1", state: "ready", availability: "active", participants: 1, running: 1, memoryAssignedBytes: 2 * GiB, memoryBytes: 64 * GiB },
      { node: "n2", state: "ready", availability: "active", participants: 2, running: 1, memoryAssignedBytes: 2 * GiB, memoryBytes: 24 * GiB },
      { node: "n3", state: "ready", availability: "drain", participants: 0, running: 0, memoryAssignedBytes: 0, memoryBytes: 24 * GiB },
    ]);
    expect(nodeSummary([], [])).toEqual([]);
  });

  it("restart is a forced update: a new task on the same node; scale 0 and 1 stop and start it", async () => {
    const { swarm, backend } = await swarmOf();
    const alice = swarm.services.find((s) => s.Spec.Name === "thon-alice")!;
    const before = swarm.tasks.find((t) => t.ServiceID === alice.ID && t.DesiredState === "running")!;
    await backend.restart(alice.ID);
    expect(alice.Spec.TaskTemplate.ForceUpdate).toBe(1);
    const after = swarm.tasks.find((t) => t.ServiceID === alice.ID && t.DesiredState === "running")!;
    expect(after.ID).not.toBe(before.ID);
    expect(after.NodeID).toBe(before.NodeID);
    await backend.scale("thon-alice", 0);
    expect((await backend.inspect(alice.ID))!.status).toBe("exited");
    await backend.scale("thon-alice", 1);
    expect((await backend.inspect(alice.ID))!).toMatchObject({ status: "running", node: "n2" });
    expect(await backend.inspect("no-such-service")).toBeUndefined();
  });

  it("logs are the service's logs", async () => {
    const { swarm, backend } = await swarmOf();
    const alice = swarm.services.find((s) => s.Spec.Name === "thon-alice")!;
    expect(await backend.logs(alice.ID, 2)).toEqual(["two", "three"]);
  });
});

describe("the backend is chosen by target.kind", () => {
  it("local: containers; swarm: services through the manager, idle parking as replicas 0/1", async () => {
    expect(sandboxBackend({ target: { kind: "local", dockerHost: "unix:///var/run/docker.sock" } } as never, {}).sandboxes).toBeInstanceOf(DockerodeSandboxes);
    const { swarm } = await swarmOf();
    const target = { kind: "swarm", dockerHost: engine!.dockerHost, ssh: { user: "root" }, nodes: [{ name: "n1", address: "127.0.0.1", memory: 65536 }] };
    const b = sandboxBackend({ target } as never, {});
    expect(b.sandboxes).toBeInstanceOf(SwarmSandboxes);
    expect((await b.sandboxes.list("ev")).length).toBe(3);
    const store = new MemoryParkRecords();
    const alice = swarm.services.find((s) => s.Spec.Name === "thon-alice")!;
    const parked = await parkParticipant(b.idle, { name: "alice", state: "running", containerName: "thon-alice", socketHostPath: "/nonexistent/a.sock" }, store, "idle");
    expect(parked.containerId).toBe(alice.ID);
    expect(alice.Spec.Mode.Replicated.Replicas).toBe(0);
    expect(await b.idle.inspect("thon-alice")).toMatchObject({ id: alice.ID, running: false });
    await b.idle.start("thon-alice");
    expect(await b.idle.inspect("thon-alice")).toMatchObject({ id: alice.ID, running: true });
    // CPU needs the node's own engine; none is reachable here, so it says so instead of guessing 0.
    await expect(swarmIdleDocker(b.swarm!).cpuPercent("thon-alice")).rejects.toThrow("the engine of node n2 is not reachable from here");
  });
});

describe("what a move asks of the services", () => {
  it("replicas, and waiting until no task runs after a scale to 0; thon nodes prints one line per node", async () => {
    const { backend } = await swarmOf();
    expect(await backend.replicas("thon-alice")).toBe(1);
    expect(await backend.replicas("thon-nobody")).toBeUndefined();
    await expect(backend.waitStopped("thon-alice", 50, 10)).rejects.toThrow("thon-alice still has a running task after 0 s");
    await backend.scale("thon-alice", 0);
    await backend.waitStopped("thon-alice", 1000, 10);
    const { formatNodes } = await import("../../console/ops/nodeCommands.ts");
    expect(formatNodes(await backend.nodes("ev"))).toBe(
      [
        "NODE  STATE  AVAILABILITY  RUNNING  MEMORY (ASSIGNED / NODE)",
        "n1    ready  active        1/1      2.0 GiB / 64.0 GiB",
        "n2    ready  active        0/2      0.0 GiB / 24.0 GiB",
        "n3    ready  active        0/0      0.0 GiB / 24.0 GiB",
        "",
      ].join("\n"),
    );
  });
});
