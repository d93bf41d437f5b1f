// Live status per participant: Docker (one list call for the whole event,
// then inspect and a one-shot stats sample per container, bounded) and
// code-server's /healthz through the backend's transport (the participant's
// socket; on a swarm, their node's nginx). CPU is the delta to
// the previous refresh's sample (one-shot stats carry no previous sample), so
// the first refresh shows memory but no CPU yet.
import type { ParticipantPlan } from "../../infra/plan.ts";
import type { RunState } from "../../infra/config/schema.ts";
import { mapBounded } from "./bounded.ts";
import type { ContainerFacts, ContainerSample, NodeFacts, SandboxDocker } from "./docker.ts";
import { healthzOf, type Healthz } from "./healthz.ts";

/** host-down (swarm): the participant's node is down or unreachable; not a crash, its home comes back with the node. */
export type ContainerState = "running" | "exited" | "restarting" | "oom-killed" | "created" | "paused" | "dead" | "missing" | "host-down";

export interface LiveStatus {
  readonly name: string;
  readonly declared: RunState;
  /** Swarm: the node holding the participant; null on a single host. */
  readonly node: string | null;
  readonly container: {
    readonly id: string | null;
    readonly state: ContainerState;
    readonly exitCode: number | null;
    readonly restartCount: number;
    readonly startedAt: string | null;
    readonly finishedAt: string | null;
    /** host-down: what the swarm says of the node. */
    readonly hostDown?: string;
  };
  readonly codeServer: {
    /** alive: a client connection kept code-server's heart beating; expired: none lately; unreachable: no answer on the socket. */
    readonly status: "alive" | "expired" | "unreachable";
    readonly lastHeartbeat: string | null;
    /** A browser is connected now (code-server re-beats every 60 s while a connection is open). */
    readonly connected: boolean;
  };
  readonly memory: { readonly usedBytes: number; readonly limitBytes: number; readonly percent: number } | null;
  readonly cpu: { readonly percent: number } | null;
  /** One line an organizer understands at a glance. */
  readonly summary: string;
}

export interface StatusOptions {
  readonly concurrency?: number;
  readonly healthzTimeoutMs?: number;
  readonly now?: () => number;
}

/** Heartbeats this recent mean a connection is open (code-server beats every 60 s while one is). */
const CONNECTED_WITHIN_MS = 150_000;

export class StatusService {
  private readonly previous = new Map<string, ContainerSample>();
  constructor(
    private readonly docker: SandboxDocker,
    private readonly options: StatusOptions = {},
  ) {}

  async refresh(event: string, plans: readonly ParticipantPlan[]): Promise<Map<string, LiveStatus>> {
    const listed = await this.docker.list(event);
    const byUser = new Map(listed.map((c) => [c.user, c]));
    const now = (this.options.now ?? Date.now)();
    const statuses = await mapBounded(plans, this.options.concurrency ?? 16, async (p) => {
      const row = byUser.get(p.name);
      const facts = row ? await this.docker.inspect(row.id) : undefined;
      const running = facts?.running === true;
      const [sample, health] = await Promise.all([
        running ? this.docker.sample(facts!.id) : Promise.resolve(undefined),
        running ? healthzOf(this.docker)(p, this.options.healthzTimeoutMs ?? 2000) : Promise.resolve(undefined),
      ]);
      const cpu = sample && facts ? this.cpuPercent(facts.id, sample) : null;
      return describe(p, facts, sample, cpu, health, now);
    });
    return new Map(statuses.map((s) => [s.name, s]));
  }

  /** Swarm: the per-node summary (state, availability, participants, memory); null on a single host. */
  async nodes(event: string): Promise<NodeFacts[] | null> {
    return this.docker.nodes ? this.docker.nodes(event) : null;
  }

  private cpuPercent(id: string, s: ContainerSample): { percent: number } | null {
    const prev = this.previous.get(id);
    this.previous.set(id, s);
    if (!prev) return null;
    const cpu = s.cpuTotal - prev.cpuTotal;
    const sys = s.systemCpu - prev.systemCpu;
    if (sys <= 0 || cpu < 0) return null;
    return { percent: round1((cpu / sys) * s.onlineCpus * 100) };
  }
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export function containerState(f: ContainerFacts | undefined): ContainerState {
  if (!f) return "missing";
  if (f.hostDown !== undefined) return "host-down";
  if (f.oomKilled && !f.running) return "oom-killed";
  if (f.restarting) return "restarting";
  switch (f.status) {
    case "running":
    case "exited":
    case "created":
    case "paused":
    case "dead":
      return f.status;
    case "restarting":
      return "restarting";
    default:
      return "exited";
  }
}

export function describe(
  p: ParticipantPlan,
  f: ContainerFacts | undefined,
  sample: ContainerSample | undefined,
  cpu: { percent: number } | null,
  health: Healthz | undefined,
  now: number,
): LiveStatus {
  const state = containerState(f);
  const limit = f && f.memoryLimit > 0 ? f.memoryLimit : (sample?.memoryLimit ?? 0);
  const memory = sample && limit > 0 ? { usedBytes: sample.memoryUsed, limitBytes: limit, percent: round1((sample.memoryUsed / limit) * 100) } : null;
  const beat = health?.reachable && health.lastHeartbeat > 0 ? health.lastHeartbeat : 0;
  const codeServer = {
    status: health?.reachable ? health.status : ("unreachable" as const),
    lastHeartbeat: beat > 0 ? new Date(beat).toISOString() : null,
    connected: health?.reachable === true && health.status === "alive" && beat > 0 && now - beat < CONNECTED_WITHIN_MS,
  };
  const status: Omit<LiveStatus, "summary"> = {
    name: p.name,
    declared: p.state,
    node: f?.node ?? null,
    container: {
      id: f?.id ?? null,
      state,
      exitCode: f && !f.running ? f.exitCode : null,
      restartCount: f?.restartCount ?? 0,
      startedAt: f?.startedAt ?? null,
      finishedAt: f?.finishedAt ?? null,
      ...(f?.hostDown !== undefined ? { hostDown: f.hostDown } : {}),
    },
    codeServer,
    memory,
    cpu,
  };
  return { ...status, summary: summarize(status, health, now) };
}

const ago = (ms: number) => (ms < 90_000 ? `${Math.max(1, Math.round(ms / 1000))} s ago` : ms < 5_400_000 ? `${Math.round(ms / 60_000)} min ago` : `${Math.round(ms / 3_600_000)} h ago`);
const mib = (b: number) => (b >= 1024 ** 3 ? `${round1(b / 1024 ** 3)} GiB` : `${Math.round(b / 1024 ** 2)} MiB`);

/** The one line: what is wrong first, then who is connected, then memory when it is tight. */
export function summarize(s: Omit<LiveStatus, "summary">, health: Healthz | undefined, now: number): string {
  const c = s.container;
  const restarts = c.restartCount > 0 ? `, restarted ${c.restartCount} time${c.restartCount === 1 ? "" : "s"}` : "";
  if (c.state === "host-down") return `host down: ${c.hostDown ?? `node ${s.node} is unreachable`}; its participants come back with their homes when the node returns (or move them: thon users move-node)`;
  if (s.declared === "stopped") {
    if (c.state === "running") return "running, but thon.yaml says stopped: apply to stop it";
    return "stopped, as thon.yaml says";
  }
  switch (c.state) {
    case "missing":
      return "no container: thon.yaml says running; apply to create it";
    case "oom-killed":
      return `out of memory: killed at its limit${s.memory ? ` of ${mib(s.memory.limitBytes)}` : ""} (exit code ${c.exitCode})${restarts}; raise sandbox.memory or restart it`;
    case "restarting":
      return `crash loop: restarting (last exit code ${c.exitCode ?? "?"})${restarts}; see its logs`;
    case "exited":
    case "dead":
      return `down: exited with code ${c.exitCode}${restarts}; see its logs, then restart it`;
    case "created":
      return "created but not started: apply or restart it";
    case "paused":
      return "paused: unpause it with docker unpause";
    case "running":
      break;
  }
  const parts: string[] = [];
  const via = s.node ? `through node ${s.node}'s nginx` : "on its socket";
  if (!health?.reachable) parts.push(`running, but code-server does not answer ${via} (${health?.error ?? "not probed"})`);
  else if (s.codeServer.connected) parts.push(`running, someone connected (last activity ${ago(now - Date.parse(s.codeServer.lastHeartbeat!))})`);
  else if (s.codeServer.lastHeartbeat) parts.push(`running, nobody connected (last seen ${ago(now - Date.parse(s.codeServer.lastHeartbeat))})`);
  else parts.push("running, nobody has connected yet");
  if (s.memory && s.memory.percent >= 90) parts.push(`near its memory limit: ${mib(s.memory.usedBytes)} of ${mib(s.memory.limitBytes)}`);
  else if (s.memory) parts.push(`memory ${Math.round(s.memory.percent)}% of ${mib(s.memory.limitBytes)}`);
  if (c.restartCount > 0) parts.push(`restarted ${c.restartCount} time${c.restartCount === 1 ? "" : "s"}`);
  return parts.join("; ");
}
