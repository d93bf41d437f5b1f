// The organizer console's figures, on a real Docker engine with the e2e
// image (thon-sandbox:offline) and real code-server sandboxes:
//
// 1. Live status for N running sandboxes: one refresh of the console's
//    StatusService (one container list, inspect + one-shot stats per
//    container, /healthz on each participant's socket; 16 at a time), wall
//    time and CPU, side by side with the floor measured in the same run:
//    `docker ps` with the event's label plus a loop of /healthz requests over
//    the same sockets. Extrapolated to 300 with a linear model fitted on the
//    measured N: t(N) = fixed + per-participant * N.
// 2. Console footprint: `thon console` on a unix socket, idle: RSS and CPU
//    over 10 s (from /proc).
// 3. One declarative operation (stop one participant, confirm) through the
//    REST app, queue and the e2e engine stand-in (test/e2e/support): the
//    stand-in's time (evaluating the program, Docker) reported apart from
//    THON's own (edit, validation, queue, events).
//
// `node --import tsx bench/console.ts [--sandboxes N]` (default 10; the
// issue's figure is 100: that needs ~8 GiB free). Run as root.
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../test/e2e/support/engine.ts";
import { evaluateSpec, socketOf, type E2eEventSpec } from "../test/e2e/support/event.ts";
import { waitHealthy } from "../test/e2e/support/http.ts";
import { EngineStandInApplier } from "../test/e2e/support/engineApplier.ts";
import { freePort, startNginx } from "../test/support/nginx.ts";
import { headerAuth, MemoryAudit } from "../test/support/consoleAuth.ts";
import { createConsoleApp } from "../console/api/app.ts";
import { DeclarativeRunner } from "../console/apply/declarative.ts";
import { OperationQueue } from "../console/apply/queue.ts";
import { DockerodeSandboxes } from "../console/ops/docker.ts";
import { probeHealthz } from "../console/ops/healthz.ts";
import { Project } from "../console/ops/project.ts";
import { StatusService } from "../console/ops/status.ts";
import { ROOT } from "./lib/child.ts";
import { fmt, median, table } from "./lib/stats.ts";

const LABEL = "org.thon.bench-run";
const args = process.argv.slice(2);
const n = Number(args[args.indexOf("--sandboxes") + 1] ?? "") || 10;
const rounds = 5;
const id = randomBytes(3).toString("hex");
const image = process.env.THON_E2E_IMAGE ?? "thon-sandbox:offline";

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function measure(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const w = performance.now();
  const c = cpuMs();
  await fn();
  return { wall: performance.now() - w, cpu: cpuMs() - c };
}

const dir = mkdtempSync(join(tmpdir(), `thon-bench-console-${id}-`));
chmodSync(dir, 0o755);
mkdirSync(join(dir, "sockets"), { mode: 0o755 });
const prefix = join(dir, "nginx");
mkdirSync(join(prefix, "conf.d"), { recursive: true, mode: 0o755 });
const nginx = await startNginx(prefix, { includeGlob: join(prefix, "conf.d", "*.conf"), user: "www-data www-data" });
const engine = new Engine({ extraLabels: { [LABEL]: id } });
const users = Array.from({ length: n }, (_, i) => ({ name: `b${i}-${id}`, group: i % 2 ? "odd" : "even" }));
const spec: E2eEventSpec = {
  name: `bench-${id}`,
  image,
  socketDir: join(dir, "sockets"),
  dockerHost: "unix:///var/run/docker.sock",
  users,
  proxy: { httpsPort: await freePort(), httpPort: 0, listenAddress: "127.0.0.1", configDir: join(prefix, "thon"), includeDir: join(prefix, "conf.d"), socketGroup: "www-data", nginx: nginx.command },
};
writeFileSync(join(dir, "Pulumi.yaml"), "name: thon\nruntime: nodejs\nmain: infra/index.ts\n");
writeFileSync(join(dir, "Pulumi.dev.yaml"), "config:\n  thon:file: thon.yaml\n");
// Interrupted: remove what this run made before going.
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void cleanup().finally(() => process.exit(130)));
const lines: string[] = [];
const say = (s: string) => {
  lines.push(s);
  process.stdout.write(s + "\n");
};

try {
  const v1 = await evaluateSpec(dir, "thon.yaml", spec);
  await engine.up(v1);
  const sockets = users.map((u) => socketOf(v1, u.name));
  await Promise.all(sockets.map((s) => waitHealthy(s, 300_000)));
  say(`console bench: ${n} code-server sandboxes running (${image})`);

  // 1. live status vs the floor
  const sandboxes = new DockerodeSandboxes();
  const project = new Project({ projectDir: dir, stack: "dev" });
  const plans = project.plan().participants;
  const status = new StatusService(sandboxes);
  await status.refresh(spec.name, plans); // warm-up (and the first CPU sample)
  const ours: Array<{ wall: number; cpu: number }> = [];
  const floor: Array<{ wall: number; cpu: number }> = [];
  for (let r = 0; r < rounds; r++) {
    ours.push(await measure(() => status.refresh(spec.name, plans)));
    floor.push(
      await measure(async () => {
        execFileSync("docker", ["ps", "-a", "--filter", `label=org.thon.event=${spec.name}`, "--format", "{{.ID}} {{.State}} {{.Status}}"]);
        for (const s of sockets) await probeHealthz(s);
      }),
    );
  }
  const o = median(ours.map((x) => x.wall));
  const f = median(floor.map((x) => x.wall));
  // The floor's CPU: docker ps runs in a child (its CPU is not ours); counted as wall for a fair ratio of work per refresh.
  const listOnly = median(await Promise.all(Array.from({ length: 3 }, () => measure(() => sandboxes.list(spec.name)).then((m) => m.wall))));
  const perParticipant = (o - listOnly) / n;
  say(
    table(
      ["", `wall per refresh (median of ${rounds})`, "console CPU"],
      [
        [`console status, ${n} sandboxes`, `${fmt(o, 0)} ms`, `${fmt(median(ours.map((x) => x.cpu)), 0)} ms`],
        [`floor: docker ps + healthz loop`, `${fmt(f, 0)} ms`, `${fmt(median(floor.map((x) => x.cpu)), 0)} ms (plus docker CLI)`],
        ["ratio console / floor", fmt(o / f, 2), ""],
        [`extrapolated to 300 (t = ${fmt(listOnly, 0)} ms + ${fmt(perParticipant, 1)} ms x N)`, `${fmt(listOnly + perParticipant * 300, 0)} ms`, ""],
      ],
    ),
  );

  // 2. console footprint, idle
  const sock = join(dir, "console.sock");
  const child = spawn(process.execPath, ["--import", "tsx", "-e", `
    const { startConsole, parseListen } = await import(${JSON.stringify(join(ROOT, "console/server.ts"))});
    const { headerAuth, MemoryAudit } = await import(${JSON.stringify(join(ROOT, "test/support/consoleAuth.ts"))});
    await startConsole(parseListen(${JSON.stringify(`unix:${sock}`)}), { projectDir: ${JSON.stringify(dir)}, stack: "dev", auth: headerAuth(), audit: new MemoryAudit() });
    console.log("ready");
  `], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((res) => child.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && res()));
  await new Promise((r) => setTimeout(r, 2000));
  const ticks = () => readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ").slice(11, 13).reduce((a, b) => a + Number(b), 0);
  const t0 = ticks();
  await new Promise((r) => setTimeout(r, 10_000));
  const idleCpuMs = ((ticks() - t0) * 1000) / 100; // USER_HZ = 100
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]);
  child.kill();
  say(`console idle: RSS ${fmt(rssKiB / 1024, 0)} MiB, CPU ${fmt(idleCpuMs, 0)} ms over 10 s`);

  // 3. one declarative operation
  const queue = new OperationQueue("dev");
  const audit = new MemoryAudit();
  const applier = new EngineStandInApplier(engine, join(dir, "thon.yaml"), v1);
  const app = createConsoleApp({ auth: headerAuth(), audit, ops: { project, docker: sandboxes, status, queue, declarative: new DeclarativeRunner({ project, applier, queue, audit }) } });
  const t = performance.now();
  const r = await app.request(`/api/v1/participants/${users[0]!.name}/stop`, { method: "POST", headers: { "X-Test-Principal": "organizer", "Content-Type": "application/json" }, body: JSON.stringify({ confirm: true, wait: true }) });
  const total = performance.now() - t;
  if (r.status !== 200) throw new Error(`stop: HTTP ${r.status} ${await r.text()}`);
  const up = applier.timings.find((x) => x.kind === "up")!;
  const standIn = up.evaluateMs + up.applyMs;
  say(`one declarative operation (stop one participant): ${fmt(total, 0)} ms in all; engine stand-in ${fmt(standIn, 0)} ms (program evaluation ${fmt(up.evaluateMs, 0)} ms, Docker ${fmt(up.applyMs, 0)} ms); THON's own ${fmt(total - standIn, 0)} ms`);
} finally {
  await cleanup();
}

async function cleanup(): Promise<void> {
  try {
    const ids = execFileSync("docker", ["ps", "-aq", "--filter", `label=${LABEL}=${id}`], { encoding: "utf8" }).split("\n").filter(Boolean);
    if (ids.length) execFileSync("docker", ["rm", "-f", ...ids]);
    const vols = execFileSync("docker", ["volume", "ls", "-q", "--filter", `label=${LABEL}=${id}`], { encoding: "utf8" }).split("\n").filter(Boolean);
    if (vols.length) execFileSync("docker", ["volume", "rm", ...vols]);
  } catch (e) {
    process.stderr.write(`cleanup: ${(e as Error).message}\n`);
  }
  await nginx.stop();
  rmSync(dir, { recursive: true, force: true });
}
