// Which Docker backend the console, idle parking and the CLI use, chosen
// once by target.kind: containers on one engine (local), or one service per
// participant through a swarm manager (swarm), and with it how code-server's
// /healthz is read. The operations and the idle scheduler only see the
// SandboxDocker and IdleDocker interfaces.
import { readFileSync } from "node:fs";
import Dockerode from "dockerode";
import type { Event } from "../../infra/config/event.ts";
import { dockerOptions } from "../../infra/doctor/docker.ts";
import { idleDocker, type IdleDocker } from "../idle/docker.ts";
import { DockerodeSandboxes, socketOf, type SandboxDocker } from "./docker.ts";
import { SwarmSandboxes, swarmIdleDocker } from "./swarm.ts";
import { socketHealthz, type HealthzTransport } from "./healthz.ts";
import { swarmHealthz } from "./nodeHealthz.ts";
import { nodeDockerHost, swarmTargetOf, type SwarmTargetShape } from "../../infra/config/swarmTarget.ts";

export interface Backend {
  /** Both facets read code-server's /healthz through `healthz`: live status, idle signals and the wake. */
  readonly sandboxes: SandboxDocker;
  readonly idle: IdleDocker;
  /** Swarm only: the service backend (scale, tasks) for node moves. */
  readonly swarm?: SwarmSandboxes;
  /** How /healthz is read: the participant's socket on this host (local), or their node's nginx (swarm). */
  readonly healthz: HealthzTransport;
}

/** A dockerode client per node of a swarm target, by name (nodeDockerHost decides the endpoint); cached. */
export function nodeEngines(target: SwarmTargetShape, env: NodeJS.ProcessEnv = process.env): (node: string) => Dockerode | undefined {
  const engines = new Map<string, Dockerode>();
  let key: string | undefined;
  return (node) => {
    if (!target.nodes.some((n) => n.name === node) && !env[`THON_NODE_DOCKER_HOST_${node.toUpperCase().replace(/-/g, "_")}`]) return undefined;
    let engine = engines.get(node);
    if (!engine) {
      const host = nodeDockerHost(target, node, env);
      if (host.startsWith("ssh:") && key === undefined && target.ssh.privateKeyFile) key = readFileSync(target.ssh.privateKeyFile, "utf8");
      engine = new Dockerode({ ...dockerOptions(host, key ? { privateKey: key } : {}), timeout: 10_000 });
      engines.set(node, engine);
    }
    return engine;
  };
}

export function sandboxBackend(event: Pick<Event, "target" | "name" | "host" | "altNames" | "proxy" | "tls">, env: NodeJS.ProcessEnv = process.env): Backend {
  const swarm = swarmTargetOf(event);
  if (!swarm) {
    const socketPath = socketOf(env.DOCKER_HOST);
    return { sandboxes: new DockerodeSandboxes(socketPath), idle: idleDocker(new Dockerode({ socketPath })), healthz: socketHealthz };
  }
  const manager = new Dockerode(dockerOptions(swarm.dockerHost));
  // The socket is on the participant's node: /healthz through that node's nginx, as the edge reaches it.
  const healthz = swarmHealthz(event, swarm);
  const services = new SwarmSandboxes(manager, nodeEngines(swarm, env), undefined, healthz);
  return { sandboxes: services, idle: swarmIdleDocker(services), swarm: services, healthz };
}
