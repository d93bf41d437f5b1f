// A real Docker Swarm of three dockerds on this one machine, for the e2e
// suite and the benchmarks: one manager and two workers, each in its own
// network, mount, UTS and PID namespaces, after the recipe in
// ../shared/scale-out-facts.md §5 (moby's integration tests also run several
// swarm daemons on one host).
//
//   hub netns "thon-sw-<id>-hub": bridge br0, 127.77.0.254 (a client seat)
//     ├─ veth ── netns "thon-sw-<id>-n1": eth0 127.77.0.1, hostname n1, manager
//     ├─ veth ── ...-n2: 127.77.0.2, worker
//     └─ veth ── ...-n3: 127.77.0.3, worker
//
// Why this shape:
// - `nsenter --net` + `unshare --uts --mount --pid`, never `ip netns exec`:
//   that one remounts /sys without the cgroup mounts and dockerd exits
//   ("Devices cgroup isn't mounted"). The node's shell mounts a fresh sysfs
//   (its own interfaces) and moves the cgroup mounts back under it.
// - Addresses from the loopback range only: 127.77.0.0/24 on veths, with
//   route_localnet=1 and the 127.0.0.0/8 local route narrowed to 127.0.0.1 in
//   each namespace, so the kernel routes and ARPs them like any subnet.
//   Swarm accepts them (checked: init, join, gossip, overlay DNS). The
//   dockerds' own bridges and the swarm's overlays draw from 198.18.0.0/15
//   (RFC 2544 benchmarking, never routed) instead of the default private
//   pools, so nothing in a node ever holds a private-range address. The
//   namespaces have no route out: nothing leaves the hub's bridge.
// - Each node's /run, /var/lib/docker and /etc/docker, and the caller's
//   `nodeDirs`, are per-node folders bind-mounted over the same paths in the
//   node's mount namespace, so a node-local path (a volume's _data, the socket
//   folder a service bind-mounts) really differs per node; the test reads them
//   through hostPath(). /run per node also keeps containerd's shim sockets and
//   the node's docker.sock apart, and a fresh /run at restart is a reboot.
// - A PID namespace per node, with dockerd as its init: killing the init ends
//   every process of the node (containerd, shims, containers) at once, like a
//   machine that dies; the same on close(). `setpriv --pdeathsig` and
//   `unshare --kill-child` chain that to this process, so a crashed test run
//   leaves no running node behind either.
// - Every name carries `thon-sw-<id>` (netns, cgroup parent, folder) and a
//   record in /run/thon-swarm/<id>.json names the owning process; the next
//   startSwarm() sweeps what a dead owner left (sweepSwarms()).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerAt, type Docker } from "./docker.ts";
import { children, comm, killNetnsProcesses, must, pidsInNetns, rssBytes, run, sleep, startTime, type RunOptions, type RunResult } from "./hostProcesses.ts";
import { REGISTRY, removeRecorded, SWARM_PREFIX, sweepSwarms, type SwarmRecord } from "./swarmSweep.ts";

export { SWARM_PREFIX, sweepSwarms, type RunOptions, type RunResult };

const SUBNET = "127.77.0";
/** Where the test process can sit on the nodes' link (the hub namespace). */
export const CLIENT_ADDRESS = `${SUBNET}.254`;
/** Address pools of the nodes' bridges and overlays: RFC 2544's benchmarking range, not RFC 1918. */
const BRIDGE_POOL = "198.19.0.0/16";
const OVERLAY_POOL = "198.18.0.0/16";
/** Per-node paths every node gets (the rest come from `nodeDirs`): in-node path → folder name under the node's folder. */
const SYSTEM_DIRS: ReadonlyArray<readonly [string, string]> = [
  ["/run", "run"],
  ["/var/lib/docker", "var-lib-docker"],
  ["/etc/docker", "etc-docker"],
];

export interface SwarmNode {
  /** The node's hostname, which is its Swarm node name: n1, n2, n3. */
  readonly name: string;
  /** Its address on the nodes' link (127.77.0.x): the swarm's advertise address. */
  readonly address: string;
  readonly role: "manager" | "worker";
  /** Its dockerd's socket as the test process sees it. */
  readonly socket: string;
  /** unix://<socket>, for DOCKER_HOST or a thon.yaml target. */
  readonly dockerHost: string;
  /** The folder holding this node's per-node paths on the host. */
  readonly folder: string;
}

export interface SwarmOptions {
  /** Image to import into every node (docker save from the main engine | docker load on each); none when unset. */
  readonly image?: string;
  /** The main engine the image comes from (default: DOCKER_HOST or /var/run/docker.sock). */
  readonly sourceDockerHost?: string;
  /** Number of nodes (default 3): n1 is the manager, the rest workers. */
  readonly nodes?: number;
  /**
   * Node-local folders by name: each is the same path on every node,
   * `<root>/node/<name>` (nodeDir(name)), backed by a per-node folder
   * `<node folder>/dirs/<name>` (hostDir(node, name)).
   */
  readonly nodeDirs?: readonly string[];
  /** A tag for the folder name (default the e2e run id, so scripts/e2e.sh's cleanup finds it). */
  readonly runId?: string;
  readonly log?: (line: string) => void;
  /** Bound for each node to answer and for the swarm to have every node Ready (default 60 s). */
  readonly readyTimeoutMs?: number;
  /**
   * Where each node's /var/lib/docker lives: "tmpfs" (default; a tmpfs per
   * node, capped at 8 GiB, in RAM only while the swarm lives) or "disk" (a
   * folder). Why tmpfs: the sandbox image unpacked three times on this
   * machine's disk took ~50 s to load and ~120 s to delete; on tmpfs close()
   * is an unmount. It stays mounted across killNode/restartNode (a reboot
   * keeps the disk).
   */
  readonly dataRoot?: "tmpfs" | "disk";
}

export interface NodeMemory {
  readonly dockerdBytes: number;
  readonly containerdBytes: number;
  readonly totalBytes: number;
}

interface NodeProc {
  child: ChildProcess | undefined;
  /** Host pid of the node's PID-namespace init (dockerd). */
  initPid: number | undefined;
}

export class Swarm {
  private readonly procs = new Map<string, NodeProc>();
  private closed = false;

  private constructor(
    readonly id: string,
    /** The run's folder: node/ (the shared in-node paths), nodes/<name>/ (each node's folders). */
    readonly root: string,
    readonly nodes: readonly SwarmNode[],
    private readonly dirs: readonly string[],
    private readonly log: (line: string) => void,
    private readonly readyTimeoutMs: number,
  ) {}

  get manager(): SwarmNode {
    return this.nodes[0]!;
  }
  /** The manager's dockerd socket (host view): the swarm's API. */
  get managerSocket(): string {
    return this.manager.socket;
  }

  node(name: string): SwarmNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`swarm harness: no node "${name}" (nodes: ${this.nodes.map((x) => x.name).join(", ")})`);
    return n;
  }

  /** A dockerode client for a node's engine. */
  docker(name: string): Docker {
    return dockerAt(this.node(name).socket);
  }

  netns(name: string): string {
    return `${SWARM_PREFIX}${this.id}-${name}`;
  }

  /** The path of node-local folder `dir` inside every node (the same on all). */
  nodeDir(dir: string): string {
    if (!this.dirs.includes(dir)) throw new Error(`swarm harness: "${dir}" is not one of the nodeDirs (${this.dirs.join(", ")})`);
    return join(this.root, "node", dir);
  }

  /** Where the test sees node-local folder `dir` of node `name`. */
  hostDir(name: string, dir: string): string {
    this.nodeDir(dir);
    return join(this.node(name).folder, "dirs", dir);
  }

  /** Where the test sees the in-node path `path` of node `name` (under /run, /var/lib/docker, /etc/docker or a nodeDir). */
  hostPath(name: string, path: string): string {
    const node = this.node(name);
    const binds: Array<readonly [string, string]> = [...SYSTEM_DIRS.map(([p, d]) => [p, join(node.folder, d)] as const), ...this.dirs.map((d) => [this.nodeDir(d), this.hostDir(name, d)] as const)];
    for (const [inNode, host] of binds) {
      if (path === inNode) return host;
      if (path.startsWith(`${inNode}/`)) return join(host, path.slice(inNode.length + 1));
    }
    throw new Error(`swarm harness: ${path} is not a node-local path (node-local: ${binds.map(([p]) => p).join(", ")})`);
  }

  /** The command prefix that runs a program inside node `name` (its network, mount, UTS and PID namespaces). */
  nsenterArgs(name: string): string[] {
    const pid = this.procs.get(name)?.initPid;
    if (pid === undefined || comm(pid) === undefined) throw new Error(`swarm harness: node ${name} is not running (killed and not restarted?)`);
    return ["nsenter", "-t", String(pid), "--net", "--mount", "--uts", "--pid", "--"];
  }

  /**
   * Runs `script` with /bin/sh on node `name`; resolves with its exit code and
   * output (a non-zero exit is not an error here). This process's DOCKER_HOST
   * is not passed on, so `docker` there talks to the node's own engine.
   */
  async runOnNode(name: string, script: string, opts: RunOptions = {}): Promise<RunResult> {
    const [file, ...args] = this.nsenterArgs(name);
    const { DOCKER_HOST: _, ...baseEnv } = process.env;
    return run(file!, [...args, "/bin/sh", "-c", script], { ...opts, baseEnv });
  }

  /** Runs `script` in the hub namespace, at CLIENT_ADDRESS on the nodes' link (a browser's seat). */
  runOnClient(script: string, opts: RunOptions = {}): Promise<RunResult> {
    return run("nsenter", [`--net=/run/netns/${this.netns("hub")}`, "/bin/sh", "-c", script], opts);
  }

  /** The e2e engine's RemoteShell (engine.ts): a remote Command's connection.host (a node's address or name) → runOnNode. */
  remoteShell(): { run(host: string, script: string, opts: { env: Record<string, string>; input?: string; timeoutMs: number }): Promise<RunResult> } {
    return {
      run: (host, script, opts) => {
        const node = this.nodes.find((n) => n.address === host || n.name === host);
        if (!node) throw new Error(`swarm harness: no node at "${host}" (nodes: ${this.nodes.map((n) => `${n.name} ${n.address}`).join(", ")})`);
        return this.runOnNode(node.name, script, { env: opts.env, input: opts.input, timeoutMs: opts.timeoutMs });
      },
    };
  }

  /** dockerd and containerd resident memory of node `name` (for the benchmark). */
  nodeMemory(name: string): NodeMemory {
    const pid = this.procs.get(name)?.initPid;
    if (pid === undefined || comm(pid) !== "dockerd") throw new Error(`swarm harness: node ${name} has no running dockerd`);
    const dockerdBytes = rssBytes(pid);
    const containerdBytes = children(pid)
      .filter((c) => comm(c) === "containerd")
      .reduce((sum, c) => sum + rssBytes(c), 0);
    return { dockerdBytes, containerdBytes, totalBytes: dockerdBytes + containerdBytes };
  }

  /** SIGKILLs node `name` whole (dockerd, containerd, shims, its containers), as a machine that dies. */
  async killNode(name: string): Promise<void> {
    this.node(name);
    await killNetnsProcesses(this.netns(name));
    const p = this.procs.get(name);
    if (p) {
      p.initPid = undefined;
      p.child = undefined;
    }
    this.log(`swarm: killed ${name}`);
  }

  /** Boots node `name` again on the same folders (a fresh /run, as after a reboot); it rejoins the swarm by itself. Waits until the manager sees it Ready. */
  async restartNode(name: string): Promise<void> {
    const node = this.node(name);
    if (pidsInNetns(this.netns(name)).length > 0) await this.killNode(name);
    const runDir = join(node.folder, "run");
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true });
    await this.boot(node);
    // Its own view first (the manager may still list it Ready from before the kill).
    const api = dockerAt(node.socket, 5_000);
    const deadline = Date.now() + this.readyTimeoutMs;
    for (;;) {
      const info = (await api.info().catch(() => undefined)) as { Swarm?: { LocalNodeState?: string } } | undefined;
      if (info?.Swarm?.LocalNodeState === "active") break;
      if (Date.now() > deadline) throw new Error(`swarm harness: ${name} did not rejoin the swarm after ${this.readyTimeoutMs} ms (state ${info?.Swarm?.LocalNodeState ?? "unknown"})`);
      await sleep(200);
    }
    await this.waitReady([node.name]);
    this.log(`swarm: ${name} is back`);
  }

  /** Removes every namespace, process, mount, cgroup and folder of this swarm; bounded; throws listing what could not be removed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const t0 = Date.now();
    const errors = await removeRecorded(this.record(), this.log);
    this.log(`swarm: removed ${this.id} in ${Date.now() - t0} ms`);
    if (errors.length) throw new Error(`swarm harness: cleanup of ${this.id} left: ${errors.join("; ")}`);
  }

  private record(): SwarmRecord {
    return {
      id: this.id,
      ownerPid: process.pid,
      ownerStart: startTime(process.pid) ?? "",
      root: this.root,
      netns: [...this.nodes.map((n) => this.netns(n.name)), this.netns("hub")],
      cgroupParents: this.nodes.map((n) => this.netns(n.name)),
    };
  }

  /** Starts the node's dockerd in its namespaces (the netns exists). */
  private async boot(node: SwarmNode): Promise<void> {
    const binds = [...SYSTEM_DIRS.map(([p, d]) => [join(node.folder, d), p] as const), ...this.dirs.map((d) => [this.hostDir(node.name, d), this.nodeDir(d)] as const)];
    const aside = join(node.folder, "cgroup-aside");
    mkdirSync(aside, { recursive: true });
    const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
    // pid 1 of the node's PID namespace: mounts its /sys and folders, then becomes dockerd.
    const script = [
      "set -eu",
      `hostname ${q(node.name)}`,
      `mount --rbind /sys/fs/cgroup ${q(aside)}`,
      "mount -t sysfs sysfs /sys",
      `mount --move ${q(aside)} /sys/fs/cgroup`,
      ...binds.map(([from, to]) => `mount --bind ${q(from)} ${q(to)}`),
      `exec dockerd --cgroup-parent ${q(`/${this.netns(node.name)}`)} --bip 198.19.${this.nodes.indexOf(node)}.1/24 --default-address-pool base=${BRIDGE_POOL},size=24 --log-level warn`,
    ].join("\n");
    const logFd = openSync(join(node.folder, "dockerd.log"), "a");
    let child: ChildProcess;
    try {
      child = spawn(
        "setpriv",
        ["--pdeathsig", "KILL", "--", "nsenter", `--net=/run/netns/${this.netns(node.name)}`, "--", "unshare", "--uts", "--mount", "--pid", "--mount-proc", "--kill-child=SIGKILL", "--", "/bin/sh", "-c", script],
        { stdio: ["ignore", logFd, logFd] },
      );
    } finally {
      closeSync(logFd);
    }
    const proc: NodeProc = { child, initPid: undefined };
    this.procs.set(node.name, proc);
    let exited: string | undefined;
    child.on("exit", (code, signal) => (exited = `exited (${signal ?? `code ${code}`})`));
    child.on("error", (err) => (exited = `could not start: ${err.message}`));
    const api = dockerAt(node.socket, 5_000);
    const deadline = Date.now() + this.readyTimeoutMs;
    for (;;) {
      if (proc.initPid === undefined && child.pid !== undefined) {
        const init = children(child.pid)[0];
        if (init !== undefined) proc.initPid = init;
      }
      if (exited) throw new Error(`swarm harness: dockerd of ${node.name} ${exited}; log: ${this.logTail(node)}`);
      if (proc.initPid !== undefined && existsSync(node.socket)) {
        try {
          await api.ping();
          return;
        } catch {
          // not answering yet
        }
      }
      if (Date.now() > deadline) throw new Error(`swarm harness: dockerd of ${node.name} does not answer after ${this.readyTimeoutMs} ms; log: ${this.logTail(node)}`);
      await sleep(100);
    }
  }

  private logTail(node: SwarmNode): string {
    try {
      return readFileSync(join(node.folder, "dockerd.log"), "utf8").trim().split("\n").slice(-8).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** Waits until the manager lists `names` Ready (bounded). */
  private async waitReady(names: readonly string[]): Promise<void> {
    const api = dockerAt(this.managerSocket, 10_000);
    const deadline = Date.now() + this.readyTimeoutMs;
    for (;;) {
      let states: string[] = [];
      try {
        const list = (await api.listNodes()) as Array<{ Description?: { Hostname?: string }; Status?: { State?: string } }>;
        states = names.map((n) => list.find((x) => x.Description?.Hostname === n)?.Status?.State ?? "absent");
        if (states.every((s) => s === "ready")) return;
      } catch (err) {
        states = [(err as Error).message];
      }
      if (Date.now() > deadline) throw new Error(`swarm harness: nodes ${names.join(", ")} not Ready after ${this.readyTimeoutMs} ms (${states.join(", ")})`);
      await sleep(200);
    }
  }

  private async network(): Promise<void> {
    const hub = this.netns("hub");
    const inNs = (ns: string, script: string) => must("nsenter", [`--net=/run/netns/${ns}`, "/bin/sh", "-c", `set -e\n${script}`], { timeoutMs: 10_000 });
    // 127.x on a link: let the kernel route it (route_localnet) and stop
    // treating all of 127/8 as this host's own (narrow the local route).
    const loopbackRange = (dev: string, address: string) => `
      for c in all default; do sysctl -qw net.ipv4.conf.$c.route_localnet=1; done
      ip link set lo up
      ip route del local 127.0.0.0/8 dev lo table local
      ip addr add ${address}/24 dev ${dev}
      sysctl -qw net.ipv4.conf.${dev}.route_localnet=1
      ip link set ${dev} up`;
    await must("ip", ["netns", "add", hub]);
    await inNs(hub, `ip link add br0 type bridge\n${loopbackRange("br0", CLIENT_ADDRESS)}`);
    for (const node of this.nodes) {
      const ns = this.netns(node.name);
      await must("ip", ["netns", "add", ns]);
      await must("ip", ["-n", hub, "link", "add", `v-${node.name}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      await inNs(hub, `ip link set v-${node.name} master br0 up`);
      await inNs(ns, loopbackRange("eth0", node.address));
    }
  }

  private async importImage(image: string, source: string): Promise<void> {
    const t0 = Date.now();
    const save = spawn("docker", ["save", image], { env: { ...process.env, DOCKER_HOST: source }, stdio: ["ignore", "pipe", "pipe"] });
    const loads = this.nodes.map((n) => spawn("docker", ["load", "-q"], { env: { ...process.env, DOCKER_HOST: n.dockerHost }, stdio: ["pipe", "pipe", "pipe"] }));
    const done = (c: ChildProcess, what: string) =>
      new Promise<void>((resolve, reject) => {
        let err = "";
        c.stderr?.on("data", (b: Buffer) => (err += b.toString()));
        c.on("error", (e) => reject(new Error(`${what}: ${e.message}`)));
        c.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${what} exited ${code}: ${err.trim()}`))));
      });
    for (const l of loads) {
      l.stdin!.on("error", () => undefined);
      save.stdout!.pipe(l.stdin!);
    }
    const timer = setTimeout(() => [save, ...loads].forEach((c) => c.kill("SIGKILL")), 300_000);
    try {
      await Promise.all([done(save, `docker save ${image}`), ...loads.map((l, i) => done(l, `docker load on ${this.nodes[i]!.name}`))]);
    } finally {
      clearTimeout(timer);
    }
    this.log(`swarm: imported ${image} into ${this.nodes.length} nodes in ${Date.now() - t0} ms`);
  }

  private async form(): Promise<void> {
    const manager = dockerAt(this.managerSocket, 30_000);
    await manager.swarmInit({ ListenAddr: `${this.manager.address}:2377`, AdvertiseAddr: this.manager.address, DefaultAddrPool: [OVERLAY_POOL], SubnetSize: 24 });
    const info = (await manager.swarmInspect()) as { JoinTokens: { Worker: string } };
    await Promise.all(
      this.nodes.slice(1).map((n) =>
        dockerAt(n.socket, 30_000).swarmJoin({ ListenAddr: `${n.address}:2377`, AdvertiseAddr: n.address, RemoteAddrs: [`${this.manager.address}:2377`], JoinToken: info.JoinTokens.Worker }),
      ),
    );
    await this.waitReady(this.nodes.map((n) => n.name));
  }

  /** Forms the swarm (sweeping what dead runs left first); on any failure removes everything it made and rethrows. */
  static async start(options: SwarmOptions = {}): Promise<Swarm> {
    const log = options.log ?? (() => undefined);
    if (process.getuid?.() !== 0) throw new Error("swarm harness: needs root (network namespaces, mounts, dockerd)");
    await sweepSwarms(log);
    const id = randomBytes(3).toString("hex");
    const count = options.nodes ?? 3;
    if (count < 1 || count > 9) throw new Error(`swarm harness: nodes must be 1..9, got ${count}`);
    const root = mkdtempSync(join(tmpdir(), `thon-e2e-${options.runId ?? process.env.THON_E2E_RUN_ID ?? "local"}-swarm-`));
    const dirs = options.nodeDirs ?? [];
    for (const d of dirs) if (!/^[a-z0-9][a-z0-9._-]*$/.test(d)) throw new Error(`swarm harness: nodeDirs entry "${d}" must be a plain folder name`);
    const nodes: SwarmNode[] = Array.from({ length: count }, (_, i) => {
      const name = `n${i + 1}`;
      const folder = join(root, "nodes", name);
      const socket = join(folder, "run", "docker.sock");
      return { name, address: `${SUBNET}.${i + 1}`, role: i === 0 ? "manager" : "worker", socket, dockerHost: `unix://${socket}`, folder };
    });
    const swarm = new Swarm(id, root, nodes, dirs, log, options.readyTimeoutMs ?? 60_000);
    mkdirSync(REGISTRY, { recursive: true });
    writeFileSync(join(REGISTRY, `${id}.json`), JSON.stringify(swarm.record()) + "\n");
    const t0 = Date.now();
    try {
      for (const d of dirs) mkdirSync(join(root, "node", d), { recursive: true, mode: 0o755 });
      for (const n of nodes) {
        for (const [, d] of SYSTEM_DIRS) mkdirSync(join(n.folder, d), { recursive: true });
        if ((options.dataRoot ?? "tmpfs") === "tmpfs") await must("mount", ["-t", "tmpfs", "-o", "size=8g,mode=0711", `${SWARM_PREFIX}${id}-${n.name}`, join(n.folder, "var-lib-docker")]);
        for (const d of dirs) mkdirSync(join(n.folder, "dirs", d), { recursive: true, mode: 0o755 });
      }
      await swarm.network();
      await Promise.all(nodes.map((n) => swarm.boot(n)));
      await swarm.form();
      log(`swarm: ${id} formed (${nodes.length} nodes on ${SUBNET}.0/24) in ${Date.now() - t0} ms, in ${root}`);
      if (options.image) await swarm.importImage(options.image, options.sourceDockerHost ?? process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock");
      return swarm;
    } catch (err) {
      await swarm.close().catch((e: Error) => log(e.message));
      throw err;
    }
  }
}

export const startSwarm = (options?: SwarmOptions): Promise<Swarm> => Swarm.start(options);
