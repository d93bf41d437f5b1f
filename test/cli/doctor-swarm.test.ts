// `thon doctor` across a swarm's nodes (infra/doctor/swarm.ts), against
// Engine API stand-ins (test/support): the manager with its node list, and
// each node's own engine, mapped through THON_NODE_DOCKER_HOST_<NODE> as the
// e2e suite maps the netns nodes. One line per node check, each with its fix.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSwarm, plannedLabels } from "../../infra/doctor/swarm.ts";
import { formatDoctor, runDoctor } from "../../infra/doctor/doctor.ts";
import type { SwarmTargetShape } from "../../infra/config/swarmTarget.ts";
import { makeEvent } from "../support/events.ts";
import { standInNode, startEngineStandIn, type EngineStandIn, type SwarmState } from "../support/dockerEngineStandIn.ts";

const IMAGE = "thon-sandbox:offline";
const GiB = 2 ** 30;
let manager: EngineStandIn;
let single: EngineStandIn;
const engines: EngineStandIn[] = [];
let env: NodeJS.ProcessEnv;

const target = (dockerHost: string): SwarmTargetShape => ({
  kind: "swarm",
  dockerHost,
  nodePort: 8443,
  ssh: { user: "root", port: 22, privateKeyFile: "/dev/null" },
  nodes: [
    { name: "n1", address: "127.0.0.11", memory: 65536, labels: { gpu: "true" } },
    { name: "n2", address: "127.0.0.12", memory: 24576, labels: {} },
    { name: "n3", address: "127.0.0.13", memory: 24576, labels: {} },
    { name: "n4", address: "127.0.0.14", memory: 24576, labels: {} },
    { name: "n5", address: "127.0.0.15", memory: 24576, labels: {} },
  ],
});

beforeAll(async () => {
  const swarm: SwarmState = { nodes: [standInNode("n1", 64 * GiB, { gpu: "true" }), standInNode("n2", 24 * GiB), standInNode("n3", 24 * GiB), standInNode("n4", 24 * GiB)], services: [], tasks: [] };
  swarm.nodes[1]!.Spec.Availability = "drain";
  swarm.nodes[2]!.Status = { State: "down", Addr: "127.0.0.13", Message: "heartbeat failure" };
  swarm.nodes[3]!.Spec.Labels = {}; // joined, not yet labelled by pulumi up
  manager = await startEngineStandIn({ swarm });
  single = await startEngineStandIn();
  const withImage = await startEngineStandIn({ images: { [IMAGE]: 700 * 2 ** 20 } });
  const without = await startEngineStandIn();
  engines.push(withImage, without);
  const nobody = join(mkdtempSync(join(tmpdir(), "thon-nobody-")), "docker.sock");
  env = { THON_NODE_DOCKER_HOST_N1: withImage.dockerHost, THON_NODE_DOCKER_HOST_N2: withImage.dockerHost, THON_NODE_DOCKER_HOST_N3: `unix://${nobody}`, THON_NODE_DOCKER_HOST_N4: without.dockerHost, THON_NODE_DOCKER_HOST_N5: withImage.dockerHost };
});

afterAll(async () => {
  for (const e of [manager, single, ...engines]) await e?.close();
});

const ctx = () => ({ event: makeEvent({ a: ["alice"] }, `sandbox:\n  image: ${IMAGE}\n`), projectDir: ".", env });

describe("thon doctor on a swarm target", () => {
  it("one line per node: in the swarm, ready and active, labels as planned, the image present; each failure with its fix", async () => {
    const checks = await checkSwarm(ctx(), target(manager.dockerHost));
    const line = (n: string) => checks.find((c) => c.name === n)!;
    expect(checks.map((c) => `${c.name}:${c.status}`)).toEqual([
      "Swarm manager:ok",
      "Node n1:ok", "Image on n1:ok",
      "Node n2:fail", "Image on n2:ok",
      "Node n3:fail", "Image on n3:fail",
      "Node n4:warn", "Image on n4:fail",
      "Node n5:fail", "Image on n5:ok",
    ]);
    expect(line("Node n1").detail).toBe("ready, active, labels as planned (2)");
    expect(line("Node n2")).toMatchObject({ detail: "ready but drain: swarm starts no task on it", fix: `\`docker -H ${manager.dockerHost} node update --availability active n2\` (after maintenance)` });
    expect(line("Node n3")).toMatchObject({ detail: "down (heartbeat failure): its participants cannot run", fix: expect.stringContaining("start Docker on n3 (127.0.0.13)") });
    expect(line("Image on n3")).toMatchObject({ detail: expect.stringMatching(/^cannot reach n3's engine at unix:\/\/.*docker\.sock/), fix: "check target.ssh (user, key) and that Docker runs on n3" });
    expect(line("Node n4")).toMatchObject({ detail: "ready, active; labels not yet as planned: org.thon.node=n4", fix: expect.stringContaining("`pulumi up` sets them") });
    expect(line("Image on n4")).toMatchObject({ detail: `${IMAGE} is not on n4 (there is no registry: each node needs it loaded)`, fix: `\`docker save ${IMAGE} | docker -H ${engines[1]!.dockerHost} load\`` });
    expect(line("Node n5")).toMatchObject({ detail: "not in the swarm (its nodes: n1, n2, n3, n4)", fix: expect.stringContaining("docker swarm join --token") });
    const text = formatDoctor(checks);
    expect(text.trim().split("\n")).toHaveLength(checks.length + 1);
    expect(text).toMatch(/not ready: 5 fail, 1 warn, 5 ok\n$/);
  });

  it("an engine that is no manager, or none at all, is one failing line", async () => {
    expect(await checkSwarm(ctx(), target(single.dockerHost))).toEqual([
      { name: "Swarm manager", status: "fail", detail: `the engine at ${single.dockerHost} is not a swarm manager (swarm state: inactive)`, fix: "point target.dockerHost at a manager, or `docker swarm init` there and join the nodes" },
    ]);
    const [none] = await checkSwarm(ctx(), target("unix:///nonexistent/docker.sock"));
    expect(none).toMatchObject({ name: "Swarm manager", status: "fail", detail: expect.stringContaining("no engine answers at unix:///nonexistent/docker.sock") });
  });

  it("runDoctor on a swarm target: the manager's engine is the Docker Engine line, then the node lines", async () => {
    const event = { ...ctx().event, target: target(manager.dockerHost) as never };
    const checks = await runDoctor(event, { projectDir: ".", env });
    expect(checks[0]).toMatchObject({ name: "Docker Engine", status: "ok", detail: `Docker 20.10.24 (API 1.41) at ${manager.dockerHost}` });
    const names = checks.map((c) => c.name);
    expect(names.slice(names.indexOf("Swarm manager"), names.indexOf("Swarm manager") + 3)).toEqual(["Swarm manager", "Node n1", "Image on n1"]);
  }, 30_000);

  it("the planned labels are the user's and the node's name", () => {
    expect(plannedLabels({ name: "n1", address: "a", memory: 1, labels: { gpu: "true" } })).toEqual({ gpu: "true", "org.thon.node": "n1" });
  });
});
