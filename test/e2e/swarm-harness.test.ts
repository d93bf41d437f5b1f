// The swarm harness and the engine stand-in's Swarm rules on a real swarm:
// three dockerds in namespaces (test/e2e/support/swarm.ts), the sandbox image
// imported on each, and one participant's Service (hand-written recorded
// resources, as the program would declare them per SWARM.md) applied through
// the translations (test/e2e/support/swarmTranslate.ts). It runs real
// code-server on n2, behind its node-local socket folder, with the password
// from a Swarm secret.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Evaluation } from "../../infra/preview/evaluate.ts";
import { evaluation } from "../support/recorded.ts";
import { Engine, TYPES } from "./support/engine.ts";
import { login, waitHealthy } from "./support/http.ts";
import { requiredImage, RUN_LABEL, runId } from "./support/run.ts";
import { startSwarm, sweepSwarms, SWARM_PREFIX, type Swarm } from "./support/swarm.ts";
import { labelNodes, participantSocket, swarmBase, swarmParticipant } from "./support/swarmParticipant.ts";

const log = (line: string) => console.log(`[swarm-harness] ${line}`);
const PASSWORD = `pw-${runId}-only-in-the-secret`;
const USER = "alice";

/** What the program declares for one participant on node `node` (SWARM.md), as recorded resources. */
function participantOnNode(swarm: Swarm, node: string, replicas: number): Evaluation {
  const base = swarmBase(swarm);
  return evaluation([base.provider, base.network, ...swarmParticipant(swarm, base, { user: USER, node, replicas, password: PASSWORD, image: requiredImage() })]);
}

/** The nodes the service's running tasks are on, by hostname. */
async function runningOn(swarm: Swarm): Promise<string[]> {
  const api = swarm.docker("n1");
  const nodes = (await api.listNodes()) as Array<{ ID: string; Description: { Hostname: string } }>;
  const tasks = (await api.listTasks({ filters: JSON.stringify({ service: [`thon-${USER}`], "desired-state": ["running"] }) })) as Array<{ NodeID: string; Status: { State: string } }>;
  return tasks.filter((t) => t.Status.State === "running").map((t) => nodes.find((n) => n.ID === t.NodeID)?.Description.Hostname ?? t.NodeID);
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not ${what} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("a real three-node swarm in namespaces, driven through the engine stand-in's Swarm rules", () => {
  let swarm: Swarm;
  let engine: Engine;
  let applied: Evaluation;
  const socket = () => participantSocket(swarm, "n2", USER);

  beforeAll(async () => {
    swarm = await startSwarm({ image: requiredImage(), nodeDirs: ["sockets"], log });
    await labelNodes(swarm);
    engine = new Engine({ extraLabels: { [RUN_LABEL]: runId }, remote: swarm.remoteShell(), log });
    applied = participantOnNode(swarm, "n2", 1);
    await engine.up(applied);
  });

  afterAll(async () => {
    await swarm?.close();
  });

  it("forms one manager and two workers on loopback-range addresses, each its own hostname", async () => {
    const nodes = (await swarm.docker("n1").listNodes()) as Array<{ Description: { Hostname: string }; Status: { State: string; Addr: string }; Spec: { Role: string } }>;
    const seen = nodes.map((n) => [n.Description.Hostname, n.Spec.Role, n.Status.State, n.Status.Addr]).sort();
    expect(seen).toEqual([
      ["n1", "manager", "ready", "127.77.0.1"],
      ["n2", "worker", "ready", "127.77.0.2"],
      ["n3", "worker", "ready", "127.77.0.3"],
    ]);
    for (const n of swarm.nodes) expect((await swarm.runOnNode(n.name, "hostname")).stdout.trim()).toBe(n.name);
  });

  it("runs the service on the labelled node only, with code-server behind that node's own socket folder", async () => {
    expect(await until("running", 60_000, async () => ((await runningOn(swarm)).length === 1 ? runningOn(swarm) : undefined))).toEqual(["n2"]);
    await waitHealthy(socket(), 60_000);
    // The same in-node path on the other nodes is another folder: empty.
    for (const n of ["n1", "n3"]) expect(existsSync(join(swarm.hostDir(n, "sockets"), USER))).toBe(false);
  });

  it("creates the home and workspace volumes on that node only, from the service's mounts", async () => {
    for (const n of swarm.nodes) {
      const volumes = ((await swarm.docker(n.name).listVolumes()).Volumes ?? []).map((v) => v.Name).sort();
      expect({ node: n.name, volumes }).toEqual({ node: n.name, volumes: n.name === "n2" ? [`thon-home-${USER}`, `thon-workspace-${USER}`] : [] });
    }
    const home = await swarm.docker("n2").getVolume(`thon-home-${USER}`).inspect();
    expect(home.Labels).toMatchObject({ "org.thon.user": USER, "org.thon.purpose": "home" });
    expect(readFileSync(swarm.hostPath("n2", join(home.Mountpoint, "starts")), "utf8")).toBe("start\n");
  });

  it("gives code-server the password from the secret, which docker service inspect never shows", async () => {
    expect((await login(socket(), "wrong")).cookie).toBeUndefined();
    expect((await login(socket(), PASSWORD)).cookie).toBeDefined();
    const inspect = await swarm.runOnNode("n1", `docker service inspect thon-${USER}; docker secret inspect thon-password-secret-${USER}`);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain("thon-password-secret-alice");
    expect(inspect.stdout).not.toContain(PASSWORD);
    expect(inspect.stdout).not.toContain(Buffer.from(PASSWORD).toString("base64"));
  });

  it("stops with replicas 0 and resumes with 1 on the same node, the home kept", async () => {
    const stopped = participantOnNode(swarm, "n2", 0);
    const diff = await engine.apply(applied, stopped);
    expect(diff.names("update")).toEqual([`${TYPES.service}::thon-${USER}`]);
    expect(diff.counts).toMatchObject({ create: 0, delete: 0, replace: 0 });
    applied = stopped;
    await until("stopped", 60_000, async () => ((await runningOn(swarm)).length === 0 ? true : undefined));
    // The task's container is gone from n2, not only marked for shutdown.
    await until("the container gone", 60_000, async () => ((await swarm.docker("n2").listContainers()).length === 0 ? true : undefined));
    await expect(waitHealthy(socket(), 1_000)).rejects.toThrow(/not healthy/);
    const resumed = participantOnNode(swarm, "n2", 1);
    await engine.apply(applied, resumed);
    applied = resumed;
    expect(await until("resumed", 60_000, async () => ((await runningOn(swarm)).length === 1 ? runningOn(swarm) : undefined))).toEqual(["n2"]);
    await waitHealthy(socket(), 60_000);
    const home = await swarm.docker("n2").getVolume(`thon-home-${USER}`).inspect();
    expect(readFileSync(swarm.hostPath("n2", join(home.Mountpoint, "starts")), "utf8")).toBe("start\nstart\n");
  });

  it("loses n3 whole when it is killed, leaves n2's participant running, and takes n3 back on restart", async () => {
    const before = swarm.nodeMemory("n3");
    expect(before.dockerdBytes).toBeGreaterThan(0);
    expect(before.containerdBytes).toBeGreaterThan(0);
    await swarm.killNode("n3");
    expect(() => swarm.nodeMemory("n3")).toThrow(/no running dockerd/);
    const api = swarm.docker("n1");
    const state = async (name: string) => ((await api.listNodes()) as Array<{ Description: { Hostname: string }; Status: { State: string } }>).find((n) => n.Description.Hostname === name)?.Status.State;
    await until("n3 down", 60_000, async () => ((await state("n3")) === "down" ? true : undefined));
    expect(await runningOn(swarm)).toEqual(["n2"]);
    await waitHealthy(socket(), 5_000);
    await swarm.restartNode("n3");
    expect(await state("n3")).toBe("ready");
    expect((await swarm.runOnNode("n3", "docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.NodeAddr}}'")).stdout.trim()).toBe("active 127.77.0.3");
  });

  it("deletes the service, secret and network through the stand-in and leaves the volumes on their node", async () => {
    await engine.apply(applied, evaluation([]));
    const api = swarm.docker("n1");
    expect(await api.listServices()).toEqual([]);
    expect(await api.listSecrets()).toEqual([]);
    await until("the task gone", 30_000, async () => ((await swarm.docker("n2").listContainers({ all: true })).length === 0 ? true : undefined));
    expect(((await swarm.docker("n2").listVolumes()).Volumes ?? []).map((v) => v.Name).sort()).toEqual([`thon-home-${USER}`, `thon-workspace-${USER}`]);
    expect(existsSync(join(swarm.hostDir("n2", "sockets"), USER))).toBe(false);
    await until("the overlay gone", 30_000, async () => ((await api.listNetworks({ filters: JSON.stringify({ name: ["thon-net-swarm"] }) })).length === 0 ? true : undefined));
  });
});

/** Everything on this machine that carries swarm `id`'s name: namespaces, its record, mounts, cgroups, processes in its namespaces. */
function leftovers(id: string, root: string): string[] {
  const found: string[] = [];
  const tag = `${SWARM_PREFIX}${id}`;
  if (existsSync("/run/netns")) found.push(...readdirSync("/run/netns").filter((n) => n.startsWith(tag)).map((n) => `netns ${n}`));
  if (existsSync(`/run/thon-swarm/${id}.json`)) found.push("record");
  if (existsSync(root)) found.push(`folder ${root}`);
  if (readFileSync("/proc/self/mountinfo", "utf8").includes(root)) found.push("mounts");
  for (const ctrl of readdirSync("/sys/fs/cgroup")) if (existsSync(`/sys/fs/cgroup/${ctrl}/${tag}-n1`)) found.push(`cgroup ${ctrl}`);
  return found;
}

/** Host pids of the dockerds of swarm `id` (their cgroup parent carries its name). */
function dockerdsOf(id: string): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, "utf8").trim() === "dockerd" && readFileSync(`/proc/${p}/cmdline`, "utf8").includes(`${SWARM_PREFIX}${id}-n`);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

describe("the swarm harness cleans up after failures", () => {
  it("removes what a setup that fails halfway made (here: an image the main engine does not have)", async () => {
    const seen: string[] = [];
    await expect(startSwarm({ image: `thon-no-such-image:${runId}`, log: (l) => seen.push(l) })).rejects.toThrow(/docker save thon-no-such-image/);
    const formed = seen.map((l) => /swarm: (\w+) formed .* in (\/\S+)$/.exec(l)).find(Boolean);
    expect(formed).toBeTruthy();
    expect(leftovers(formed![1]!, formed![2]!)).toEqual([]);
  });

  it("kills the nodes with their crashed owner, and the next start sweeps the rest", async () => {
    const script = `import("${join(import.meta.dirname, "support/swarm.ts")}").then(async (m) => { const s = await m.startSwarm({ runId: "crash" }); console.log("READY " + s.id + " " + s.root); });`;
    const child = spawn(process.execPath, ["--import", "tsx", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const ready = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        const m = /READY (\S+ \S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on("exit", (code) => reject(new Error(`the owner exited ${code} before the swarm was ready`)));
    });
    const [id, root] = ready.split(" ") as [string, string];
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    // The nodes died with their owner (setpriv --pdeathsig, unshare --kill-child): no dockerd of theirs is left.
    await until("the nodes dead", 10_000, async () => (dockerdsOf(id).length === 0 ? true : undefined));
    expect(leftovers(id, root).length).toBeGreaterThan(0);
    const removed = await sweepSwarms();
    expect(removed.some((r) => r.startsWith(`swarm ${id} `))).toBe(true);
    expect(leftovers(id, root)).toEqual([]);
  });
});
