// `thon doctor` on a swarm target, across the nodes: the manager answers and
// manages a swarm; every node of target.nodes is in it (by hostname), Ready
// and Active, with the labels the plan gives it; every node has the sandbox
// image (no registry: it is loaded on each node). One line per node check,
// each with its fix. The node's own engine is reached as everything else
// reaches it (nodeDockerHost: ssh://<ssh.user>@<address>).
import { readFileSync } from "node:fs";
import Docker from "dockerode";
import { NODE_LABEL, nodeDockerHost, type SwarmTargetShape } from "../config/swarmTarget.ts";
import { fail, ok, reason, warn, type Check, type DoctorContext } from "./check.ts";
import { dockerOptions } from "./docker.ts";

interface NodeInfo {
  ID: string;
  Description?: { Hostname?: string };
  Spec?: { Availability?: string; Labels?: Record<string, string> };
  Status?: { State?: string; Message?: string };
}

/** The labels THON applies to a node: the user's, and its name under org.thon.node (SWARM.md's SwarmNodePlan.labels). */
export const plannedLabels = (n: SwarmTargetShape["nodes"][number]): Record<string, string> => ({ ...(n.labels ?? {}), [NODE_LABEL]: n.name });

export async function checkSwarm(ctx: DoctorContext, target: SwarmTargetShape): Promise<Check[]> {
  const manager = new Docker({ ...dockerOptions(target.dockerHost), timeout: 5000 });
  let listed: NodeInfo[];
  try {
    const info = (await manager.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
    if (!info.Swarm?.ControlAvailable) {
      return [fail("Swarm manager", `the engine at ${target.dockerHost} is not a swarm manager (swarm state: ${info.Swarm?.LocalNodeState ?? "unknown"})`, "point target.dockerHost at a manager, or `docker swarm init` there and join the nodes")];
    }
    listed = (await manager.listNodes()) as NodeInfo[];
  } catch (err) {
    return [fail("Swarm manager", `no engine answers at ${target.dockerHost} (${reason(err)})`, "start Docker on the manager, or set target.dockerHost in thon.yaml")];
  }
  const checks: Check[] = [ok("Swarm manager", `${target.dockerHost} manages ${listed.length} node${listed.length === 1 ? "" : "s"}`)];
  const byName = new Map(listed.map((n) => [n.Description?.Hostname ?? n.ID, n]));
  const key = target.ssh.privateKeyFile ? readKey(target.ssh.privateKeyFile) : undefined;
  for (const decl of target.nodes) {
    checks.push(nodeCheck(decl, byName.get(decl.name), [...byName.keys()], target.dockerHost));
    checks.push(await imageCheck(ctx, target, decl.name, key));
  }
  return checks;
}

function readKey(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined; // the image checks then fail with the SSH error, which names the problem
  }
}

function nodeCheck(decl: SwarmTargetShape["nodes"][number], node: NodeInfo | undefined, names: string[], manager: string): Check {
  const name = `Node ${decl.name}`;
  if (!node) {
    return fail(name, `not in the swarm (its nodes: ${names.join(", ") || "none"})`, `on ${decl.name}: \`docker swarm join --token <worker token> <manager address>:2377\` (the token: \`docker -H ${manager} swarm join-token worker\`), or fix target.nodes[].name to the node's hostname`);
  }
  const state = node.Status?.State ?? "unknown";
  const availability = node.Spec?.Availability ?? "unknown";
  if (state !== "ready") return fail(name, `${state}${node.Status?.Message ? ` (${node.Status.Message})` : ""}: its participants cannot run`, `start Docker on ${decl.name} (${decl.address}) and check it reaches the manager (ports 2377, 7946, 4789)`);
  if (availability !== "active") return fail(name, `ready but ${availability}: swarm starts no task on it`, `\`docker -H ${manager} node update --availability active ${decl.name}\` (after maintenance)`);
  const want = plannedLabels(decl);
  const have = node.Spec?.Labels ?? {};
  const wrong = Object.entries(want).filter(([k, v]) => have[k] !== v).map(([k, v]) => `${k}=${v}${have[k] !== undefined ? ` (has ${have[k]})` : ""}`);
  if (wrong.length > 0) return warn(name, `ready, active; labels not yet as planned: ${wrong.join(", ")}`, "`pulumi up` sets them (until then, participants pinned to this node wait)");
  return ok(name, `ready, active, labels as planned (${Object.keys(want).length})`);
}

async function imageCheck(ctx: DoctorContext, target: SwarmTargetShape, node: string, key: string | undefined): Promise<Check> {
  const name = `Image on ${node}`;
  const image = ctx.event.sandbox.image;
  let endpoint: string;
  try {
    endpoint = nodeDockerHost(target, node, ctx.env);
  } catch (err) {
    return fail(name, reason(err), "fix target.nodes");
  }
  const engine = new Docker({ ...dockerOptions(endpoint, key ? { privateKey: key } : {}), timeout: 10_000 });
  try {
    const inspected = await engine.getImage(image).inspect();
    return ok(name, `${image} is present (${Math.ceil(inspected.Size / 2 ** 20)} MiB)`);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) {
      return fail(name, `${image} is not on ${node} (there is no registry: each node needs it loaded)`, `\`docker save ${image} | docker -H ${endpoint} load\``);
    }
    return fail(name, `cannot reach ${node}'s engine at ${endpoint} (${reason(err)})`, `check target.ssh (user, key) and that Docker runs on ${node}`);
  }
}
