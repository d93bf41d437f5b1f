// The console's Docker backend on a Swarm target: a participant is one
// service `thon-<user>` with one replica (SWARM.md), seen through the
// manager's Engine API. One list call each for the event's services, the
// tasks and the nodes per refresh; a participant's facts are its service,
// its newest task and that task's node:
//  - replicas 0: stopped (declared stopped, or parked by idle);
//  - node down/unknown/disconnected, or the task orphaned/unknown: "host down",
//    not a crash (its home is on that node and comes back with it);
//  - restart count: the failed tasks swarm still remembers (task history);
//    OOM: a task error that says so (swarm keeps no OOMKilled flag).
// Imperative operations: restart = a forced update (`service update --force`),
// logs = service logs, park/wake = replicas 0/1.
import { demuxedLines } from "./logLines.ts";
import Docker from "dockerode";
import type { ContainerFacts, ContainerListing, ContainerSample, NodeFacts, SandboxDocker } from "./docker.ts";
import { demux } from "./docker.ts";
import type { IdleDocker } from "../idle/docker.ts";
import type { HealthzTransport } from "./healthz.ts";
import { pinnedNode } from "../../infra/config/swarmTarget.ts";

/** The fields of the Engine API's Service, Task and Node objects THON reads (API 1.41). */
export interface SwarmService {
  ID: string;
  Version: { Index: number };
  Spec: {
    Name: string;
    Labels?: Record<string, string>;
    Mode?: { Replicated?: { Replicas?: number } };
    TaskTemplate?: {
      ForceUpdate?: number;
      Placement?: { Constraints?: string[] };
      Resources?: { Limits?: { MemoryBytes?: number } };
      ContainerSpec?: { Image?: string };
      [k: string]: unknown;
    };
    [k: string]: unknown;
  };
}
export interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Version?: { Index: number };
  CreatedAt?: string;
  DesiredState?: string;
  Status?: { State?: string; Timestamp?: string; Err?: string; Message?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
}
export interface SwarmNode {
  ID: string;
  Description?: { Hostname?: string; Resources?: { MemoryBytes?: number } };
  Spec?: { Availability?: string; Labels?: Record<string, string> };
  Status?: { State?: string; Addr?: string; Message?: string };
}

const DOWN_NODE_STATES = new Set(["down", "unknown", "disconnected"]);
const STARTING_TASK_STATES = new Set(["new", "pending", "assigned", "accepted", "ready", "preparing", "starting"]);
const ENDED_TASK_STATES = new Set(["complete", "shutdown", "failed", "rejected", "remove"]);

const replicasOf = (s: SwarmService) => s.Spec.Mode?.Replicated?.Replicas ?? 1;
const taskOrder = (t: SwarmTask) => t.Version?.Index ?? Date.parse(t.CreatedAt ?? "") ?? 0;

/** The hostname of a node (what target.nodes names), else its ID. */
export const nodeName = (n: SwarmNode) => n.Description?.Hostname ?? n.ID;

/**
 * A participant's facts from its service, its tasks (newest first) and the
 * swarm's nodes. Pure, so the rules above are tested without an engine.
 */
export function serviceFacts(service: SwarmService, tasks: readonly SwarmTask[], nodes: ReadonlyMap<string, SwarmNode>): ContainerFacts {
  const newest = [...tasks].sort((a, b) => taskOrder(b) - taskOrder(a));
  const current = newest.find((t) => t.DesiredState === "running") ?? newest[0];
  const taskNode = current?.NodeID ? nodes.get(current.NodeID) : undefined;
  const pinned = pinnedNode(service.Spec.TaskTemplate?.Placement?.Constraints);
  const node = pinned ?? (taskNode ? nodeName(taskNode) : undefined);
  const nodeByName = [...nodes.values()].find((n) => nodeName(n) === node);
  const state = current?.Status?.State ?? "";
  const failures = newest.filter((t) => t.Status?.State === "failed" || t.Status?.State === "rejected");
  const err = current?.Status?.Err ?? "";
  const replicas = replicasOf(service);
  const nodeState = (taskNode ?? nodeByName)?.Status?.State ?? "";
  let hostDown: string | undefined;
  if (replicas > 0 && node !== undefined) {
    if (DOWN_NODE_STATES.has(nodeState)) hostDown = `node ${node} is ${nodeState}${(taskNode ?? nodeByName)?.Status?.Message ? ` (${(taskNode ?? nodeByName)!.Status!.Message})` : ""}`;
    else if (state === "orphaned" || state === "unknown") hostDown = `node ${node} does not report the task (task ${state})`;
  }
  let status: string;
  if (replicas === 0) status = "exited";
  else if (state === "running") status = "running";
  else if (STARTING_TASK_STATES.has(state)) status = failures.length > 0 ? "restarting" : "created";
  else if (ENDED_TASK_STATES.has(state) || state === "") status = current ? "exited" : "created";
  else status = "exited";
  const exitCode = current?.Status?.ContainerStatus?.ExitCode ?? (failures[0]?.Status?.ContainerStatus?.ExitCode ?? 0);
  return {
    id: service.ID,
    status,
    running: status === "running" && hostDown === undefined,
    restarting: status === "restarting",
    oomKilled: /\boom\b|out of memory/i.test(err || failures[0]?.Status?.Err || ""),
    exitCode: status === "running" ? 0 : exitCode,
    restartCount: failures.length,
    startedAt: state === "running" ? (current?.Status?.Timestamp ?? null) : null,
    finishedAt: current && ENDED_TASK_STATES.has(state) ? (current.Status?.Timestamp ?? null) : null,
    image: service.Spec.TaskTemplate?.ContainerSpec?.Image ?? "",
    memoryLimit: service.Spec.TaskTemplate?.Resources?.Limits?.MemoryBytes ?? 0,
    ...(node !== undefined ? { node } : {}),
    ...(hostDown !== undefined ? { hostDown } : {}),
  };
}

/** The per-node summary: every swarm node, with the event's services pinned (or running) there. */
export function nodeSummary(nodes: readonly SwarmNode[], facts: readonly ContainerFacts[]): NodeFacts[] {
  return nodes
    .map((n) => {
      const name = nodeName(n);
      const here = facts.filter((f) => f.node === name);
      const running = here.filter((f) => f.status === "running");
      return {
        node: name,
        state: n.Status?.State ?? "unknown",
        availability: n.Spec?.Availability ?? "unknown",
        participants: here.length,
        running: running.length,
        memoryAssignedBytes: running.reduce((sum, f) => sum + f.memoryLimit, 0),
        memoryBytes: n.Description?.Resources?.MemoryBytes ?? 0,
      };
    })
    .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

/** Resolves a node's own engine (for container stats), or undefined when it is not reachable from here. */
export type NodeEngine = (node: string) => Docker | undefined;

export class SwarmSandboxes implements SandboxDocker {
  /** The last refresh's view, so inspect(id) after list(event) costs no extra calls. */
  private cache: { at: number; services: Map<string, SwarmService>; tasks: Map<string, SwarmTask[]>; nodes: Map<string, SwarmNode> } | undefined;

  constructor(
    private readonly manager: Docker,
    private readonly nodeEngine: NodeEngine = () => undefined,
    /** How long one list's answers serve the inspects that follow (ms). */
    private readonly cacheMs = 1000,
    /** code-server's /healthz through each node's nginx (./nodeHealthz.ts); the socket is on the node, not here. */
    readonly healthz?: HealthzTransport,
  ) {}

  private async load(event: string) {
    const [services, tasks, nodes] = await Promise.all([
      this.manager.listServices({ filters: { label: [`org.thon.event=${event}`] } }) as unknown as Promise<SwarmService[]>,
      // Tasks do not carry their service's labels: all tasks, kept below for the event's services.
      this.manager.listTasks() as Promise<SwarmTask[]>,
      this.manager.listNodes() as Promise<SwarmNode[]>,
    ]);
    const byService = new Map<string, SwarmTask[]>();
    const ours = new Set(services.map((s) => s.ID));
    for (const t of tasks) if (ours.has(t.ServiceID)) byService.set(t.ServiceID, [...(byService.get(t.ServiceID) ?? []), t]);
    this.cache = { at: Date.now(), services: new Map(services.map((s) => [s.ID, s])), tasks: byService, nodes: new Map(nodes.map((n) => [n.ID, n])) };
    return this.cache;
  }

  async list(event: string): Promise<ContainerListing[]> {
    const { services, tasks, nodes } = await this.load(event);
    return [...services.values()].map((s) => ({ id: s.ID, user: s.Spec.Labels?.["org.thon.user"] ?? "", state: serviceFacts(s, tasks.get(s.ID) ?? [], nodes).status }));
  }

  async inspect(id: string): Promise<ContainerFacts | undefined> {
    let c = this.cache && Date.now() - this.cache.at < this.cacheMs ? this.cache : undefined;
    let service = c?.services.get(id);
    if (!c || !service) {
      try {
        service = (await this.manager.getService(id).inspect()) as SwarmService;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
      }
      const [tasks, nodes] = await Promise.all([this.manager.listTasks({ filters: { service: [service.Spec.Name] } }) as Promise<SwarmTask[]>, this.manager.listNodes() as Promise<SwarmNode[]>]);
      c = { at: Date.now(), services: new Map([[id, service]]), tasks: new Map([[id, tasks.filter((t) => t.ServiceID === id)]]), nodes: new Map(nodes.map((n) => [n.ID, n])) };
    }
    return serviceFacts(service, c.tasks.get(id) ?? [], c.nodes);
  }

  async sample(id: string): Promise<ContainerSample | undefined> {
    // The task's container lives on its node: stats come from that node's engine, when it can be reached.
    const task = (this.cache?.tasks.get(id) ?? []).find((t) => t.DesiredState === "running" && t.Status?.State === "running");
    const node = task?.NodeID ? this.cache?.nodes.get(task.NodeID) : undefined;
    const containerId = task?.Status?.ContainerStatus?.ContainerID;
    const engine = node ? this.nodeEngine(nodeName(node)) : undefined;
    if (!engine || !containerId) return undefined;
    try {
      const s = (await engine.getContainer(containerId).stats({ stream: false, "one-shot": true } as { stream: false })) as {
        memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
        cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
      };
      const mem = s.memory_stats ?? {};
      const cache = mem.stats?.inactive_file ?? mem.stats?.total_inactive_file ?? 0;
      return { memoryUsed: Math.max(0, (mem.usage ?? 0) - cache), memoryLimit: mem.limit ?? 0, cpuTotal: s.cpu_stats?.cpu_usage?.total_usage ?? 0, systemCpu: s.cpu_stats?.system_cpu_usage ?? 0, onlineCpus: s.cpu_stats?.online_cpus ?? 1 };
    } catch {
      return undefined; // a node that does not answer is shown by its state, not by a failed refresh
    }
  }

  /** CPU over about a second (two samples on the task's node), percent of one core; throws when the node's engine cannot be asked. */
  async cpuPercent(idOrName: string): Promise<number> {
    const task = (await this.tasks(idOrName)).find((t) => t.DesiredState === "running" && t.Status?.State === "running");
    const containerId = task?.Status?.ContainerStatus?.ContainerID;
    if (!task?.NodeID || !containerId) throw new Error(`${idOrName} has no running task`);
    const node = (await this.manager.getNode(task.NodeID).inspect()) as SwarmNode;
    const engine = this.nodeEngine(nodeName(node));
    if (!engine) throw new Error(`the engine of node ${nodeName(node)} is not reachable from here`);
    const s = await engine.getContainer(containerId).stats({ stream: false });
    const cpu = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
    const system = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
    return system > 0 && cpu > 0 ? (cpu / system) * (s.cpu_stats.online_cpus ?? 1) * 100 : 0;
  }

  /** `docker service update --force`: a new task on the same node (stop-first), the volume kept. */
  async restart(id: string): Promise<void> {
    await this.update(id, (spec) => ({ ...spec, TaskTemplate: { ...spec.TaskTemplate, ForceUpdate: (spec.TaskTemplate?.ForceUpdate ?? 0) + 1 } }));
  }

  /** `docker service scale <service>=<replicas>`. */
  async scale(idOrName: string, replicas: number): Promise<void> {
    await this.update(idOrName, (spec) => ({ ...spec, Mode: { Replicated: { Replicas: replicas } } }));
  }

  /** The service's spec and version (undefined when there is no such service). */
  async service(idOrName: string): Promise<SwarmService | undefined> {
    try {
      return (await this.manager.getService(idOrName).inspect()) as SwarmService;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** The service's replica count; undefined when there is no such service. */
  async replicas(idOrName: string): Promise<number | undefined> {
    const s = await this.service(idOrName);
    return s ? (s.Spec.Mode?.Replicated?.Replicas ?? 1) : undefined;
  }

  /** Resolves once none of the service's tasks runs or is starting (its volumes are no longer written); rejects after the timeout. */
  async waitStopped(idOrName: string, timeoutMs: number, pollMs = 500): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const live = (await this.tasks(idOrName)).filter((t) => !ENDED_TASK_STATES.has(t.Status?.State ?? "") && t.Status?.State !== "orphaned");
      if (live.length === 0) return;
      if (Date.now() > end) throw new Error(`${idOrName} still has a ${live[0]!.Status?.State} task after ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** Tasks of one service, newest first. */
  async tasks(idOrName: string): Promise<SwarmTask[]> {
    const s = await this.service(idOrName);
    if (!s) return [];
    const tasks = (await this.manager.listTasks({ filters: { service: [s.Spec.Name] } })) as SwarmTask[];
    return tasks.filter((t) => t.ServiceID === s.ID).sort((a, b) => taskOrder(b) - taskOrder(a));
  }

  private async update(idOrName: string, change: (spec: SwarmService["Spec"]) => SwarmService["Spec"]): Promise<void> {
    const s = await this.manager.getService(idOrName).inspect() as SwarmService;
    // The version makes the update refuse to overwrite a concurrent one (409 out of sequence).
    // docker-modem: _query goes to the query string, _body is the request body (the ServiceSpec).
    await this.manager.getService(s.ID).update({ _query: { version: s.Version.Index }, _body: change(s.Spec) } as never);
  }

  async logs(id: string, tail: number): Promise<string[]> {
    const buf = (await this.manager.getService(id).logs({ stdout: true, stderr: true, tail, follow: false } as never)) as unknown as Buffer;
    return demux(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf))).split("\n").filter((l, i, all) => l !== "" || i < all.length - 1);
  }

  async *follow(id: string, tail: number, signal: AbortSignal): AsyncIterable<string> {
    const stream = (await this.manager.getService(id).logs({ stdout: true, stderr: true, tail, follow: true, abortSignal: signal } as never)) as unknown as NodeJS.ReadableStream;
    yield* demuxedLines(stream, this.manager.modem, signal);
  }

  async nodes(event: string): Promise<NodeFacts[]> {
    const { services, tasks, nodes } = await this.load(event);
    const facts = [...services.values()].map((s) => serviceFacts(s, tasks.get(s.ID) ?? [], nodes));
    return nodeSummary([...nodes.values()], facts);
  }
}

/**
 * Idle parking on a swarm: parked = replicas 0 (the task stops, the volume
 * stays on its node), woken = replicas 1 (the task comes back on the pinned
 * node). The service ID plays the container ID of the park record: it stays
 * the same across scaling, and changes only when `pulumi up` replaces the
 * service, as a container's does.
 */
export function swarmIdleDocker(swarm: SwarmSandboxes): IdleDocker {
  return {
    async inspect(name) {
      const s = await swarm.service(name);
      if (!s) return undefined;
      const task = (await swarm.tasks(s.ID)).find((t) => t.DesiredState === "running");
      const running = (s.Spec.Mode?.Replicated?.Replicas ?? 1) > 0 && task?.Status?.State === "running";
      const at = running && task?.Status?.Timestamp ? new Date(task.Status.Timestamp) : undefined;
      return { id: s.ID, running, ...(at ? { startedAt: at } : {}) };
    },
    // Scaling to the count it has is no error, as stop/start of a stopped/running container are not.
    stop: (name) => swarm.scale(name, 0),
    start: (name) => swarm.scale(name, 1),
    cpuPercent: (name) => swarm.cpuPercent(name),
    ...(swarm.healthz ? { healthz: swarm.healthz } : {}),
  };
}
