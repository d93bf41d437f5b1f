// The whole swarm program (target.kind swarm) on a real swarm: a thon.yaml
// evaluated by the real program (infra/index.ts) under mocks, applied by the
// e2e engine stand-in (support/engine.ts and its Swarm rules) to four
// dockerds in namespaces (support/swarm.ts; n1..n3 in target.nodes, n4 joined
// but unused until the blast-radius test adds it). Each node runs a real
// nginx in its own namespaces with the files the program's NodeProxy and
// EdgeProxy write over command:remote (run on the node by the harness's
// remoteShell), reloaded by the program's own reload.sh. Then, from the
// outside: placement by label, volumes on their node only, stop/resume
// keeping the workspace, the password only as a secret, Chromium through the
// edge and a worker's nginx trusting only the event CA, a killed worker,
// adding a node and a participant moving nobody, and `thon users move-node`
// carrying a workspace to another node. Every step prints to the log; the
// swarm and the nginxes are removed in afterAll, also after a failure.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium } from "playwright-core";
import { Command } from "commander";
import { registerConsoleCommands } from "../../console/cli.ts";
import { parse } from "yaml";
import { evaluateEventFile } from "../../infra/cli/plan.ts";
import { loadEvent } from "../../infra/config/load.ts";
import { planEvent } from "../../infra/plan.ts";
import { diffEvaluations } from "../../infra/preview/diff.ts";
import type { Evaluation } from "../../infra/preview/evaluate.ts";
import { sandboxBackend } from "../../console/ops/backend.ts";
import { StatusService } from "../../console/ops/status.ts";
import { tlsStandIn } from "../support/tlsStandIn.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../support/browser.ts";
import { nginxBinary, stopGracefully } from "../support/nginx.ts";
import { Engine, TYPES } from "./support/engine.ts";
import { EngineStandInApplier } from "./support/engineApplier.ts";
import { writePulumiProject } from "./support/workdir.ts";
import { login, waitHealthy } from "./support/http.ts";
import { passwordOf } from "./support/event.ts";
import { requiredImage, RESULTS, RUN_LABEL, runId } from "./support/run.ts";
import { startSwarm, type Swarm } from "./support/swarm.ts";

const log = (line: string) => console.log(`[swarm] ${line}`);
const EVENT = `sw${runId}`;
const EDGE_PORT = 8443;
const NODE_PORT = 9443;
/** Five participants: two on n1, two on n2 (placed by memory), cy pinned to n3 by host:. */
const USERS = { ada: "red", bob: "red", cy: "red", dan: "blue", eve: "blue" } as const;
type User = keyof typeof USERS | "fay";

let swarm: Swarm;
let engine: Engine;
let dir: string;
let applied: Evaluation;
const nginx = new Map<string, ChildProcess>();

interface Spec {
  readonly nodes: readonly string[];
  readonly users: ReadonlyArray<{ name: User; group: string; state?: "stopped"; host?: string }>;
}

const BASE: Spec = { nodes: ["n1", "n2", "n3"], users: Object.entries(USERS).map(([name, group]) => ({ name: name as User, group, ...(name === "cy" ? { host: "n3" } : {}) })) };

function eventYaml(spec: Spec): string {
  const groups = new Map<string, string[]>();
  for (const u of spec.users) {
    const fields = [`name: ${u.name}`, ...(u.state ? [`state: ${u.state}`] : []), ...(u.host ? [`host: ${u.host}`] : [])];
    groups.set(u.group, [...(groups.get(u.group) ?? []), `      - { ${fields.join(", ")} }`]);
  }
  const thon = swarm.nodeDir("thon");
  const prefix = swarm.nodeDir("nginx");
  return `# Written by test/e2e/swarm.test.ts.
event:
  name: ${EVENT}
  host: ${swarm.node("n1").address}
sandbox:
  image: ${JSON.stringify(requiredImage())}
  network: none
  memory: 1GiB
  auth: password
proxy:
  httpsPort: ${EDGE_PORT}
  httpPort: 0
  listenAddress: ${swarm.node("n1").address}
  configDir: ${thon}/etc
  includeDir: ${thon}/conf.d
  socketDir: ${swarm.nodeDir("sockets")}
  accessLog: ${thon}/log/access.log
  socketGroup: www-data
  nginx: ${nginxBinary()} -p ${prefix}/ -c ${prefix}/nginx.conf
target:
  kind: swarm
  dockerHost: ${swarm.manager.dockerHost}
  entry: n1
  nodePort: ${NODE_PORT}
  ssh: { user: root, port: 22, privateKeyFile: ./id_ed25519 }
  nodes:
${spec.nodes.map((n) => `    - { name: ${n}, address: ${swarm.node(n).address}, memory: 3GiB }`).join("\n")}
groups:
${[...groups].map(([g, lines]) => `  ${g}:\n    users:\n${lines.join("\n")}`).join("\n")}
`;
}

/** Writes thon.yaml and evaluates the real program on it, as `pulumi up` would (the placement lock written). */
async function evaluateSpec(spec: Spec, writeLock = true): Promise<Evaluation> {
  writeFileSync(join(dir, "thon.yaml"), eventYaml(spec));
  return evaluateEventFile(join(dir, "thon.yaml"), "dev", tlsStandIn, writeLock);
}

/** The node the plan gives each participant. */
function plannedNodes(): Record<string, string> {
  const plan = planEvent(loadEvent(join(dir, "thon.yaml")));
  return Object.fromEntries(plan.participants.map((p) => [p.name, p.node!]));
}

/** user → hostnames of the nodes their service's running tasks are on. */
async function runningTasks(): Promise<Record<string, string[]>> {
  const api = swarm.docker("n1");
  const nodes = (await api.listNodes()) as Array<{ ID: string; Description: { Hostname: string } }>;
  const services = (await api.listServices({ filters: JSON.stringify({ label: [`org.thon.event=${EVENT}`] }) })) as Array<{ ID: string; Spec: { Name: string } }>;
  const tasks = (await api.listTasks({ filters: JSON.stringify({ "desired-state": ["running"] }) })) as Array<{ ServiceID: string; NodeID: string; Status: { State: string } }>;
  const out: Record<string, string[]> = {};
  for (const s of services) {
    out[s.Spec.Name.replace(/^thon-/, "")] = tasks
      .filter((t) => t.ServiceID === s.ID && t.Status.State === "running")
      .map((t) => nodes.find((n) => n.ID === t.NodeID)?.Description.Hostname ?? t.NodeID);
  }
  return out;
}

/** The id of the task running `user`'s service. */
async function runningTaskId(user: string): Promise<string> {
  const tasks = (await swarm.docker("n1").listTasks({ filters: JSON.stringify({ service: [`thon-${user}`], "desired-state": ["running"] }) })) as Array<{ ID: string; Status: { State: string } }>;
  const running = tasks.filter((t) => t.Status.State === "running");
  if (running.length !== 1) throw new Error(`${running.length} running tasks of thon-${user}`);
  return running[0]!.ID;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`not ${what} after ${timeoutMs} ms${last ? ` (last: ${String(last)})` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** THON_NODE_DOCKER_HOST_<NODE>: each node's engine at its socket (the console reaches nodes over SSH otherwise). */
function nodeEngineEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ...Object.fromEntries(swarm.nodes.map((n) => [`THON_NODE_DOCKER_HOST_${n.name.toUpperCase()}`, n.dockerHost])) };
}

/** The last lines of a log, for a failure's message. */
function tail(file: string, lines = 15): string {
  return existsSync(file) ? readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "(none)";
}

const socketOn = (node: string, user: string) => join(swarm.hostDir(node, "sockets"), user, "code-server.sock");

/** The running task's container of `user` on `node`'s engine. */
async function containerOf(node: string, user: string): Promise<string> {
  const list = await swarm.docker(node).listContainers({ filters: JSON.stringify({ label: [`com.docker.swarm.service.name=thon-${user}`] }) });
  if (list.length !== 1) throw new Error(`${list.length} running containers of thon-${user} on ${node}`);
  return list[0]!.Id;
}

async function execOn(node: string, user: string, script: string): Promise<string> {
  const r = await swarm.runOnNode(node, `docker exec -u 1000:1000 ${await containerOf(node, user)} sh -c '${script}'`);
  if (r.code !== 0) throw new Error(`docker exec on ${node} for ${user}: ${r.stderr}`);
  return r.stdout;
}

/** The node's nginx: Debian's binary inside the node's namespaces, its prefix a node-local folder, workers in the socket group. */
async function startNodeNginx(node: string): Promise<void> {
  const prefix = swarm.nodeDir("nginx");
  const host = swarm.hostDir(node, "nginx");
  mkdirSync(join(host, "tmp"), { recursive: true });
  mkdirSync(join(swarm.hostDir(node, "thon"), "conf.d"), { recursive: true });
  mkdirSync(join(swarm.hostDir(node, "thon"), "log"), { recursive: true });
  rmSync(join(host, "nginx.pid"), { force: true });
  const tmp = (name: string) => `    ${name}_temp_path ${prefix}/tmp/${name};`;
  writeFileSync(
    join(host, "nginx.conf"),
    [
      "user www-data www-data;",
      "worker_processes 1;",
      `pid ${prefix}/nginx.pid;`,
      `error_log ${prefix}/error.log info;`,
      "daemon off;",
      "events { worker_connections 256; }",
      "http {",
      ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(tmp),
      `    include ${swarm.nodeDir("thon")}/conf.d/*.conf;`,
      "}",
      "",
    ].join("\n"),
  );
  const [file, ...args] = swarm.nsenterArgs(node);
  const child = spawn(file!, [...args, nginxBinary(), "-p", `${prefix}/`, "-c", `${prefix}/nginx.conf`], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  nginx.set(node, child);
  await until(`nginx on ${node}`, 10_000, async () => {
    if (child.exitCode !== null) throw new Error(`nginx on ${node} exited: ${stderr}`);
    return existsSync(join(host, "nginx.pid")) ? true : undefined;
  });
}

async function stopNginx(node: string): Promise<void> {
  const child = nginx.get(node);
  nginx.delete(node);
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  // nsenter passes the signal on to nginx (its child).
  await stopGracefully(child);
}

/** GET through the edge from the hub (the nodes' link), trusting only the event CA; the HTTP status. */
async function edgeStatus(path: string): Promise<number> {
  const ca = join(dir, "event-ca.crt");
  const r = await swarm.runOnClient(`curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert '${ca}' 'https://${swarm.node("n1").address}:${EDGE_PORT}${path}'`);
  return Number(r.stdout.trim() || "0");
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `thon-e2e-swarm-${runId}-`));
  chmodSync(dir, 0o755);
  // Never dialled (the stand-in runs remote commands through the harness); the target reads the file.
  writeFileSync(join(dir, "id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key\n-----END OPENSSH PRIVATE KEY-----\n", { mode: 0o600 });
  writePulumiProject(dir);
  swarm = await startSwarm({ image: requiredImage(), nodes: 4, nodeDirs: ["sockets", "thon", "nginx"], log });
  // nginx's workers (www-data, the socket group) walk down to the sockets, as in the local e2e's workdir.
  for (const d of [swarm.root, join(swarm.root, "node")]) chmodSync(d, 0o755);
  for (const n of swarm.nodes) await startNodeNginx(n.name);
  engine = new Engine({ extraLabels: { [RUN_LABEL]: runId }, remote: swarm.remoteShell(), log: (l) => log(`engine: ${l}`) });
  applied = await evaluateSpec(BASE);
  writeFileSync(join(dir, "event-ca.crt"), String(applied.outputs.caCertPem));
  await engine.up(applied);
  const placed = plannedNodes();
  await Promise.all(Object.keys(USERS).map((u) => waitHealthy(socketOn(placed[u]!, u), 120_000)));
  let statuses: Record<string, number> = {};
  await until("every participant through the edge", 60_000, async () => {
    statuses = Object.fromEntries(await Promise.all(Object.keys(USERS).map(async (u) => [u, await edgeStatus(`/${u}/healthz`)] as const)));
    return Object.values(statuses).every((s) => s === 200) ? true : undefined;
  }).catch((err: Error) => {
    const logs = swarm.nodes.map((n) => `${n.name}: ${tail(join(swarm.hostDir(n.name, "nginx"), "error.log"))}`).join("\n");
    throw new Error(`${err.message}: ${JSON.stringify(statuses)}\n${logs}`);
  });
}, 300_000);

afterAll(async () => {
  for (const n of [...nginx.keys()]) await stopNginx(n).catch((err: Error) => log(`stopping nginx on ${n}: ${err.message}`));
  await swarm?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe("e2e: the whole swarm program on a real four-node swarm", () => {
  it("runs every participant's task on the node the plan assigned (by its label), and thon.placement.yaml records the same", async () => {
    const placed = plannedNodes();
    expect(placed).toEqual({ ada: "n1", bob: "n2", cy: "n3", dan: "n1", eve: "n2" });
    const tasks = await runningTasks();
    expect(tasks).toEqual(Object.fromEntries(Object.entries(placed).map(([u, n]) => [u, [n]])));
    const lock = parse(readFileSync(join(dir, "thon.placement.yaml"), "utf8")) as { placement: Record<string, string> };
    expect(lock.placement).toEqual(placed);
    // The label the constraint names is on that node (and on no other).
    const nodes = (await swarm.docker("n1").listNodes()) as Array<{ Description: { Hostname: string }; Spec: { Labels?: Record<string, string> } }>;
    for (const n of nodes) expect(n.Spec.Labels?.["org.thon.node"]).toBe(n.Description.Hostname === "n4" ? undefined : n.Description.Hostname);
  });

  it("creates each home and workspace volume on its node only", async () => {
    const placed = plannedNodes();
    for (const n of swarm.nodes) {
      const names = ((await swarm.docker(n.name).listVolumes()).Volumes ?? []).map((v) => v.Name).sort();
      const mine = Object.keys(placed).filter((u) => placed[u] === n.name);
      expect({ node: n.name, names }).toEqual({ node: n.name, names: mine.flatMap((u) => [`thon-home-${u}`, `thon-workspace-${u}`]).sort() });
    }
  });

  it("stops a participant (replicas 0, no task) and resumes them with their workspace kept", async () => {
    await execOn("n2", "bob", "echo kept > /workspace/notes.txt");
    const stopped = await evaluateSpec({ ...BASE, users: BASE.users.map((u) => (u.name === "bob" ? { ...u, state: "stopped" as const } : u)) });
    const diff = await engine.apply(applied, stopped);
    applied = stopped;
    expect(diff.names("update")).toContain(`${TYPES.service}::thon-bob`);
    const svc = (await swarm.docker("n1").getService("thon-bob").inspect()) as { Spec: { Mode: { Replicated: { Replicas: number } } } };
    expect(svc.Spec.Mode.Replicated.Replicas).toBe(0);
    await until("bob's task gone", 60_000, async () => ((await runningTasks()).bob!.length === 0 && (await swarm.docker("n2").listContainers({ filters: JSON.stringify({ label: ["com.docker.swarm.service.name=thon-bob"] }) })).length === 0 ? true : undefined));
    expect(await edgeStatus("/bob/healthz")).toBe(502);
    const resumed = await evaluateSpec(BASE);
    await engine.apply(applied, resumed);
    applied = resumed;
    expect(await until("bob running", 60_000, async () => ((await runningTasks()).bob!.length === 1 ? (await runningTasks()).bob : undefined))).toEqual(["n2"]);
    await waitHealthy(socketOn("n2", "bob"), 60_000);
    expect((await execOn("n2", "bob", "cat /workspace/notes.txt")).trim()).toBe("kept");
  }, 180_000);

  it("keeps the password out of docker service inspect and the service's env, and signing in with it works", async () => {
    const password = passwordOf(applied, "eve");
    const inspect = await swarm.runOnNode("n1", `docker service inspect thon-eve`);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).not.toContain(password);
    expect(inspect.stdout).not.toContain(Buffer.from(password).toString("base64"));
    const spec = (JSON.parse(inspect.stdout) as Array<{ Spec: { TaskTemplate: { ContainerSpec: { Env?: string[]; Secrets?: Array<{ File: { Name: string } }> } } } }>)[0]!.Spec.TaskTemplate.ContainerSpec;
    expect((spec.Env ?? []).filter((e) => e.startsWith("PASSWORD="))).toEqual([]);
    expect(spec.Secrets?.map((s) => s.File.Name)).toContain("/run/secrets/thon-password");
    expect((await login(socketOn("n2", "eve"), "wrong")).cookie).toBeUndefined();
    expect((await login(socketOn("n2", "eve"), password)).cookie).toBeDefined();
  });

  it("in Chromium trusting only the event CA, reaches a worker's participant through the edge on n1 and n2's nginx", async () => {
    // Chromium runs in the hub namespace (the nodes' link), where the edge's address is: a wrapper enters it.
    const wrapper = join(dir, "chromium-in-hub.sh");
    writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=/run/netns/${swarm.netns("hub")} -- ${CHROMIUM_PATH} "$@"\n`, { mode: 0o755 });
    const home = join(dir, "chromium-home");
    const nssdb = join(home, ".pki", "nssdb");
    mkdirSync(nssdb, { recursive: true });
    execFileSync("certutil", ["-d", `sql:${nssdb}`, "-N", "--empty-password"]);
    execFileSync("certutil", ["-d", `sql:${nssdb}`, "-A", "-t", "C,,", "-n", "THON swarm e2e event CA", "-i", join(dir, "event-ca.crt")]);
    const launch = (h: string) => chromium.launch({ executablePath: wrapper, headless: true, args: CHROMIUM_ARGS.filter((a) => a !== "--headless"), env: { ...process.env, HOME: h }, timeout: 60_000 });
    // Without the event CA, the same browser refuses the edge: trust is not switched off.
    const untrusting = join(dir, "chromium-untrusting");
    mkdirSync(untrusting);
    const plain = await launch(untrusting);
    try {
      await expect((await plain.newPage()).goto(`https://${swarm.node("n1").address}:${EDGE_PORT}/bob/`, { timeout: 30_000 })).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await plain.close().catch(() => undefined);
    }
    const browser = await launch(home);
    try {
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
      const base = `https://${swarm.node("n1").address}:${EDGE_PORT}/bob/`;
      const sockets: { url: string; frames: number }[] = [];
      page.on("websocket", (ws) => {
        const entry = { url: ws.url(), frames: 0 };
        sockets.push(entry);
        ws.on("framereceived", () => void entry.frames++);
      });
      await page.goto(base, { timeout: 60_000 });
      expect(page.url()).toContain("/bob/login");
      await page.locator("input[type=password]").fill(passwordOf(applied, "bob"));
      await page.locator("input[type=submit], button[type=submit]").first().click();
      await page.locator(".monaco-workbench").waitFor({ timeout: 90_000 });
      // The explorer lists bob's workspace (the file from the stop/resume test) over the remote connection.
      await page.getByText("notes.txt").first().waitFor({ timeout: 60_000 });
      // The workbench's WebSockets passed both hops (edge, then n2's nginx) and carry frames.
      const live = sockets.filter((w) => w.url.startsWith(`wss://${swarm.node("n1").address}:${EDGE_PORT}/bob/`) && w.frames > 0);
      expect(live.length, JSON.stringify(sockets)).toBeGreaterThan(0);
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: join(dir, "swarm-workbench.png") });
      await page.screenshot({ path: join(RESULTS, "e2e-swarm-workbench.png") });
      expect(existsSync(join(dir, "swarm-workbench.png"))).toBe(true);
    } finally {
      await browser.close().catch(() => undefined);
    }
    // The requests went through n2's nginx (its node server's access log has them), and n3's saw none of bob's.
    const nodeLog = (node: string) => join(swarm.hostDir(node, "thon"), "log", "access.node.log");
    await until("bob's requests in n2's node log", 5_000, async () => (readFileSync(nodeLog("n2"), "utf8").includes("GET /bob/") ? true : undefined));
    expect(existsSync(nodeLog("n3")) ? readFileSync(nodeLog("n3"), "utf8") : "").not.toContain("/bob/");
  }, 240_000);

  it("a killed worker takes down only its participants (host-down in the console), and they come back with their files", async () => {
    await execOn("n3", "cy", "echo survives > /workspace/cy.txt");
    // The console's own path: its backend for target.kind swarm (the manager's
    // engine; each node's engine at its socket, the documented override) and the status service.
    const event = loadEvent(join(dir, "thon.yaml"));
    const status = new StatusService(sandboxBackend(event, nodeEngineEnv()).sandboxes, { healthzTimeoutMs: 1_000 });
    const plans = planEvent(event).participants;
    let last: Record<string, string> = {};
    const states = async () => (last = Object.fromEntries([...(await status.refresh(EVENT, plans)).values()].map((l) => [l.name, l.container.state])));
    await swarm.killNode("n3");
    nginx.delete("n3"); // died with the node
    const down = await until("cy host-down", 90_000, async () => ((await states()).cy === "host-down" ? last : undefined)).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(last)}`);
    });
    expect(down).toEqual({ ada: "running", bob: "running", cy: "host-down", dan: "running", eve: "running" });
    for (const u of ["ada", "bob", "dan", "eve"]) expect(await edgeStatus(`/${u}/healthz`), u).toBe(200);
    expect(await edgeStatus("/cy/healthz")).toBe(502);
    await swarm.restartNode("n3");
    await startNodeNginx("n3");
    await until("cy running again", 90_000, async () => ((await states()).cy === "running" ? true : undefined));
    await waitHealthy(socketOn("n3", "cy"), 90_000);
    expect((await execOn("n3", "cy", "cat /workspace/cy.txt")).trim()).toBe("survives");
    expect((await runningTasks()).cy).toEqual(["n3"]);
    // n3's nginx came back with the node (a real node starts it at boot; here the test does) and the edge reaches cy again.
    await until("cy through the edge", 30_000, async () => ((await edgeStatus("/cy/healthz")) === 200 ? true : undefined));
  }, 240_000);

  it("adding a node and a participant changes no existing participant's resources, and applying it moves nobody's task", async () => {
    const before = await runningTasks();
    const grown = await evaluateSpec({ nodes: [...BASE.nodes, "n4"], users: [...BASE.users, { name: "fay", group: "blue" }] });
    const diff = diffEvaluations(applied, grown);
    // Every resource of an existing participant carries their name as a segment (thon-ada, thon-password-secret-ada, thon-files-ada-settings, ...).
    const existing = new RegExp(`(^|-)(${Object.keys(USERS).join("|")})(-|$)`);
    expect(applied.resources.filter((r) => existing.test(r.name)).length).toBeGreaterThan(5 * 8);
    const touched = diff.changes.filter((c) => existing.test(c.name));
    expect(touched.map((c) => `${c.kind} ${c.type}::${c.name}`)).toEqual([]);
    expect(diff.counts.delete).toBe(0);
    expect(diff.counts.replace).toBe(0);
    log(`blast radius of n4 and fay: ${diff.changes.map((c) => `${c.kind} ${c.name}`).join(", ")}`);
    const taskIds = async () => Object.fromEntries(await Promise.all(Object.keys(USERS).map(async (u) => [u, await runningTaskId(u)] as const)));
    const idsBefore = await taskIds();
    await engine.apply(applied, grown);
    applied = grown;
    const after = await until("fay running", 90_000, async () => {
      const t = await runningTasks();
      return t.fay?.length === 1 ? t : undefined;
    });
    expect(after).toEqual({ ...before, fay: ["n4"] });
    // Not moved, and not restarted in place either: the same tasks run.
    expect(await taskIds()).toEqual(idsBefore);
    expect(plannedNodes().fay).toBe("n4");
  }, 240_000);

  it("thon users move-node carries a workspace from n2 to n3 for real: the volumes copied and verified, the lock and the task follow", async () => {
    await execOn("n2", "eve", "echo carried > /workspace/moved.txt");
    // The CLI as an organizer runs it, in the project folder; the engine stand-in applies, each node's engine at its socket.
    const applier = new EngineStandInApplier(engine, join(dir, "thon.yaml"), applied);
    const program = new Command().exitOverride();
    let out = "";
    let err = "";
    registerConsoleCommands(program, { cwd: dir, env: nodeEngineEnv(), applier, out: (t) => (out += t), err: (t) => (err += t) });
    const exitBefore = process.exitCode;
    process.exitCode = undefined;
    try {
      await program.parseAsync(["node", "thon", "users", "move-node", "eve", "--to", "n3", "--yes"]);
      expect({ code: process.exitCode ?? 0, err }).toEqual({ code: 0, err: "" });
    } finally {
      process.exitCode = exitBefore;
    }
    applied = applier.current;
    expect(out).toMatch(/^moved eve from n2 to n3$/m);
    expect(out).toMatch(/thon-workspace-eve: \d+ files, \d+ bytes, verified on n3/);
    const lock = parse(readFileSync(join(dir, "thon.placement.yaml"), "utf8")) as { placement: Record<string, string> };
    expect(lock.placement.eve).toBe("n3");
    expect(plannedNodes().eve).toBe("n3");
    expect(await until("eve on n3", 90_000, async () => ((await runningTasks()).eve?.[0] === "n3" ? (await runningTasks()).eve : undefined))).toEqual(["n3"]);
    await waitHealthy(socketOn("n3", "eve"), 90_000);
    expect((await execOn("n3", "eve", "cat /workspace/moved.txt")).trim()).toBe("carried");
    // The copies on n2 are kept (the organizer removes them); the new ones are on n3.
    for (const n of ["n2", "n3"]) {
      const names = ((await swarm.docker(n).listVolumes()).Volumes ?? []).map((v) => v.Name);
      expect(names).toEqual(expect.arrayContaining(["thon-home-eve", "thon-workspace-eve"]));
    }
    await until("eve through the edge", 30_000, async () => ((await edgeStatus("/eve/healthz")) === 200 ? true : undefined));
  }, 240_000);
});
