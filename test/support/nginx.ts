// A real nginx for tests: its own prefix, pid file, logs and temp folders
// under a temp folder, loopback ports, started in the foreground as a child
// process and stopped (bounded) by the test.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { join } from "node:path";

/** The nginx binary: on PATH, or where Debian puts it (root's PATH may lack /usr/sbin). */
export function nginxBinary(): string {
  const found = spawnSync("sh", ["-c", "command -v nginx"], { encoding: "utf8" }).stdout.trim();
  if (found) return found;
  if (existsSync("/usr/sbin/nginx")) return "/usr/sbin/nginx";
  throw new Error("nginx is not installed. Fix: run scripts/ensure-tools.sh as root (npm test does), or apt-get install nginx-light");
}

/** A loopback port nothing listens on: bound, noted, closed. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

export interface TestNginx {
  /** The command line THON's `proxy.nginx` setting gets: binary, prefix and config file. */
  readonly command: string;
  readonly prefix: string;
  readonly errorLog: string;
  readonly process: ChildProcess;
  /** The master's pid (from the pid file). */
  masterPid(): number;
  /** Stops nginx (fast shutdown, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Files included in the http context (the host's conf.d). */
  readonly includeGlob: string;
  /** The worker user and group (`user` directive); nginx's master runs as root. */
  readonly user?: string;
  /** Extra text for the http context. */
  readonly http?: string;
}

/** Writes the main nginx.conf of a test nginx under `prefix`, as Debian's nginx.conf would include conf.d. */
export function writeMainConf(prefix: string, options: NginxOptions): { conf: string; command: string; errorLog: string } {
  mkdirSync(join(prefix, "tmp"), { recursive: true });
  const conf = join(prefix, "nginx.conf");
  const errorLog = join(prefix, "error.log");
  const tmp = (name: string) => `${name}_temp_path ${join(prefix, "tmp", name)};`;
  writeFileSync(
    conf,
    [
      ...(options.user ? [`user ${options.user};`] : []),
      "worker_processes 2;",
      `pid ${join(prefix, "nginx.pid")};`,
      `error_log ${errorLog} info;`,
      "daemon off;",
      "events { worker_connections 256; }",
      "http {",
      // Debian's binary has absolute temp paths compiled in (/var/lib/nginx); keep ours apart.
      ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((n) => `    ${tmp(n)}`),
      ...(options.http ? [options.http] : []),
      `    include ${options.includeGlob};`,
      "}",
      "",
    ].join("\n"),
  );
  return { conf, command: `${nginxBinary()} -p ${prefix}/ -c ${conf}`, errorLog };
}

/**
 * Starts nginx in the foreground and waits until `readyPort` on 127.0.0.1
 * accepts connections. Without one, nginx also serves a placeholder port of
 * its own (as a host's default site would) and waits for that: THON's files
 * are staged until its reload, so before it nginx serves nothing of the event.
 */
export async function startNginx(prefix: string, options: NginxOptions, readyPort?: number): Promise<TestNginx> {
  const port = readyPort ?? (await freePort());
  const placeholder = readyPort === undefined ? [`    server { listen 127.0.0.1:${port}; return 204; }`] : [];
  const http = [...(options.http ? [options.http] : []), ...placeholder].join("\n");
  const { conf, command, errorLog } = writeMainConf(prefix, { ...options, ...(http ? { http } : {}) });
  const child = spawn(nginxBinary(), ["-p", `${prefix}/`, "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  child.once("exit", () => (exited = true));
  await waitFor(
    () => {
      if (exited) throw new Error(`nginx exited: ${stderr}`);
      return connects(port);
    },
    `nginx on 127.0.0.1:${port}`,
  );
  const pidFile = join(prefix, "nginx.pid");
  return {
    command,
    prefix,
    errorLog,
    process: child,
    masterPid: () => Number(readFileSync(pidFile, "utf8").trim()),
    async stop() {
      if (exited) return;
      await stopGracefully(child);
    },
  };
}

export function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
    s.connect(port, "127.0.0.1");
  });
}

/** nginx's worker processes (children of the master), from /proc. */
export function workers(masterPid: number): Set<number> {
  const out = new Set<number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === masterPid) out.add(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** The real uid a process runs as, from /proc. */
export function processUid(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("Uid:"))!;
  return Number(line.split(/\s+/)[1]);
}

function title(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
  } catch {
    return undefined; // exited
  }
}

/**
 * Waits until a reload has taken over: new workers run, and every worker from
 * before has exited or is "shutting down" (it has closed its listening
 * sockets, so no new connection reaches the old configuration). Until then a
 * new connection may land on either generation.
 */
export async function reloaded(nginx: TestNginx, before: ReadonlySet<number>): Promise<void> {
  await waitFor(() => {
    const now = workers(nginx.masterPid());
    const fresh = [...now].filter((p) => !before.has(p));
    const oldOpen = [...before].filter((p) => {
      const t = title(p);
      return t !== undefined && !t.includes("shutting down");
    });
    return fresh.length > 0 && oldOpen.length === 0;
  }, "the reload to take over from the old workers");
  // The title changes just before the sockets close, in the same step.
  await new Promise((r) => setTimeout(r, 50));
}

/** thon.yaml's proxy section for a test nginx: every file under `root`, loopback ports. */
export function proxyYaml(root: string, o: { readonly https: number; readonly http: number; readonly nginx: string }): string {
  return `proxy:
  httpsPort: ${o.https}
  httpPort: ${o.http}
  listenAddress: 127.0.0.1
  configDir: ${root}/etc/thon
  includeDir: ${root}/etc/conf.d
  socketDir: ${root}/sockets
  accessLog: ${root}/log/access.log
  nginx: ${o.nginx}
`;
}

/** SIGTERM (nginx's fast shutdown), then SIGKILL after `graceMs`; resolves when the process has exited. */
export async function stopGracefully(child: ChildProcess, graceMs = 5_000): Promise<void> {
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await gone;
  clearTimeout(timer);
}
