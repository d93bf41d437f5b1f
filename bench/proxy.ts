// Proxy overhead: requests/s and latency of a small static response (wrk,
// keep-alive connections) and WebSocket echo round trips, three ways, on
// loopback only:
//
//   direct     the backend's own loopback port, plain HTTP (no proxy, no TLS)
//   generated  the event's HTTPS entry: nginx running exactly the files the
//              program writes (a mock run of the real program; its commands
//              run as pulumi-command would, its certificates are real), the
//              backend on the participant's unix socket
//   minimal    the same nginx and certificate with a hand-written server:
//              one `location`, an upstream with keepalive: the least a TLS
//              hop can cost
//   before     the generated location as it was before upstream keepalive
//              (`proxy_pass http://unix:<socket>:/`, "Connection: close"):
//              nginx opened and closed a socket connection per request
//
// The backend (bench/proxyBackend.ts) is one node process serving both the
// socket and the port; each client run is a fresh process.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseThonFile } from "../infra/config/load.ts";
import { toEvent } from "../infra/config/event.ts";
import { planEvent } from "../infra/plan.ts";
import { renderParticipant } from "../infra/render/nginx.ts";
import type { Evaluation, RecordedResource } from "../infra/preview/evaluate.ts";
import { commandSteps, mustRun } from "../test/support/commands.ts";
import { connects, freePort, proxyYaml, startNginx, waitFor, workers, writeMainConf, type TestNginx } from "../test/support/nginx.ts";
import { find, runEvent } from "../test/support/program.ts";
import { ROOT, runChild } from "./lib/child.ts";
import { fmt, median, table } from "./lib/stats.ts";
import { load } from "./lib/host.ts";
import { ensureTools } from "./lib/tools.ts";
import { isMain, type BenchOptions, type Section } from "./lib/section.ts";
import type { EchoResult, EchoSpec } from "./wsEcho.ts";

const log = (text: string) => process.stdout.write(`[proxy] ${text}\n`);

interface Target {
  readonly name: "direct" | "generated" | "minimal" | "before";
  readonly http: string;
  readonly ws: string;
}

interface WrkResult {
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

const LABELS: Record<Target["name"], string> = {
  direct: "direct (no proxy, no TLS)",
  generated: "THON's generated nginx config (TLS)",
  minimal: "minimal nginx TLS config (keepalive)",
  before: "THON's config before upstream keepalive",
};

const UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

/** wrk's "Requests/sec" and its --latency percentiles. */
export function parseWrk(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
    return m ? Number(m[1]) * UNITS[m[2]!]! : Number.NaN;
  };
  if (!rps) throw new Error(`wrk printed no Requests/sec:\n${out}`);
  return { perSecond: Number(rps[1]), p50Ms: pct("50"), p99Ms: pct("99") };
}

function wrk(url: string, seconds: number, connections: number): WrkResult {
  const res = spawnSync("wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", url], { encoding: "utf8", timeout: (seconds + 30) * 1000 });
  if (res.status !== 0) throw new Error(`wrk ${url} exited ${res.status}: ${res.stderr}`);
  return parseWrk(res.stdout);
}

/** The event the benchmark deploys: two participants, every path in a temp root, loopback ports. */
function eventYaml(root: string, https: number, http: number, nginxCommand: string): string {
  return `event:
  name: bench
  host: 127.0.0.1
groups:
  alpha:
    users: [alice, bob]
${proxyYaml(root, { https, http, nginx: nginxCommand })}`;
}

/** The hand-written comparison: one location, upstream keepalive, the upgrade headers a WebSocket needs. */
function minimalServer(o: { port: number; socket: string; cert: string; key: string }): string {
  return `map $http_upgrade $bench_minimal_connection {
    default upgrade;
    ''      '';
}
upstream bench_minimal {
    server unix:${o.socket};
    keepalive 16;
}
server {
    listen 127.0.0.1:${o.port} ssl;
    ssl_certificate ${o.cert};
    ssl_certificate_key ${o.key};
    access_log off;
    location / {
        proxy_pass http://bench_minimal;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $bench_minimal_connection;
    }
}
`;
}

/** The generated location as it was before the upstream keepalive, for the comparison. */
function beforeServer(o: { port: number; socket: string; cert: string; key: string }): string {
  const location = renderParticipant({ name: "bench" }, { name: "alice", endpointPath: "/alice/" })
    .replace(/proxy_pass http:\/\/thon_bench_alice\/;/, `proxy_pass http://unix:${o.socket}:/;`)
    .replace("$thon_bench_connection", "$bench_before_connection");
  return `map $http_upgrade $bench_before_connection {
    default upgrade;
    ''      close;
}
server {
    listen 127.0.0.1:${o.port} ssl;
    ssl_certificate ${o.cert};
    ssl_certificate_key ${o.key};
    access_log off;
${location}}
`;
}

interface Deployment {
  readonly targets: readonly Target[];
  readonly ca: string;
  stop(): Promise<void>;
}

const isEntryCommand = (r: RecordedResource) =>
  r.type === "command:local:Command" && /^thon-(proxy|nginx|upstream|sockets|tls)-/.test(r.name);

async function startBackend(socket: string): Promise<{ port: number; process: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "bench/proxyBackend.ts"), JSON.stringify({ socket, port: 0 })], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the backend exited ${code}`)));
  });
  return { port: (JSON.parse(line) as { port: number }).port, process: child };
}

async function deploy(): Promise<Deployment> {
  if (process.getuid?.() !== 0) throw new Error("the proxy benchmark runs nginx's workers as www-data and makes socket folders for uid 1000: run it as root");
  const root = mkdtempSync(join(tmpdir(), "thon-bench-proxy-"));
  chmodSync(root, 0o755); // nginx's workers (www-data) walk through it to the sockets
  mkdirSync(join(root, "log"));
  const [https, http, minimalPort, beforePort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const prefix = join(root, "nginx");
  const includeGlob = `${root}/etc/conf.d/*.conf`;
  const nginxOptions = { includeGlob, user: "www-data www-data" };
  const { command } = writeMainConf(prefix, nginxOptions);
  const text = eventYaml(root, https, http, command);
  let backend: { port: number; process: ChildProcess } | undefined;
  let nginx: TestNginx | undefined;
  let evaluation: Evaluation;
  try {
    evaluation = await runEvent(toEvent(parseThonFile(text)));
    // Everything the program declares for the entry, in the engine's order; the reload once nginx runs.
    for (const step of commandSteps(undefined, evaluation, (r) => isEntryCommand(r) && r.name !== "thon-proxy-reload")) mustRun(step.resource, step.op);
    const alice = planEvent(toEvent(parseThonFile(text))).participants.find((p) => p.name === "alice")!;
    backend = await startBackend(alice.socketHostPath);
    const files = { socket: alice.socketHostPath, cert: `${root}/etc/thon/tls/server.crt`, key: `${root}/etc/thon/tls/server.key` };
    // The program's files are staged until its reload puts them in place.
    nginx = await startNginx(prefix, nginxOptions);
    const reload = find(evaluation, "command:local:Command", "thon-proxy-reload");
    mustRun(reload, "create");
    // The two comparison servers use the certificate files the reload just put in place.
    writeFileSync(join(root, "etc/conf.d/bench-minimal.conf"), minimalServer({ port: minimalPort, ...files }));
    writeFileSync(join(root, "etc/conf.d/bench-before.conf"), beforeServer({ port: beforePort, ...files }));
    mustRun(reload, "update");
    const master = nginx.masterPid();
    await waitFor(() => connects(minimalPort), "the minimal server's port");
    await waitFor(() => workers(master).size === 2, "nginx's workers to settle after the reload");
  } catch (err) {
    backend?.process.kill("SIGTERM");
    await nginx?.stop();
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const b = backend;
  const n = nginx;
  return {
    ca: evaluation.outputs.caCertPem as string,
    targets: [
      { name: "direct", http: `http://127.0.0.1:${b.port}/`, ws: `ws://127.0.0.1:${b.port}/ws` },
      { name: "generated", http: `https://127.0.0.1:${https}/alice/`, ws: `wss://127.0.0.1:${https}/alice/ws` },
      { name: "minimal", http: `https://127.0.0.1:${minimalPort}/`, ws: `wss://127.0.0.1:${minimalPort}/ws` },
      { name: "before", http: `https://127.0.0.1:${beforePort}/alice/`, ws: `wss://127.0.0.1:${beforePort}/alice/ws` },
    ],
    async stop() {
      await n.stop();
      const gone = new Promise((resolve) => b.process.once("exit", resolve));
      b.process.kill("SIGTERM");
      await gone;
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export async function benchProxy(options: BenchOptions): Promise<Section> {
  ensureTools({ wrk: "wrk", nginx: "nginx-light", openssl: "openssl" });
  const reps = options.quick ? 1 : 4;
  const seconds = options.quick ? 3 : 4;
  const wsSeconds = options.quick ? 2 : 2;
  const connections = 16;
  log(`start; ${load()}`);
  const d = await deploy();
  const http = new Map<string, WrkResult[]>();
  const ws1 = new Map<string, EchoResult[]>();
  const wsN = new Map<string, EchoResult[]>();
  try {
    for (let rep = 0; rep < reps; rep++) {
      // Rotate the order so a slow moment on the host does not always hit the same target.
      const k = rep % d.targets.length;
      const order = [...d.targets.slice(k), ...d.targets.slice(0, k)];
      for (const t of order) {
        const h = wrk(t.http, seconds, connections);
        (http.get(t.name) ?? http.set(t.name, []).get(t.name)!).push(h);
        const echo = (n: number) =>
          runChild<EchoResult>("bench/wsEcho.ts", { url: t.ws, ca: d.ca, connections: n, seconds: wsSeconds } satisfies EchoSpec);
        const one = await echo(1);
        (ws1.get(t.name) ?? ws1.set(t.name, []).get(t.name)!).push(one);
        const many = await echo(connections);
        (wsN.get(t.name) ?? wsN.set(t.name, []).get(t.name)!).push(many);
        log(
          `${LABELS[t.name]}, run ${rep + 1}/${reps}: HTTP ${fmt(h.perSecond)} req/s (p50 ${fmt(h.p50Ms, 2)} ms, p99 ${fmt(h.p99Ms, 2)} ms); ` +
            `WebSocket echo ${fmt(one.perSecond)}/s on 1 connection (p50 ${fmt(one.p50Ms, 3)} ms), ${fmt(many.perSecond)}/s on ${connections}; ${load()}`,
        );
      }
    }
  } finally {
    await d.stop();
  }

  type Row = { perSecond: number; p50Ms: number; p99Ms: number };
  const med = (rs: readonly Row[]): Row => ({
    perSecond: median(rs.map((r) => r.perSecond)),
    p50Ms: median(rs.map((r) => r.p50Ms)),
    p99Ms: median(rs.map((r) => r.p99Ms)),
  });
  const rows = (what: string, data: Map<string, Row[]>): string[][] => {
    const direct = med(data.get("direct")!);
    const minimal = med(data.get("minimal")!);
    return d.targets.map((t) => {
      const m = med(data.get(t.name)!);
      return [
        what,
        LABELS[t.name],
        fmt(m.perSecond),
        fmt(m.p50Ms, 3),
        fmt(m.p99Ms, 3),
        fmt(m.perSecond / direct.perSecond, 2),
        fmt(m.perSecond / minimal.perSecond, 2),
      ];
    });
  };
  const ratio = (data: Map<string, Row[]>) => fmt(med(data.get("generated")!).perSecond / med(data.get("minimal")!).perSecond, 2);
  const body = [
    `Loopback only; nginx ${nginxVersion()} with 2 workers (as www-data), TLS from the program's event CA; the backend is one node process ` +
      `(HTTP + \`ws\` echo) on a unix socket for nginx and a loopback port for the direct runs. HTTP: \`wrk -t1 -c${connections} -d${seconds}s --latency\` ` +
      `(keep-alive, so TLS handshakes are not in the figures), a ${Buffer.byteLength("hello from the sandbox\n")}-byte body. ` +
      `WebSocket: 32-byte messages, each sent when the previous echo arrived, for ${wsSeconds} s on 1 and on ${connections} connections. ` +
      `Median of ${reps} run(s), targets in rotating order. Ratios are throughput ratios.`,
    "",
    table(
      ["traffic", "path", "per second", "p50 ms", "p99 ms", "÷ direct", "÷ minimal"],
      [...rows("HTTP, static response", http), ...rows("WebSocket echo, 1 connection", ws1), ...rows(`WebSocket echo, ${connections} connections`, wsN)],
    ),
    "",
    `Generated ÷ minimal: HTTP ${ratio(http)}, WebSocket echo ${ratio(ws1)} (1 connection) and ${ratio(wsN)} (${connections} connections).`,
  ].join("\n");
  log(`done; ${load()}`);
  return { title: "Proxy overhead", body };
}

function nginxVersion(): string {
  const res = spawnSync("sh", ["-c", "nginx -v 2>&1 || /usr/sbin/nginx -v 2>&1"], { encoding: "utf8" });
  return /nginx\/([\d.]+)/.exec(res.stdout)?.[1] ?? "?";
}

if (isMain(import.meta.url)) {
  const section = await benchProxy({ quick: process.argv.includes("--quick") });
  process.stdout.write(`\n## ${section.title}\n\n${section.body}\n`);
}
