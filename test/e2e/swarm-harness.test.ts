// The swarm harness and the engine stand-in's Swarm rules on a real swarm:
// three dockerds in namespaces (test/e2e/support/swarm.ts), the sandbox image
// imported on each, and one participant's Service (hand-written recorded
// resources, as the program would declare them per SWARM.md) applied through
// the translations (test/e2e/support/swarmTranslate.ts). It runs real
// code-server on n2, behind its node-local socket folder, with the password
// from a Swarm secret.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { codeServerArgs, SANDBOX_PATHS } from "../../infra/plan.ts";
import type { Evaluation } from "../../infra/preview/evaluate.ts";
import { thonMocks } from "../../infra/preview/providerOutputs.ts";
import { evaluation, recorded } from "../support/recorded.ts";
import { Engine, TYPES } from "./support/engine.ts";
import { login, waitHealthy } from "./support/http.ts";
import { requiredImage, RUN_LABEL, runId } from "./support/run.ts";
import { startSwarm, type Swarm } from "./support/swarm.ts";

const log = (line: string) => console.log(`[swarm-harness] ${line}`);
const PASSWORD = `pw-${runId}-only-in-the-secret`;
const USER = "alice";

/** What the program declares for one participant on node `node` (SWARM.md), as recorded resources. */
function participantOnNode(swarm: Swarm, node: string, replicas: number): Evaluation {
  const provider = recorded("pulumi:providers:docker", "swarm-manager", { host: swarm.manager.dockerHost });
  const socketDir = join(swarm.nodeDir("sockets"), USER);
  const sockets = recorded(TYPES.remoteCommand, `thon-sockets-${node}`, {
    connection: { host: swarm.node(node).address, user: "root", port: 22, privateKey: "(the stand-in does not dial SSH)", dialErrorLimit: 10, perDialTimeout: 15 },
    create: `mkdir -p '${socketDir}' && chown 1000:1000 '${socketDir}' && chmod 0750 '${socketDir}'`,
    delete: `rm -rf '${socketDir}'`,
  });
  const secret = recorded(TYPES.secret, `thon-password-secret-${USER}`, {
    name: `thon-password-secret-${USER}`,
    data: Buffer.from(PASSWORD).toString("base64"),
    labels: [{ label: "org.thon.user", value: USER }],
  }, { provider: provider.urn });
  const network = recorded(TYPES.network, "thon-net-swarm", { name: "thon-net-swarm", driver: "overlay", attachable: true }, { provider: provider.urn });
  // The secret's id under the preview's mocks, as the program passes secret.id (the stand-in maps it to the real id).
  const secretId = thonMocks.newResource({ type: secret.type, name: secret.name, inputs: secret.inputs, custom: true }).id;
  const volumeOptions = (purpose: string) => ({ driverName: "local", labels: [{ label: "org.thon.user", value: USER }, { label: "org.thon.purpose", value: purpose }] });
  const service = recorded(
    TYPES.service,
    `thon-${USER}`,
    {
      name: `thon-${USER}`,
      labels: [{ label: "org.thon.user", value: USER }],
      mode: { replicated: { replicas } },
      endpointSpec: { mode: "dnsrr" },
      updateConfig: { order: "stop-first" },
      taskSpec: {
        placement: { constraints: [`node.labels.org.thon.node==${node}`] },
        resources: { limits: { memoryBytes: 1024 * 1024 * 1024, nanoCpus: 1_000_000_000 } },
        networksAdvanceds: [{ name: "thon-net-swarm" }],
        containerSpec: {
          image: requiredImage(),
          user: "1000:1000",
          // Until the image's entrypoint reads PASSWORD_FILE (issue 18, program side), this
          // wrapper does: the password never is in the service's spec. It counts starts in the home.
          commands: ["/bin/sh", "-c", 'echo start >> "$HOME/starts"; PASSWORD=$(cat "$PASSWORD_FILE"); export PASSWORD; unset PASSWORD_FILE; exec /usr/bin/tini -s -- /usr/local/bin/thon-entrypoint "$@"', "thon-wrap"],
          args: codeServerArgs("password"),
          env: { PASSWORD_FILE: "/run/secrets/thon-password", HOME: SANDBOX_PATHS.home },
          stopGracePeriod: "10s",
          mounts: [
            { type: "volume", source: `thon-home-${USER}`, target: SANDBOX_PATHS.home, volumeOptions: volumeOptions("home") },
            { type: "volume", source: `thon-workspace-${USER}`, target: SANDBOX_PATHS.workspace, volumeOptions: volumeOptions("workspace") },
            { type: "bind", source: socketDir, target: SANDBOX_PATHS.socketDir },
          ],
          secrets: [{ secretId, secretName: secret.name, fileName: "/run/secrets/thon-password", fileUid: "1000", fileGid: "1000", fileMode: 0o400 }],
        },
      },
    },
    { provider: provider.urn, dependencies: [secret.urn, network.urn, sockets.urn] },
  );
  return evaluation([provider, sockets, secret, network, service]);
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
  const socket = () => join(swarm.hostDir("n2", "sockets"), USER, "code-server.sock");

  beforeAll(async () => {
    swarm = await startSwarm({ image: requiredImage(), nodeDirs: ["sockets"], log });
    // The program's per-node label command (`docker node update --label-add`), run on the manager.
    for (const n of swarm.nodes) {
      const r = await swarm.runOnNode("n1", `docker node update --label-add org.thon.node=${n.name} ${n.name}`);
      if (r.code !== 0) throw new Error(`labelling ${n.name}: ${r.stderr}`);
    }
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
  });
});
