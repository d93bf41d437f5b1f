// A stand-in for the Docker Engine API on a unix socket, named as such: the
// few read endpoints `thon doctor` asks (GET /_ping, /version, /info,
// /images/{name}/json), and for a swarm manager what the console asks (GET
// /nodes, /nodes/{id}, /services, /services/{id}, /tasks, /services/{id}/logs; POST
// /services/{id}/update), in the shapes of Engine API 1.41
// (docs.docker.com/engine/api/v1.41). Tests that mean to fake the host's
// engine use it, so they do not depend on a dockerd or on images present on
// the machine running them. Unknown paths answer 404 with the engine's
// {"message"} body, so a test that needs more fails loudly.
//
// The swarm part follows swarmkit's rules for one replicated service with
// one replica: an update needs the current version (else "update out of
// sequence"); replicas 0 shuts the task down; replicas 1 or a new
// ForceUpdate starts a new task on the node its `node.labels.org.thon.node==`
// constraint names (pending while that node is down), the old one shut down.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface EngineStandInOptions {
  /** Image references present ("name:tag"), with their size in bytes. */
  readonly images?: Readonly<Record<string, number>>;
  readonly version?: string;
  readonly apiVersion?: string;
  readonly driver?: string;
  /** DockerRootDir in /info (default: a temp folder, so `statfs` reads this machine's disk). */
  readonly rootDir?: string;
  /** A swarm manager's state; absent: the engine is not in a swarm (503 as dockerd answers). */
  readonly swarm?: SwarmState;
}

/** The swarm as the stand-in's manager holds it (Engine API objects; tests edit it directly to kill a node). */
export interface SwarmState {
  nodes: StandInNode[];
  services: StandInService[];
  tasks: StandInTask[];
  /** Log lines per service name (service logs). */
  logs?: Record<string, string[]>;
}
export interface StandInNode {
  ID: string;
  Description: { Hostname: string; Resources: { MemoryBytes: number } };
  Spec: { Availability: string; Labels: Record<string, string> };
  Status: { State: string; Addr: string; Message?: string };
}
export interface StandInService {
  ID: string;
  Version: { Index: number };
  Spec: { Name: string; Labels: Record<string, string>; Mode: { Replicated: { Replicas: number } }; TaskTemplate: { ForceUpdate?: number; Placement?: { Constraints?: string[] }; Resources?: { Limits?: { MemoryBytes?: number } }; ContainerSpec?: { Image?: string } } };
}
export interface StandInTask {
  ID: string;
  ServiceID: string;
  NodeID: string;
  Version: { Index: number };
  DesiredState: string;
  Status: { State: string; Timestamp: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
}

let counter = 0;
const newId = () => `${(++counter).toString(16).padStart(8, "0")}${"a".repeat(17)}`;

/** A swarm node as the manager lists it (ready, active, labelled with its name). */
export function standInNode(name: string, memoryBytes: number, labels: Record<string, string> = {}): StandInNode {
  return { ID: newId(), Description: { Hostname: name, Resources: { MemoryBytes: memoryBytes } }, Spec: { Availability: "active", Labels: { "org.thon.node": name, ...labels } }, Status: { State: "ready", Addr: "127.0.0.1" } };
}

/** A participant's service as components/ would declare it (SWARM.md), and its first task when running. */
export function standInService(swarm: SwarmState, event: string, user: string, node: string, replicas = 1, memoryBytes = 2 * 2 ** 30): StandInService {
  const service: StandInService = {
    ID: newId(),
    Version: { Index: ++swarmVersion },
    Spec: {
      Name: `thon-${user}`,
      Labels: { "org.thon.event": event, "org.thon.user": user },
      Mode: { Replicated: { Replicas: replicas } },
      TaskTemplate: { ForceUpdate: 0, Placement: { Constraints: [`node.labels.org.thon.node==${node}`] }, Resources: { Limits: { MemoryBytes: memoryBytes } }, ContainerSpec: { Image: "thon-sandbox:offline" } },
    },
  };
  swarm.services.push(service);
  if (replicas > 0) startTask(swarm, service);
  return service;
}

let swarmVersion = 1;

function startTask(swarm: SwarmState, service: StandInService): void {
  const wanted = /node\.labels\.org\.thon\.node==(\S+)/.exec(service.Spec.TaskTemplate.Placement?.Constraints?.[0] ?? "")?.[1];
  const node = swarm.nodes.find((n) => n.Spec.Labels["org.thon.node"] === wanted);
  const up = node !== undefined && node.Status.State === "ready" && node.Spec.Availability === "active";
  swarm.tasks.push({
    ID: newId(),
    ServiceID: service.ID,
    NodeID: up ? node.ID : "",
    Version: { Index: ++swarmVersion },
    DesiredState: "running",
    Status: { State: up ? "running" : "pending", Timestamp: new Date().toISOString(), ...(up ? { ContainerStatus: { ContainerID: newId() } } : { Err: "no suitable node" }) },
  });
}

function shutdownTasks(swarm: SwarmState, service: StandInService): void {
  for (const t of swarm.tasks) {
    if (t.ServiceID === service.ID && t.DesiredState === "running") {
      t.DesiredState = "shutdown";
      t.Status = { ...t.Status, State: "shutdown", Timestamp: new Date().toISOString() };
      t.Version = { Index: ++swarmVersion };
    }
  }
}

/** Applies a service update as swarmkit does for one replica (see the header). */
function updateService(swarm: SwarmState, service: StandInService, spec: StandInService["Spec"]): void {
  const before = service.Spec;
  service.Spec = spec;
  service.Version = { Index: ++swarmVersion };
  const replicas = spec.Mode?.Replicated?.Replicas ?? 1;
  const forced = (spec.TaskTemplate?.ForceUpdate ?? 0) !== (before.TaskTemplate?.ForceUpdate ?? 0);
  const moved = JSON.stringify(spec.TaskTemplate?.Placement) !== JSON.stringify(before.TaskTemplate?.Placement);
  const running = swarm.tasks.some((t) => t.ServiceID === service.ID && t.DesiredState === "running");
  if (replicas === 0) shutdownTasks(swarm, service);
  else if (!running || forced || moved) {
    shutdownTasks(swarm, service);
    startTask(swarm, service);
  }
}

/** The Engine API's multiplexed log frames (stdout, 8-byte headers). */
function frames(lines: readonly string[]): Buffer {
  return Buffer.concat(lines.map((l) => {
    const body = Buffer.from(`${l}\n`);
    const head = Buffer.alloc(8);
    head[0] = 1;
    head.writeUInt32BE(body.length, 4);
    return Buffer.concat([head, body]);
  }));
}

/** The Engine API's `filters` query parameter ({"label":["k=v"],"service":["name"]}). */
function filtersOf(url: URL): Record<string, string[]> {
  const raw = url.searchParams.get("filters");
  if (!raw) return {};
  const parsed = JSON.parse(raw) as Record<string, string[] | Record<string, boolean>>;
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, Array.isArray(v) ? v : Object.keys(v)]));
}

export interface EngineStandIn {
  /** unix:///…/docker.sock, for target.dockerHost. */
  readonly dockerHost: string;
  readonly socketPath: string;
  /** Every request's method and path, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startEngineStandIn(options: EngineStandInOptions = {}): Promise<EngineStandIn> {
  const dir = mkdtempSync(join(tmpdir(), "thon-engine-"));
  const socketPath = join(dir, "docker.sock");
  const images = options.images ?? {};
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://engine");
    // dockerode may prefix a version (/v1.41/…); the engine accepts both.
    const path = decodeURIComponent(url.pathname.replace(/^\/v1\.\d+(?=\/)/, ""));
    requests.push(`${req.method} ${path}`);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json", "Api-Version": options.apiVersion ?? "1.41" });
      res.end(JSON.stringify(body));
    };
    const swarm = options.swarm;
    if (req.method === "POST" && swarm) {
      const update = /^\/services\/([^/]+)\/update$/.exec(path)?.[1];
      const service = update ? swarm.services.find((s) => s.ID === update || s.Spec.Name === update) : undefined;
      if (update && !service) return json(404, { message: `service ${update} not found` });
      if (service) {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString("utf8")));
        req.on("end", () => {
          if (Number(url.searchParams.get("version")) !== service.Version.Index) return json(500, { message: "rpc error: code = Unknown desc = update out of sequence" });
          updateService(swarm, service, JSON.parse(body) as StandInService["Spec"]);
          json(200, { Warnings: null });
        });
        return;
      }
    }
    if (req.method !== "GET" && req.method !== "HEAD") return json(404, { message: `page not found (stand-in has no ${req.method} ${path})` });
    if (path === "/_ping") return json(200, "OK");
    if (path === "/version") return json(200, { Version: options.version ?? "20.10.24", ApiVersion: options.apiVersion ?? "1.41", MinAPIVersion: "1.12", Os: "linux", Arch: "amd64" });
    if (path === "/info") return json(200, { Driver: options.driver ?? "overlay2", DockerRootDir: options.rootDir ?? dir, Swarm: { LocalNodeState: swarm ? "active" : "inactive", ControlAvailable: swarm !== undefined } });
    if (/^\/(nodes|services|tasks)(\/|$)/.test(path)) {
      if (!swarm) return json(503, { message: "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again." });
      const f = filtersOf(url);
      if (path === "/nodes") return json(200, swarm.nodes);
      const nodeRef = /^\/nodes\/([^/]+)$/.exec(path)?.[1];
      if (nodeRef !== undefined) {
        const node = swarm.nodes.find((n) => n.ID === nodeRef || n.Description.Hostname === nodeRef);
        return node ? json(200, node) : json(404, { message: `node ${nodeRef} not found` });
      }
      if (path === "/services") {
        const labels = f.label ?? [];
        return json(200, swarm.services.filter((s) => labels.every((l) => { const [k, v] = l.split("="); return v === undefined ? k! in s.Spec.Labels : s.Spec.Labels[k!] === v; })));
      }
      if (path === "/tasks") {
        const names = f.service;
        const ids = names ? new Set(swarm.services.filter((s) => names.some((n) => s.Spec.Name === n || s.ID.startsWith(n))).map((s) => s.ID)) : undefined;
        return json(200, swarm.tasks.filter((t) => !ids || ids.has(t.ServiceID)));
      }
      const [, , ref, tail] = path.split("/");
      const service = swarm.services.find((s) => s.ID === ref || s.Spec.Name === ref);
      if (!service) return json(404, { message: `service ${ref} not found` });
      if (tail === undefined) return json(200, service);
      if (tail === "logs") {
        const lines = swarm.logs?.[service.Spec.Name] ?? [];
        const n = Number(url.searchParams.get("tail") ?? "all");
        res.writeHead(200, { "Content-Type": "application/vnd.docker.multiplexed-stream" });
        return res.end(frames(Number.isFinite(n) ? lines.slice(-n) : lines));
      }
    }
    const image = /^\/images\/(.+)\/json$/.exec(path)?.[1];
    if (image !== undefined) {
      const ref = image.includes(":") ? image : `${image}:latest`;
      if (!(ref in images)) return json(404, { message: `No such image: ${ref}` });
      return json(200, { Id: `sha256:${"0".repeat(64)}`, RepoTags: [ref], Size: images[ref] });
    }
    return json(404, { message: `page not found (stand-in has no GET ${path})` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    dockerHost: `unix://${socketPath}`,
    socketPath,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
