// What the console asks of Docker, as one small interface: the status
// refresh, restart and logs. The real one talks to the Engine API with
// dockerode over the unix socket; unit tests pass a stand-in from test/support.
import { demuxedLines } from "./logLines.ts";
import Docker from "dockerode";
import { cgroupSample } from "./cgroup.ts";
import type { HealthzTransport } from "./healthz.ts";

export interface ContainerListing {
  readonly id: string;
  /** org.thon.user label. */
  readonly user: string;
  readonly state: string;
}

export interface ContainerFacts {
  readonly id: string;
  /** Docker's State.Status: created, running, paused, restarting, removing, exited, dead. */
  readonly status: string;
  readonly running: boolean;
  readonly restarting: boolean;
  readonly oomKilled: boolean;
  readonly exitCode: number;
  readonly restartCount: number;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly image: string;
  /** HostConfig.Memory in bytes; 0 = no limit. */
  readonly memoryLimit: number;
  /** Swarm: the node holding the participant (its pinned node, else its task's). */
  readonly node?: string;
  /** Swarm: why the participant's node cannot run it now (node down or unreachable, task orphaned); absent when it can. */
  readonly hostDown?: string;
}

/** Swarm: one node as the status page summarises it. */
export interface NodeFacts {
  readonly node: string;
  /** The swarm's view: ready, down, unknown, disconnected. */
  readonly state: string;
  /** active, pause, drain. */
  readonly availability: string;
  /** The event's participants pinned to it. */
  readonly participants: number;
  /** Of those, with a running task. */
  readonly running: number;
  /** Memory limits of its running participants (bytes). */
  readonly memoryAssignedBytes: number;
  /** What the node's engine reports (bytes); 0 when unknown. */
  readonly memoryBytes: number;
}

export interface ContainerSample {
  /** Memory in use as `docker stats` counts it (usage minus inactive file cache). */
  readonly memoryUsed: number;
  readonly memoryLimit: number;
  readonly cpuTotal: number;
  readonly systemCpu: number;
  readonly onlineCpus: number;
}

export interface SandboxDocker {
  /** One call: every container labelled org.thon.event=<event>, running or not. */
  list(event: string): Promise<ContainerListing[]>;
  inspect(id: string): Promise<ContainerFacts | undefined>;
  /** One sample (one-shot stats: no second sample, so no 1 s wait). */
  sample(id: string): Promise<ContainerSample | undefined>;
  restart(id: string, timeoutSeconds: number): Promise<void>;
  /** The last `tail` log lines, stdout and stderr. */
  logs(id: string, tail: number): Promise<string[]>;
  /** Follows the log until `signal` aborts; each line once. */
  follow(id: string, tail: number, signal: AbortSignal): AsyncIterable<string>;
  /** Swarm: every node of the swarm with the event's participants on it; undefined on a single host. */
  nodes?(event: string): Promise<NodeFacts[]>;
  /** How code-server's /healthz is read (console/ops/backend.ts picks it); absent: the participant's socket on this host. */
  readonly healthz?: HealthzTransport;
}

const dateOrNull = (s: string | undefined) => (!s || s.startsWith("0001-") ? null : s);

interface StatsReply {
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
}

export class DockerodeSandboxes implements SandboxDocker {
  private readonly docker: Docker;

  /**
   * `socketPath` from DOCKER_HOST unix://… (default /var/run/docker.sock).
   * `cgroupRoot`: read memory and CPU from the host's cgroup files there (fast); null: only the Engine API.
   */
  constructor(
    socketPath = socketOf(process.env.DOCKER_HOST),
    private readonly cgroupRoot: string | null = "/sys/fs/cgroup",
  ) {
    this.docker = new Docker({ socketPath });
  }

  async list(event: string): Promise<ContainerListing[]> {
    const rows = await this.docker.listContainers({ all: true, filters: { label: [`org.thon.event=${event}`] } });
    return rows.map((r) => ({ id: r.Id, user: r.Labels["org.thon.user"] ?? "", state: r.State }));
  }

  async inspect(id: string): Promise<ContainerFacts | undefined> {
    try {
      const i = await this.docker.getContainer(id).inspect();
      return {
        id: i.Id,
        status: i.State.Status,
        running: i.State.Running,
        restarting: i.State.Restarting,
        oomKilled: i.State.OOMKilled,
        exitCode: i.State.ExitCode,
        restartCount: i.RestartCount,
        startedAt: dateOrNull(i.State.StartedAt),
        finishedAt: dateOrNull(i.State.FinishedAt),
        image: i.Config.Image,
        memoryLimit: i.HostConfig.Memory ?? 0,
      };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  async sample(id: string): Promise<ContainerSample | undefined> {
    if (this.cgroupRoot !== null) {
      const local = cgroupSample(id, this.cgroupRoot);
      if (local) return local;
    }
    try {
      // "one-shot" (API 1.41+) answers at once instead of waiting for a second sample.
      const s = (await this.docker.getContainer(id).stats({ stream: false, "one-shot": true } as { stream: false })) as StatsReply;
      const mem = s.memory_stats ?? {};
      // As the docker CLI: cgroup v2 counts inactive_file, v1 total_inactive_file.
      const cache = mem.stats?.inactive_file ?? mem.stats?.total_inactive_file ?? 0;
      return {
        memoryUsed: Math.max(0, (mem.usage ?? 0) - cache),
        memoryLimit: mem.limit ?? 0,
        cpuTotal: s.cpu_stats?.cpu_usage?.total_usage ?? 0,
        systemCpu: s.cpu_stats?.system_cpu_usage ?? 0,
        onlineCpus: s.cpu_stats?.online_cpus ?? 1,
      };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  async restart(id: string, timeoutSeconds: number): Promise<void> {
    await this.docker.getContainer(id).restart({ t: timeoutSeconds });
  }

  async logs(id: string, tail: number): Promise<string[]> {
    const buf = (await this.docker.getContainer(id).logs({ stdout: true, stderr: true, tail, follow: false })) as unknown as Buffer;
    return splitLines(demux(buf));
  }

  async *follow(id: string, tail: number, signal: AbortSignal): AsyncIterable<string> {
    const stream = (await this.docker.getContainer(id).logs({ stdout: true, stderr: true, tail, follow: true, abortSignal: signal })) as NodeJS.ReadableStream;
    yield* demuxedLines(stream, this.docker.modem, signal);
  }
}

export function socketOf(dockerHost: string | undefined): string {
  if (!dockerHost) return "/var/run/docker.sock";
  if (dockerHost.startsWith("unix://")) return dockerHost.slice("unix://".length);
  throw new Error(`DOCKER_HOST=${dockerHost}: the console talks to Docker over its unix socket only. Fix: unset DOCKER_HOST or set unix:///path/docker.sock`);
}

/** The Engine API's multiplexed log stream (8-byte frame headers) as text; a TTY container's raw text as is. */
export function demux(b: Buffer): string {
  if (b.length < 8 || ![0, 1, 2].includes(b[0]!) || b[1] !== 0 || b[2] !== 0 || b[3] !== 0) return b.toString("utf8");
  let out = "";
  for (let i = 0; i + 8 <= b.length; ) {
    const size = b.readUInt32BE(i + 4);
    out += b.subarray(i + 8, i + 8 + size).toString("utf8");
    i += 8 + size;
  }
  return out;
}

const splitLines = (s: string) => s.split("\n").filter((l, i, all) => l !== "" || i < all.length - 1);
