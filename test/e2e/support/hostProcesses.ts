// Processes and network namespaces on this host, read from /proc: what the
// swarm harness (swarm.ts) needs to run commands, find a node's processes and
// end them. Hand-written because no maintained package reads these
// (/proc/<pid>/ns/net, task/*/children, status VmRSS) for us.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string | Buffer;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/** `/proc/<pid>/stat` field 22 (start time): tells a live owner from a reused pid. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(file: string, args: readonly string[], opts: RunOptions & { baseEnv?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: { ...(opts.baseEnv ?? process.env), ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timeout = opts.timeoutMs ?? 60_000;
    const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${err.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 + 9 : 1), stdout, stderr: signal ? `${stderr}(killed by ${signal} after ${timeout} ms)` : stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input);
  });
}

/** Runs a command that must succeed; the error names it and carries its stderr. */
export async function must(file: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(file, args, opts);
  if (r.code !== 0) throw new Error(`swarm harness: \`${file} ${args.join(" ")}\` exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export function netnsInode(name: string): number | undefined {
  try {
    return statSync(`/run/netns/${name}`).ino;
  } catch {
    return undefined;
  }
}

/** Host pids of every process in network namespace `name` (what `ip netns pids` prints). */
export function pidsInNetns(name: string): number[] {
  const ino = netnsInode(name);
  if (ino === undefined) return [];
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) === `net:[${ino}]`) out.push(Number(entry));
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return out;
}

/** The children of `pid`, across all its threads (a Go program forks from any of them). */
export function children(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
      try {
        return readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

export function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Kills every process of a node's network namespace and waits until none is left (bounded). */
export async function killNetnsProcesses(netns: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = pidsInNetns(netns);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (Date.now() > deadline) throw new Error(`swarm harness: processes ${pids.join(", ")} of ${netns} still alive after ${timeoutMs} ms`);
    await sleep(100);
  }
}
