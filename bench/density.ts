// Density and readiness on a real Docker engine with the e2e image
// (thon-sandbox:offline, infra/image/build-offline.sh) and a real nginx:
//
// 1. Readiness: the time from starting N participants' containers together
//    to every participant's URL answering through nginx (HTTPS, the event
//    CA, GET /<user>/healthz -> 200), for N = 1, 5, 10, three ways:
//      THON     the program's containers as the Docker provider makes them:
//               the e2e engine's mechanical translation (create, upload the
//               settings file, start), all N at once as `pulumi up` would;
//      compose  the same containers from an equivalent compose file, with
//               Debian's docker-compose (`up -d`);
//      loop     a plain shell loop of `docker run -d` (the floor).
//    Everything else (volumes, socket folders, certificates, nginx files and
//    the reload) is in place before the clock starts, the same for all three.
// 2. Memory per sandbox: idle (10 running, after a settle time), and with one
//    browser session (headless Chromium logged in through nginx, the
//    workbench open, the extension host running), from the engine's stats
//    (what `docker stats` shows); plus the containerd shim each container
//    costs the host. Then the participants one host holds, with the
//    assumption stated.
//
// network: none and unix sockets only: no traffic to a private-range address.
// Every container and volume carries the label org.thon.bench-run=<id> and is
// removed at the end; a dockerd this benchmark started is stopped again.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { Evaluation, RecordedResource } from "../infra/preview/evaluate.ts";
import { evaluateEventFile } from "../infra/cli/plan.ts";
import { shellQuote } from "../infra/render/shell.ts";
import { Engine, translateContainer, TYPES, type ContainerRequest } from "../test/e2e/support/engine.ts";
import { dockerAt, engineCall, mustCall, type Docker } from "../test/e2e/support/docker.ts";
import { httpsLoopback } from "../test/e2e/support/http.ts";
import { freePort, startNginx, type TestNginx } from "../test/support/nginx.ts";
import { tlsStandIn } from "../test/support/tlsStandIn.ts";
import { ROOT } from "./lib/child.ts";
import { fmt, median, table } from "./lib/stats.ts";
import { hostInfo, load } from "./lib/host.ts";
import { ensureTools } from "./lib/tools.ts";
import { isMain, type BenchOptions, type Section } from "./lib/section.ts";
import { CHROMIUM_PATH } from "../test/support/browser.ts";

const log = (text: string) => process.stdout.write(`[density] ${text}\n`);
const LABEL = "org.thon.bench-run";
const DOCKER_SOCKET = "/var/run/docker.sock";
const MiB = 2 ** 20;

type Method = "thon" | "compose" | "loop";
const METHOD_LABEL: Record<Method, string> = {
  thon: "THON (program's containers via the Docker API, all at once)",
  compose: "docker-compose up -d (equivalent compose file)",
  loop: "shell loop of docker run -d (floor)",
};

function sh(cmd: string, args: string[], timeoutMs = 600_000): string {
  const res = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * MiB });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${res.status ?? res.signal}:\n${(res.stderr || res.stdout).slice(-3000)}`);
  return res.stdout;
}

const dockerAnswers = () => spawnSync("docker", ["info"], { timeout: 20_000, stdio: "ignore" }).status === 0;

interface Bench {
  readonly id: string;
  readonly dir: string;
  readonly api: Docker;
  readonly engine: Engine;
  readonly evaluation: Evaluation;
  readonly users: readonly string[];
  readonly image: string;
  readonly imageBuildMs: number;
  readonly httpsPort: number;
  readonly ca: string;
  readonly nginx: TestNginx;
  container(user: string): RecordedResource;
  request(user: string): ContainerRequest;
}

function eventYaml(o: { name: string; image: string; dir: string; users: readonly string[]; httpsPort: number; prefix: string; nginx: string }): string {
  return `# Written by bench/density.ts.
event:
  name: ${o.name}
  host: 127.0.0.1
sandbox:
  image: ${JSON.stringify(o.image)}
  # No network at all: nothing in a sandbox can reach a private-range address.
  network: none
proxy:
  socketDir: ${JSON.stringify(join(o.dir, "sockets"))}
  httpsPort: ${o.httpsPort}
  httpPort: 0
  listenAddress: 127.0.0.1
  configDir: ${JSON.stringify(join(o.prefix, "thon"))}
  includeDir: ${JSON.stringify(join(o.prefix, "conf.d"))}
  socketGroup: www-data
  nginx: ${JSON.stringify(o.nginx)}
target:
  kind: local
  dockerHost: unix://${DOCKER_SOCKET}
groups:
  bench:
    users: [${o.users.join(", ")}]
`;
}

async function setUp(max: number, startedDockerd: { value: boolean }): Promise<Bench> {
  ensureTools({ nginx: "nginx-light", "docker-compose": "docker-compose", certutil: "libnss3-tools", chromium: "chromium" });
  if (!dockerAnswers()) {
    log("starting dockerd (scripts/start-dockerd.sh)");
    sh("bash", ["scripts/start-dockerd.sh"], 300_000);
    startedDockerd.value = true;
  }
  let t0 = Date.now();
  const image = sh("bash", ["infra/image/build-offline.sh"], 3_600_000).trim().split("\n").at(-1)!;
  const imageBuildMs = Date.now() - t0;
  log(`image ${image} (build-offline.sh: ${fmt(imageBuildMs / 1000)} s)`);

  const id = randomBytes(3).toString("hex");
  const dir = mkdtempSync(join(tmpdir(), `thon-bench-density-${id}-`));
  chmodSync(dir, 0o755); // nginx's workers (www-data) walk down to the sockets
  mkdirSync(join(dir, "sockets"), { mode: 0o755 });
  const prefix = join(dir, "nginx");
  mkdirSync(join(prefix, "conf.d"), { recursive: true, mode: 0o755 });
  const httpsPort = await freePort();
  let nginx: TestNginx | undefined;
  const users = Array.from({ length: max }, (_, i) => `p${String(i + 1).padStart(2, "0")}-${id}`);
  let evaluation: Evaluation;
  const engine = new Engine({ extraLabels: { [LABEL]: id } });
  try {
    nginx = await startNginx(prefix, { includeGlob: join(prefix, "conf.d", "*.conf"), user: "www-data www-data" });
    const file = join(dir, "thon.yaml");
    writeFileSync(file, eventYaml({ name: `bench-${id}`, image, dir, users, httpsPort, prefix, nginx: nginx.command }));
    evaluation = await evaluateEventFile(file, "bench", tlsStandIn); // real certificates: nginx serves them
    // Everything but the containers: the image, volumes, socket folders, certificates, nginx files, the reload.
    t0 = Date.now();
    // (and not the pids limits, which `docker update` the containers once they exist)
    const noContainers: Evaluation = { ...evaluation, resources: evaluation.resources.filter((r) => r.type !== TYPES.container && !r.name.startsWith("thon-pids-")) };
    await engine.up(noContainers);
    log(`${users.length} participants' volumes, socket folders and nginx files in place (${fmt((Date.now() - t0) / 1000)} s)`);
  } catch (err) {
    spawnSync("sh", ["-c", `docker volume ls -q --filter label=${LABEL}=${id} | xargs -r docker volume rm -f >/dev/null`], { timeout: 120_000 });
    await nginx?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const containers = new Map(evaluation.resources.filter((r) => r.type === TYPES.container).map((r) => [r.name, r]));
  const container = (user: string) => containers.get(`thon-${user}`)!;
  return {
    id,
    dir,
    api: dockerAt(DOCKER_SOCKET),
    engine,
    evaluation,
    users,
    image,
    imageBuildMs,
    httpsPort,
    ca: String(evaluation.outputs.caCertPem),
    nginx: nginx!,
    container,
    request: (user) => translateContainer(container(user), { image: () => image, extraLabels: { [LABEL]: id } }),
  };
}

// --- the three ways to start containers ----------------------------------------------

/** A participant's uploads as host files, for compose and the loop (bind-mounted where the provider would upload them). */
function uploadMounts(b: Bench, user: string): { source: string; target: string }[] {
  const uploads = (b.container(user).inputs.uploads ?? []) as { file: string; content: string; owner?: string; group?: string; permissions?: string }[];
  return uploads.map((u, i) => {
    const dir = join(b.dir, "uploads", user);
    mkdirSync(dir, { recursive: true });
    const source = join(dir, `${i}-${u.file.split("/").pop()}`);
    writeFileSync(source, u.content);
    chownSync(source, Number(u.owner ?? 0), Number(u.group ?? 0));
    chmodSync(source, Number.parseInt(u.permissions ?? "0644", 8));
    return { source, target: u.file };
  });
}

interface Body {
  Image: string;
  Cmd: string[];
  User: string;
  Env: string[];
  Labels: Record<string, string>;
  StopTimeout?: number;
  HostConfig: {
    Mounts: { Type: string; Source: string; Target: string }[];
    Memory?: number;
    MemorySwap?: number;
    Ulimits?: { Name: string; Soft: number; Hard: number }[];
    NanoCpus?: number;
    RestartPolicy?: { Name: string };
    NetworkMode?: string;
    Init?: boolean;
    SecurityOpt?: string[];
    CapDrop?: string[];
    LogConfig?: { Type: string; Config?: Record<string, string> };
  };
}

/** `docker run -d` with every setting the program declares, from the same Engine API body the provider would send. */
export function dockerRunArgs(name: string, body: Body, uploads: readonly { source: string; target: string }[]): string[] {
  const h = body.HostConfig;
  return [
    "run", "-d", "--name", name,
    "--user", body.User,
    ...body.Env.flatMap((e) => ["-e", e]),
    ...Object.entries(body.Labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
    ...(body.StopTimeout !== undefined ? ["--stop-timeout", String(body.StopTimeout)] : []),
    ...h.Mounts.flatMap((m) => ["--mount", `type=${m.Type},source=${m.Source},target=${m.Target}`]),
    ...uploads.flatMap((u) => ["--mount", `type=bind,source=${u.source},target=${u.target}`]),
    ...(h.Memory !== undefined ? ["--memory", String(h.Memory)] : []),
    ...(h.MemorySwap !== undefined ? ["--memory-swap", String(h.MemorySwap)] : []),
    ...(h.Ulimits ?? []).flatMap((u) => ["--ulimit", `${u.Name}=${u.Soft}:${u.Hard}`]),
    ...(h.NanoCpus !== undefined ? ["--cpus", String(h.NanoCpus / 1e9)] : []),
    ...(h.RestartPolicy ? ["--restart", h.RestartPolicy.Name] : []),
    ...(h.NetworkMode ? ["--network", h.NetworkMode] : []),
    ...(h.Init ? ["--init"] : []),
    ...(h.SecurityOpt ?? []).flatMap((o) => ["--security-opt", o]),
    ...(h.CapDrop ?? []).flatMap((c) => ["--cap-drop", c]),
    ...(h.LogConfig ? ["--log-driver", h.LogConfig.Type, ...Object.entries(h.LogConfig.Config ?? {}).flatMap(([k, v]) => ["--log-opt", `${k}=${v}`])] : []),
    body.Image,
    ...body.Cmd,
  ];
}

/** The compose service for the same container (compose file format 2.4: cpus, init, mem_limit, long volume syntax). */
export function composeService(name: string, body: Body, uploads: readonly { source: string; target: string }[]): Record<string, unknown> {
  const h = body.HostConfig;
  return {
    image: body.Image,
    container_name: name,
    command: body.Cmd,
    user: body.User,
    environment: body.Env,
    labels: body.Labels,
    ...(body.StopTimeout !== undefined ? { stop_grace_period: `${body.StopTimeout}s` } : {}),
    volumes: [
      ...h.Mounts.map((m) => ({ type: m.Type, source: m.Source, target: m.Target })),
      ...uploads.map((u) => ({ type: "bind", source: u.source, target: u.target })),
    ],
    ...(h.Memory !== undefined ? { mem_limit: h.Memory } : {}),
    ...(h.MemorySwap !== undefined ? { memswap_limit: h.MemorySwap } : {}),
    ...(h.Ulimits ? { ulimits: Object.fromEntries(h.Ulimits.map((u) => [u.Name, { soft: u.Soft, hard: u.Hard }])) } : {}),
    ...(h.NanoCpus !== undefined ? { cpus: h.NanoCpus / 1e9 } : {}),
    ...(h.RestartPolicy ? { restart: h.RestartPolicy.Name } : {}),
    ...(h.NetworkMode ? { network_mode: h.NetworkMode } : {}),
    ...(h.Init ? { init: true } : {}),
    ...(h.SecurityOpt ? { security_opt: h.SecurityOpt } : {}),
    ...(h.CapDrop ? { cap_drop: h.CapDrop } : {}),
    ...(h.LogConfig ? { logging: { driver: h.LogConfig.Type, options: h.LogConfig.Config ?? {} } } : {}),
  };
}

async function start(b: Bench, method: Method, users: readonly string[]): Promise<void> {
  switch (method) {
    case "thon":
      // What `pulumi up` does with independent containers: all at once.
      await Promise.all(users.map((u) => b.engine.create(b.container(u), b.evaluation)));
      return;
    case "compose": {
      const services: Record<string, unknown> = {};
      const volumes: Record<string, unknown> = {};
      for (const u of users) {
        const req = b.request(u);
        const body = req.body as unknown as Body;
        services[u] = composeService(req.name, body, uploadMounts(b, u));
        for (const m of body.HostConfig.Mounts) if (m.Type === "volume") volumes[m.Source] = { external: true };
      }
      // JSON is YAML: compose reads it as it is.
      const file = join(b.dir, `compose-${users.length}.json`);
      writeFileSync(file, JSON.stringify({ version: "2.4", services, volumes }, null, 2));
      sh("docker-compose", ["-p", `thonbench${b.id}`, "-f", file, "up", "-d", "--no-color"]);
      return;
    }
    case "loop": {
      const lines = users.map((u) => {
        const req = b.request(u);
        return ["docker", ...dockerRunArgs(req.name, req.body as unknown as Body, uploadMounts(b, u))].map(shellQuote).join(" ") + " >/dev/null";
      });
      const script = join(b.dir, `loop-${users.length}.sh`);
      writeFileSync(script, ["set -e", ...lines, ""].join("\n"));
      sh("sh", [script]);
      return;
    }
  }
}

async function remove(b: Bench, users: readonly string[]): Promise<void> {
  await Promise.all(users.map((u) => engineCall(b.api, `remove thon-${u}`, () => b.api.getContainer(`thon-${u}`).remove({ force: true, v: true }), [404])));
  for (const u of users) b.engine.state.delete(b.container(u).urn);
}

/** Polls every participant's URL through nginx until it answers 200; resolves with each one's ms since `t0`. */
async function waitReady(b: Bench, users: readonly string[], t0: number, timeoutMs = 180_000): Promise<number[]> {
  return Promise.all(
    users.map(async (u) => {
      let last = "";
      while (Date.now() - t0 < timeoutMs) {
        try {
          const r = await httpsLoopback(b.httpsPort, { ca: b.ca, path: `/${u}/healthz`, timeoutMs: 2_000 });
          if (r.status === 200) return Date.now() - t0;
          last = `HTTP ${r.status}`;
        } catch (err) {
          last = (err as Error).message;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`/${u}/healthz did not answer 200 within ${timeoutMs} ms (last: ${last})`);
    }),
  );
}

// --- memory --------------------------------------------------------------------------

interface Stats {
  memory_stats: { usage?: number; stats?: Record<string, number> };
  cpu_stats: { cpu_usage: { total_usage: number } };
}

interface Memory {
  /** What `docker stats` shows: usage minus inactive file cache, MiB. */
  readonly shownMiB: number;
  /** Anonymous memory (heaps, stacks), MiB. */
  readonly anonMiB: number;
}

async function memoryOf(b: Bench, user: string): Promise<Memory & { cpuNs: number }> {
  const s = (await mustCall(b.api, `stats of thon-${user}`, () => b.api.getContainer(`thon-${user}`).stats({ stream: false, "one-shot": true }))) as unknown as Stats;
  const st = s.memory_stats.stats ?? {};
  const usage = s.memory_stats.usage ?? 0;
  const inactive = st.inactive_file ?? st.total_inactive_file ?? 0;
  return { shownMiB: (usage - inactive) / MiB, anonMiB: (st.anon ?? st.total_rss ?? 0) / MiB, cpuNs: s.cpu_stats.cpu_usage.total_usage };
}

/** Resident memory of the containerd shim that runs a container (on the host, outside its cgroup), MiB. */
function shimMiB(containerId: string): number | undefined {
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmd.includes("containerd-shim") || !cmd.includes(containerId)) continue;
      const rss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return rss ? Number(rss[1]) / 1024 : undefined;
    } catch {
      // gone while we looked
    }
  }
  return undefined;
}

async function hasExtensionHost(b: Bench, user: string): Promise<boolean> {
  const top = (await mustCall(b.api, `top of thon-${user}`, () => b.api.getContainer(`thon-${user}`).top())) as { Processes: string[][] };
  return top.Processes.some((p) => p.join(" ").includes("extensionHost"));
}

/** Logs in with headless Chromium through nginx (trusting only the event CA) and keeps the workbench open. */
async function browserSession(b: Bench, user: string) {
  const home = mkdtempSync(join(tmpdir(), "thon-bench-chromium-"));
  const nssdb = join(home, ".pki", "nssdb");
  mkdirSync(nssdb, { recursive: true });
  writeFileSync(join(home, "event-ca.crt"), b.ca);
  execFileSync("certutil", ["-d", `sql:${nssdb}`, "-N", "--empty-password"]);
  execFileSync("certutil", ["-d", `sql:${nssdb}`, "-A", "-t", "C,,", "-n", "THON bench event CA", "-i", join(home, "event-ca.crt")]);
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    env: { ...process.env, HOME: home },
    timeout: 60_000,
  });
  const close = async () => {
    await browser.close().catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  };
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    const password = (b.evaluation.outputs.participants as Record<string, { password: string }>)[user]!.password;
    const t0 = Date.now();
    await page.goto(`https://127.0.0.1:${b.httpsPort}/${user}/`, { timeout: 60_000 });
    await page.locator("input[type=password]").fill(password);
    await page.locator("input[type=submit], button[type=submit]").first().click();
    await page.locator(".monaco-workbench").waitFor({ timeout: 120_000 });
    return { workbenchMs: Date.now() - t0, close };
  } catch (err) {
    await close();
    throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cleanUp(b: Bench | undefined, startedDockerd: boolean): Promise<void> {
  if (b) {
    spawnSync("sh", ["-c", `docker ps -aq --filter label=${LABEL}=${b.id} | xargs -r docker rm -f -v >/dev/null`], { timeout: 120_000 });
    spawnSync("sh", ["-c", `docker volume ls -q --filter label=${LABEL}=${b.id} | xargs -r docker volume rm -f >/dev/null`], { timeout: 120_000 });
    spawnSync("sh", ["-c", `docker network ls -q --filter name=thonbench${b.id} | xargs -r docker network rm >/dev/null`], { timeout: 60_000 });
    await b.nginx.stop();
    rmSync(b.dir, { recursive: true, force: true });
  }
  if (startedDockerd) spawnSync("bash", ["scripts/stop-dockerd.sh"], { cwd: ROOT, timeout: 120_000, stdio: "ignore" });
}

export async function benchDensity(options: BenchOptions): Promise<Section> {
  if (process.getuid?.() !== 0) throw new Error("the density benchmark starts dockerd, builds an image and runs containers: run it as root");
  const sizes = options.quick ? [1, 5] : [1, 5, 10];
  const max = Math.max(...sizes);
  const settleMs = options.quick ? 10_000 : 20_000;
  const started = { value: false };
  let b: Bench | undefined;
  log(`start; ${load()}`);
  try {
    b = await setUp(max, started);
    // 1. Readiness, each size with each method, in rotating order.
    const methods: Method[] = ["loop", "compose", "thon"];
    const ready = new Map<string, { returnedMs: number; firstMs: number; medianMs: number; allMs: number }>();
    for (const [i, n] of sizes.entries()) {
      const users = b.users.slice(0, n);
      for (const method of [...methods.slice(i % 3), ...methods.slice(0, i % 3)]) {
        await remove(b, users);
        const t0 = Date.now();
        const waiting = waitReady(b, users, t0);
        await start(b, method, users);
        const returnedMs = Date.now() - t0;
        const times = await waiting;
        const r = { returnedMs, firstMs: Math.min(...times), medianMs: median(times), allMs: Math.max(...times) };
        ready.set(`${method}:${n}`, r);
        log(`${n} participants, ${method}: started in ${fmt(returnedMs / 1000)} s, all answering through nginx after ${fmt(r.allMs / 1000)} s; ${load()}`);
        await remove(b, users);
      }
    }

    // 2. Memory: all of them running and idle, then one with a browser session.
    const users = b.users.slice(0, max);
    await start(b, "thon", users);
    await waitReady(b, users, Date.now());
    log(`${max} sandboxes up; letting them settle ${settleMs / 1000} s`);
    await sleep(settleMs);
    const before = await Promise.all(users.map((u) => memoryOf(b!, u)));
    await sleep(5_000);
    const after = await Promise.all(users.map((u) => memoryOf(b!, u)));
    const idleCpuPercent = median(after.map((a, i) => (100 * (a.cpuNs - before[i]!.cpuNs)) / 5e9));
    const idle = { shown: median(after.map((m) => m.shownMiB)), anon: median(after.map((m) => m.anonMiB)) };
    const ids = await Promise.all(users.map(async (u) => (await mustCall(b!.api, `inspect thon-${u}`, () => b!.api.getContainer(`thon-${u}`).inspect())).Id));
    const shims = ids.map(shimMiB).filter((x): x is number => x !== undefined);
    const shim = median(shims);
    log(`idle: ${fmt(idle.shown)} MiB per sandbox (anon ${fmt(idle.anon)} MiB), CPU ${fmt(idleCpuPercent, 2)} %, shim ${fmt(shim)} MiB`);

    const who = users[0]!;
    const session = await browserSession(b, who);
    let extensionHost = false;
    let withSession: Memory;
    let othersNow: number;
    try {
      const deadline = Date.now() + 60_000;
      while (!extensionHost && Date.now() < deadline) {
        extensionHost = await hasExtensionHost(b, who);
        if (!extensionHost) await sleep(500);
      }
      await sleep(settleMs);
      withSession = await memoryOf(b, who);
      othersNow = median((await Promise.all(users.slice(1).map((u) => memoryOf(b!, u)))).map((m) => m.shownMiB));
    } finally {
      await session.close();
    }
    log(`with a browser session: ${fmt(withSession.shownMiB)} MiB (anon ${fmt(withSession.anonMiB)} MiB), extension host ${extensionHost ? "running" : "NOT seen"}; workbench after ${fmt(session.workbenchMs / 1000)} s`);

    // 3. Participants per host.
    const host = hostInfo();
    const reserveGiB = 2;
    const perParticipant = withSession.shownMiB + shim;
    const perIdle = idle.shown + shim;
    const fits = (mib: number) => Math.floor(((host.memGiB - reserveGiB) * 1024) / mib);

    const readyRows: string[][] = [];
    for (const n of sizes) {
      const loop = ready.get(`loop:${n}`)!;
      for (const m of methods) {
        const r = ready.get(`${m}:${n}`)!;
        readyRows.push([String(n), METHOD_LABEL[m], fmt(r.returnedMs / 1000, 2), fmt(r.firstMs / 1000, 2), fmt(r.medianMs / 1000, 2), fmt(r.allMs / 1000, 2), fmt(r.allMs / loop.allMs, 2)]);
      }
    }
    const body = [
      `Real Docker engine (${dockerVersion()}), image \`${b.image}\` (code-server 4.100.3 on Node 20), \`network: none\`, ` +
        "code-server on a unix socket, the program's nginx files on a test nginx (workers as www-data), HTTPS with the event CA. " +
        `Ready = \`GET /<user>/healthz\` answers 200 through nginx (polled every 100 ms). Volumes, socket folders, certificates and nginx files exist before the clock starts; ` +
        "compose and the loop bind-mount the settings file the provider uploads. One run per cell" +
        (b.imageBuildMs > 60_000 ? `; the image was built first (${fmt(b.imageBuildMs / 1000)} s, not in the figures)` : "") + ".",
      "",
      table(["participants", "started with", "command returned s", "first ready s", "median ready s", "all ready s", "÷ loop"], readyRows),
      "",
      `**Memory per sandbox** (${max} running; as \`docker stats\` shows it: cgroup usage minus inactive file cache; anon = heaps and stacks):`,
      "",
      table(
        ["state", "memory MiB", "anon MiB", "notes"],
        [
          ["idle (no browser), median", fmt(idle.shown), fmt(idle.anon), `after ${settleMs / 1000} s; CPU ${fmt(idleCpuPercent, 2)} % of one core`],
          [
            "one browser session",
            fmt(withSession.shownMiB),
            fmt(withSession.anonMiB),
            `headless Chromium logged in through nginx, workbench after ${fmt(session.workbenchMs / 1000)} s, extension host ${extensionHost ? "running" : "not seen"}; the other sandboxes meanwhile ${fmt(othersNow)} MiB`,
          ],
          ["containerd shim per container (host)", fmt(shim), "–", "outside the container's cgroup"],
        ],
      ),
      "",
      `**Participants per ${host.cores}-core / ${host.memGiB} GiB host**, memory-bound, assuming every participant has one browser session open ` +
        `(${fmt(perParticipant)} MiB each with the shim) and ${reserveGiB} GiB kept for the OS, dockerd, containerd and nginx, no Lemonade on the host: ` +
        `**${fits(perParticipant)}** (${fits(perIdle)} if nobody had the editor open). ` +
        `CPU is the other limit: idle sandboxes cost next to nothing, but ${host.cores} cores are shared by whoever builds or runs tests at the same moment ` +
        "(each sandbox may take up to `sandbox.cpus`, 1 by default).",
    ].join("\n");
    return { title: "Density and readiness", body };
  } finally {
    await cleanUp(b, started.value);
    log(`done; ${load()}`);
  }
}

function dockerVersion(): string {
  const res = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8", timeout: 20_000 });
  return res.status === 0 ? `dockerd ${res.stdout.trim()}` : "dockerd";
}

if (isMain(import.meta.url)) {
  const section = await benchDensity({ quick: process.argv.includes("--quick") });
  process.stdout.write(`\n## ${section.title}\n\n${section.body}\n`);
  process.exit(0);
}
