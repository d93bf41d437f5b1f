// The swarm's two nginx hops on loopback, as test/swarm-routing-nginx.test.ts
// runs them: the entry node (127.0.0.1) holds the edge and its own node
// server in one nginx, another node runs its nginx on 127.0.0.2. NodeProxy
// and EdgeProxy are evaluated under Pulumi's mocks with real certificates
// (./swarmRouting.ts), their commands run as pulumi-command would
// (./commands.ts), then each nginx starts and reloads as the engine orders it.
// Each "node" has its own folders and nginx, since both live on this machine.
// The sockets behind the node servers are the caller's.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseThonFile } from "../../infra/config/load.ts";
import { toEvent, type Event } from "../../infra/config/event.ts";
import type { Evaluation } from "../../infra/preview/evaluate.ts";
import { commandSteps, mustRun } from "./commands.ts";
import { freePort, proxyYaml, reloaded, startNginx, workers, writeMainConf, type TestNginx } from "./nginx.ts";
import { evaluateRouting } from "./swarmRouting.ts";

export interface LoopbackNode {
  readonly name: string;
  readonly address: string;
}

export interface SwarmNginxOptions {
  /** The entry node first (the edge runs there), then the other node. */
  readonly nodes: readonly [LoopbackNode, LoopbackNode];
  /** user → node. */
  readonly placement: Readonly<Record<string, string>>;
  /** thon.yaml lines after `event:\n  name: sw\n`: the host, altNames and tls sections. */
  readonly names: string;
}

export interface SwarmNginx {
  readonly root: string;
  /** The edge's HTTPS port on the entry. */
  readonly https: number;
  /** Every node server's port. */
  readonly nodePort: number;
  /** The event as each node sees it (its own folders, sockets and nginx). */
  readonly events: Readonly<Record<string, Event>>;
  readonly nginx: ReadonlyMap<string, TestNginx>;
  /** Each node's `proxy.nginx` command line. */
  readonly commands: ReadonlyMap<string, string>;
  readonly evaluation: Evaluation;
  /** What participants import: the CA, or in mode selfsigned the server certificate itself. */
  readonly ca: string;
  /** thon.yaml's proxy section of a node, to declare other events against the same files. */
  proxyYamlOf(node: string): string;
  stop(): Promise<void>;
}

export async function startSwarmNginx(o: SwarmNginxOptions): Promise<SwarmNginx> {
  if (process.getuid?.() !== 0) throw new Error("the real-nginx tests run nginx as root and bind 127.0.0.2: run them as root (CI does)");
  const [entry, other] = o.nodes;
  const root = mkdtempSync(join(tmpdir(), "thon-swarm-nginx-"));
  chmodSync(root, 0o755);
  const nginx = new Map<string, TestNginx>();
  try {
    const [https, nodePort, http] = [await freePort(), await freePort(), await freePort()];
    const commands = new Map<string, string>();
    const yaml = new Map<string, string>();
    const events: Record<string, Event> = {};
    for (const node of o.nodes) {
      const dir = join(root, node.name);
      mkdirSync(join(dir, "log"), { recursive: true });
      const { command } = writeMainConf(join(dir, "nginx"), { includeGlob: `${dir}/etc/conf.d/*.conf` });
      commands.set(node.name, command);
      yaml.set(node.name, proxyYaml(dir, { https, http, nginx: command }));
      const users = Object.keys(o.placement).join(", ");
      events[node.name] = toEvent(parseThonFile(`${yaml.get(node.name)}event:\n  name: sw\n${o.names}groups:\n  alpha:\n    users: [${users}]\n`));
    }
    const evaluation = await evaluateRouting({
      event: events[entry.name]!,
      eventFor: (node) => events[node]!,
      nodes: o.nodes,
      entry: entry.name,
      nodePort,
      placement: o.placement,
    });
    const trust = events[entry.name]!.tls.mode === "ca" ? "thon-proxy-edge-ca-cert" : "thon-proxy-edge-server-cert";
    const ca = evaluation.resources.find((r) => r.name === trust && r.type === "command:local:Command")!.inputs.stdin as string;

    // Every file, in the engine's order; then nginx; then the reloads (nginx must run to be reloaded).
    const steps = commandSteps(undefined, evaluation);
    for (const s of steps.filter((s) => !s.resource.name.endsWith("-reload"))) mustRun(s.resource, s.op);
    for (const node of o.nodes) {
      const dir = join(root, node.name);
      nginx.set(node.name, await startNginx(join(dir, "nginx"), { includeGlob: `${dir}/etc/conf.d/*.conf`, user: "root" }));
    }
    for (const s of steps.filter((s) => s.resource.name.endsWith("-reload"))) {
      const node = s.resource.name === `thon-proxy-${other.name}-reload` ? other.name : entry.name;
      const before = workers(nginx.get(node)!.masterPid());
      mustRun(s.resource, s.op);
      await reloaded(nginx.get(node)!, before);
    }
    return {
      root,
      https,
      nodePort,
      events,
      nginx,
      commands,
      evaluation,
      ca,
      proxyYamlOf: (node) => yaml.get(node)!,
      async stop() {
        for (const n of nginx.values()) await n.stop();
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const n of nginx.values()) await n.stop();
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}
