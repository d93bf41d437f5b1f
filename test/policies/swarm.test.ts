// The swarm policies on docker.Service inputs shaped as docs/SWARM design
// declares them (one service per participant, dnsrr, pinned by node label,
// memory limit), built from the planner's own plan, then broken one way at
// a time. The event facts come from the program's `event` output shape.
import { describe, expect, it } from "vitest";
import { toEvent } from "../../infra/config/event.ts";
import { parseThonFile } from "../../infra/config/load.ts";
import { planEvent, type EventPlan } from "../../infra/plan.ts";
import { LABELS, nodeConstraint } from "../../infra/resourceNames.ts";
import { SWARM_TYPES } from "../../policies/swarm.ts";
import { resource, runResourcePolicy, runStackPolicy, type PolicyRun, type TestResource } from "../support/policies.ts";
import { eventYaml } from "../support/events.ts";

const MiB = 1024 * 1024;
const plan: EventPlan = planEvent(
  toEvent(
    parseThonFile(
      eventYaml(
        { alpha: ["alice", "bob"], beta: ["carol"] },
        "target:\n  kind: swarm\n  ssh: { privateKeyFile: k }\n  nodes:\n    - { name: n1, address: 192.0.2.10, memory: 4GiB }\n    - { name: n2, address: 192.0.2.11, memory: 4GiB }\n",
      ),
    ),
  ),
);

/** A participant's service as the swarm component declares it. */
function service(user: string, patch: Record<string, unknown> = {}): TestResource {
  const p = plan.participants.find((x) => x.name === user)!;
  return resource(SWARM_TYPES.service, p.resourceNames.service, {
    name: p.resourceNames.service,
    labels: Object.entries(p.labels).map(([label, value]) => ({ label, value })),
    mode: { replicated: { replicas: 1 } },
    endpointSpec: { mode: "dnsrr" },
    taskSpec: {
      containerSpec: { image: "thon-sandbox:4.100.3" },
      placement: { constraints: [nodeConstraint(p.node!)] },
      resources: { limits: { memoryBytes: 2048 * MiB, nanoCpus: 1e9 } },
    },
    ...patch,
  });
}

/** The Stack with the `event` output the program exports for this plan. */
function stack(nodes = plan.swarm!.nodes.map((n) => ({ name: n.name, memoryMiB: n.memoryMiB, usedMiB: n.usedMiB }))): TestResource {
  return resource("pulumi:pulumi:Stack", "thon-dev", { event: { name: "test", swarm: { nodes } } });
}

const all = () => [stack(), ...plan.participants.map((p) => service(p.name))];
const messages = (run: PolicyRun) => run.violations.map((v) => v.message);

describe("thon-swarm-no-vip", () => {
  const policy = "thon-swarm-no-vip";

  it("passes participant services in dnsrr mode without ports, and a host-mode port on another service", async () => {
    for (const s of all().slice(1)) expect((await runResourcePolicy(policy, s)).violations).toEqual([]);
    const gateway = resource(SWARM_TYPES.service, "thon-gateway", { name: "thon-gateway", endpointSpec: { mode: "dnsrr", ports: [{ targetPort: 9080, publishedPort: 9080, publishMode: "host" }] } });
    expect((await runResourcePolicy(policy, gateway)).violations).toEqual([]);
  });

  it("fails Swarm's default endpoint mode (a virtual IP) and an explicit vip", async () => {
    expect(messages(await runResourcePolicy(policy, service("alice", { endpointSpec: {} })))).toEqual([
      'thon-alice: endpointSpec.mode is (not set) (Swarm\'s default, vip); a virtual IP needs IPVS. Set mode "dnsrr"',
    ]);
    expect(messages(await runResourcePolicy(policy, service("alice", { endpointSpec: { mode: "vip" } })))).toEqual([
      'thon-alice: endpointSpec.mode is "vip"; a virtual IP needs IPVS. Set mode "dnsrr"',
    ]);
  });

  it("fails an ingress-mode port (written or by default) on any service, and any port on a participant's", async () => {
    const gateway = resource(SWARM_TYPES.service, "thon-gateway", { endpointSpec: { mode: "dnsrr", ports: [{ targetPort: 9080 }, { targetPort: 9443, publishMode: "ingress" }] } });
    expect(messages(await runResourcePolicy(policy, gateway))).toEqual([
      "thon-gateway: endpointSpec.ports[0] is published in mode (not set) (Swarm's default, ingress); the routing mesh needs IPVS. Use publishMode \"host\"",
      'thon-gateway: endpointSpec.ports[1] is published in mode "ingress"; the routing mesh needs IPVS. Use publishMode "host"',
    ]);
    const run = await runResourcePolicy(policy, service("bob", { endpointSpec: { mode: "dnsrr", ports: [{ targetPort: 8080, publishMode: "host" }] } }));
    expect(messages(run)).toEqual(["thon-bob: a participant's service publishes port 0 (8080); participants are reached through nginx only"]);
  });

  it("ignores other resource types", async () => {
    expect((await runResourcePolicy(policy, resource("docker:index/container:Container", "c", { name: "c" }))).violations).toEqual([]);
  });
});

describe("thon-swarm-service-pinned", () => {
  const policy = "thon-swarm-service-pinned";
  const replace = (user: string, constraints: string[] | undefined) => {
    const s = service(user);
    const taskSpec = { ...(s.properties.taskSpec as object), placement: constraints === undefined ? {} : { constraints } };
    return [stack(), ...all().slice(1).filter((r) => r.name !== s.name), { ...s, properties: { ...s.properties, taskSpec } }];
  };

  it("passes every participant pinned to their planned node", async () => {
    expect(plan.participants.map((p) => p.node)).toEqual(["n1", "n2", "n1"]);
    expect((await runStackPolicy(policy, all())).violations).toEqual([]);
  });

  it("fails a participant service without the pin, naming the service and the participant", async () => {
    const run = await runStackPolicy(policy, replace("carol", ["node.role==worker"]));
    expect(messages(run)).toEqual(["thon-carol (carol) has no constraint node.labels.org.thon.node==<node>: Swarm may start it on any node, away from its home volume"]);
    expect(messages(await runStackPolicy(policy, replace("carol", undefined)))).toHaveLength(1);
  });

  it("fails a service pinned twice, or to a node the event does not have", async () => {
    expect(messages(await runStackPolicy(policy, replace("bob", [nodeConstraint("n1"), nodeConstraint("n2")])))).toEqual([
      "thon-bob (bob) is pinned to several nodes (n1, n2); it must have exactly one node.labels.org.thon.node==<node>",
    ]);
    expect(messages(await runStackPolicy(policy, replace("bob", [nodeConstraint("n9")])))).toEqual([
      "thon-bob (bob) is pinned to n9, which is not one of target.nodes (n1, n2)",
    ]);
  });

  it("leaves services that run no participant alone", async () => {
    const other = resource(SWARM_TYPES.service, "thon-gateway", { name: "thon-gateway", endpointSpec: { mode: "dnsrr" } });
    expect((await runStackPolicy(policy, [...all(), other])).violations).toEqual([]);
    expect(LABELS.node).toBe("org.thon.node");
  });
});

describe("thon-swarm-node-memory", () => {
  const policy = "thon-swarm-node-memory";

  it("passes the planned services within each node's memory", async () => {
    expect((await runStackPolicy(policy, all())).violations).toEqual([]);
  });

  it("fails a node whose pinned services' limits exceed its memory, naming the node and who is there", async () => {
    const big = service("alice", { taskSpec: { ...(service("alice").properties.taskSpec as object), resources: { limits: { memoryBytes: 3 * 1024 * MiB } } } });
    const run = await runStackPolicy(policy, [stack(), big, service("bob"), service("carol")]);
    expect(messages(run)).toEqual(["node n1 has 4096 MiB, but the services pinned to it (alice, carol) may use 5120 MiB: over by 1024 MiB"]);
  });

  it("fails a node the plan itself overfills (from the event output)", async () => {
    const run = await runStackPolicy(policy, [stack([{ name: "n1", memoryMiB: 4096, usedMiB: 6144 }, { name: "n2", memoryMiB: 4096, usedMiB: 0 }])]);
    expect(messages(run)).toEqual(["node n1 has 4096 MiB, but the plan assigns it 6144 MiB"]);
  });

  it("passes events that are not on a swarm, but not participant services without the nodes' capacities", async () => {
    const local = resource("pulumi:pulumi:Stack", "thon-dev", { event: { name: "test" } });
    expect(await runStackPolicy(policy, [local])).toEqual({ violations: [] });
    const run = await runStackPolicy(policy, [local, service("alice")]);
    expect(messages(run)).toEqual(["participant services (thon-alice) exist, but the event output has no swarm.nodes, so the nodes' capacities are unknown"]);
  });
});
