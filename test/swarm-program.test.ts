// The program for target.kind swarm under Pulumi's mocks (issue 18,
// SWARM.md): one pinned service per participant, its volumes declared in the
// service's mounts (created on the node), the password only as a secret file,
// the socket folder made on the participant's node over SSH, node labels and
// the overlay network on the manager.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadEvent } from "../infra/config/load.ts";
import type { RecordedResource } from "../infra/preview/evaluate.ts";
import { diffEvaluations } from "../infra/preview/diff.ts";
import { planEvent } from "../infra/plan.ts";
import { find, runEvent, T } from "./support/program.ts";
import { Project } from "../console/ops/project.ts";
import { problemsOf } from "./support/events.ts";
import { thonMocks } from "../infra/preview/providerOutputs.ts";
import { evaluate } from "../infra/preview/evaluate.ts";
import { defineEvent } from "../infra/program.ts";

const S = {
  sandbox: "thon:sandbox:SwarmSandbox",
  service: "docker:index/service:Service",
  secret: "docker:index/secret:Secret",
  config: "docker:index/serviceConfig:ServiceConfig",
  network: "docker:index/network:Network",
  remote: "command:remote:Command",
  labels: "thon:swarm:NodeLabels",
} as const;

const dir = mkdtempSync(join(tmpdir(), "thon-swarm-program-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// Not a real key: the target reads the file; the mocks never connect.
writeFileSync(join(dir, "id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key\n-----END OPENSSH PRIVATE KEY-----\n");

const SWARM_TARGET = `target:
  kind: swarm
  dockerHost: tcp://127.0.0.1:2376
  ssh: { user: root, port: 22, privateKeyFile: ./id_ed25519 }
  nodes:
    - { name: n1, address: 127.0.1.1, memory: 64GiB, labels: { gpu: "true" } }
    - { name: n2, address: 127.0.1.2, memory: 24GiB }
`;

function swarmEvent(groups: string, extra = ""): ReturnType<typeof loadEvent> {
  const file = join(dir, `thon-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `event:\n  name: test\n  host: 127.0.0.1\ngroups:\n${groups}\n${SWARM_TARGET}${extra}`);
  return loadEvent(file);
}

const GROUPS = `  alpha:
    host: n2
    users: [alice, { name: bob, host: n1 }, { name: carol, state: stopped }]`;

function serviceOf(resources: readonly RecordedResource[], user: string): RecordedResource {
  return resources.find((r) => r.type === S.service && r.name === `thon-${user}`)!;
}

interface ServiceInputs {
  name: string;
  mode: { replicated: { replicas: number } };
  endpointSpec: { mode: string; ports?: unknown };
  taskSpec: {
    containerSpec: {
      image: string;
      args: string[];
      env: Record<string, string>;
      mounts: { type: string; source: string; target: string; volumeOptions?: { driverName: string; labels: { label: string; value: string }[] } }[];
      secrets: { secretId: string; secretName: string; fileName: string; fileUid: string; fileGid: string; fileMode: number }[];
      configs: { fileName: string }[];
    };
    placement: { constraints: string[] };
    resources: { limits: { memoryBytes: number; nanoCpus: number } };
    networksAdvanceds: { id: string }[];
  };
  updateConfig: { order: string };
}

describe("program on a swarm: one pinned service per participant", async () => {
  const event = swarmEvent(GROUPS);
  const e = await runEvent(event);

  it("declares each participant as one Service named thon-<user> under a SwarmSandbox, and no container, volume or image", () => {
    for (const user of ["alice", "bob", "carol"]) {
      expect(find(e, S.service, `thon-${user}`).parent).toBe(find(e, S.sandbox, `thon-${user}`).urn);
      expect(find(e, S.service, `thon-${user}`).inputs.name).toBe(`thon-${user}`);
    }
    expect(e.resources.filter((r) => r.type === S.service)).toHaveLength(3);
    // Volumes made on the manager would not be on the node: none are declared.
    expect(e.resources.filter((r) => r.type === T.volume)).toEqual([]);
    expect(e.resources.filter((r) => r.type === T.container)).toEqual([]);
    expect(e.resources.filter((r) => r.type === T.image)).toEqual([]);
    expect(e.resources.filter((r) => r.type === T.sandbox)).toEqual([]);
  });

  it("pins each service by exactly its node's label: host: on the participant, else the group's", () => {
    const constraint = (u: string) => (serviceOf(e.resources, u).inputs as unknown as ServiceInputs).taskSpec.placement.constraints;
    expect(constraint("alice")).toEqual(["node.labels.org.thon.node==n2"]);
    expect(constraint("bob")).toEqual(["node.labels.org.thon.node==n1"]);
    expect(constraint("carol")).toEqual(["node.labels.org.thon.node==n2"]);
  });

  it("uses DNS round-robin with no published ports, one replica running and none stopped, stop-first updates", () => {
    for (const user of ["alice", "bob", "carol"]) {
      const s = serviceOf(e.resources, user).inputs as unknown as ServiceInputs;
      expect(s.endpointSpec).toEqual({ mode: "dnsrr" });
      expect(s.updateConfig.order).toBe("stop-first");
      expect(s.mode).toEqual({ replicated: { replicas: user === "carol" ? 0 : 1 } });
    }
  });

  it("declares home and workspace as volume mounts with volumeOptions, and the socket folder as a bind from the node", () => {
    const s = serviceOf(e.resources, "alice").inputs as unknown as ServiceInputs;
    const labels = [
      { label: "org.thon.event", value: "test" },
      { label: "org.thon.managed-by", value: "pulumi" },
    ];
    expect(s.taskSpec.containerSpec.mounts).toEqual([
      { type: "volume", source: "thon-workspace-alice", target: "/workspace", volumeOptions: { driverName: "local", labels: [...labels, { label: "org.thon.purpose", value: "workspace" }, { label: "org.thon.user", value: "alice" }] } },
      { type: "volume", source: "thon-home-alice", target: "/home/coder", volumeOptions: { driverName: "local", labels: [...labels, { label: "org.thon.purpose", value: "home" }, { label: "org.thon.user", value: "alice" }] } },
      { type: "bind", source: "/var/lib/thon/sockets/alice", target: "/run/thon" },
    ]);
  });

  it("makes the socket folder on the participant's node, over SSH to its address", () => {
    for (const [user, address] of [["alice", "127.0.1.2"], ["bob", "127.0.1.1"]] as const) {
      const cmd = find(e, S.remote, `thon-sockets-${user}`);
      expect(cmd.parent).toBe(find(e, T.directory, `thon-sockets-${user}`).urn);
      expect((cmd.inputs.connection as { host: string; user: string; port: number }).host).toBe(address);
      expect(cmd.inputs.create).toContain(`install -d -m 2770 -o '1000' -g 'www-data' -- '/var/lib/thon/sockets/${user}'`);
      // The key is a secret of the connection.
      expect(cmd.secretInputs).toContain("connection");
    }
  });

  it("hands the password over as a Swarm secret file, with PASSWORD_FILE and never PASSWORD in any Service input", () => {
    for (const user of ["alice", "bob", "carol"]) {
      const service = serviceOf(e.resources, user);
      const s = service.inputs as unknown as ServiceInputs;
      const secret = find(e, S.secret, `thon-password-secret-${user}`);
      expect(s.taskSpec.containerSpec.secrets).toEqual([
        { secretId: expect.any(String), secretName: expect.stringMatching(new RegExp(`^thon-password-secret-${user}-[0-9a-f]{7}$`)), fileName: "/run/secrets/thon-password", fileUid: "1000", fileGid: "1000", fileMode: 0o400 },
      ]);
      expect(s.taskSpec.containerSpec.env.PASSWORD_FILE).toBe("/run/secrets/thon-password");
      expect(Object.keys(s.taskSpec.containerSpec.env)).not.toContain("PASSWORD");
      const password = e.outputs.participants as Record<string, { password: string }>;
      const pw = password[user]!.password;
      expect(pw).toMatch(/^[A-Za-z0-9]{8,}$/);
      expect(JSON.stringify(service.inputs)).not.toContain(pw);
      expect(service.secretInputs).toEqual([]);
      // The secret carries it, base64 as the provider wants, and stays secret.
      expect(Buffer.from(String(secret.inputs.data), "base64").toString("utf8")).toBe(pw);
      expect(secret.secretInputs).toContain("data");
      expect(secret.inputs.name).toBeUndefined();
      // The autoname the service references is the one the recorded (unwrapped) inputs give: the
      // e2e engine creates the secret under it (a digest over the secret's wire form did not match).
      expect(s.taskSpec.containerSpec.secrets[0]!.secretName).toBe(thonMocks.newResource({ type: secret.type, name: secret.name, inputs: secret.inputs, custom: true }).state.name);
    }
    expect(e.secretOutputs).toContain("participants");
  });

  it("puts the organizer's settings in a ServiceConfig mounted where the entrypoint merges them", () => {
    const s = serviceOf(e.resources, "alice").inputs as unknown as ServiceInputs;
    const config = find(e, S.config, "thon-files-alice-settings");
    expect(s.taskSpec.containerSpec.configs).toEqual([expect.objectContaining({ fileName: "/etc/thon/vscode-settings.json", fileUid: "1000", fileMode: 0o400 })]);
    expect(JSON.parse(Buffer.from(String(config.inputs.data), "base64").toString("utf8"))).toMatchObject({ "security.workspace.trust.enabled": false });
  });

  it("limits memory and CPU, joins the event's overlay, runs code-server's arguments under the image's entrypoint", () => {
    const s = serviceOf(e.resources, "alice").inputs as unknown as ServiceInputs;
    expect(s.taskSpec.resources.limits).toEqual({ memoryBytes: 2048 * 1024 * 1024, nanoCpus: 1e9 });
    const network = find(e, S.network, "thon-net-test");
    expect(network.inputs).toMatchObject({ name: "thon-net-test", driver: "overlay", attachable: true });
    expect(s.taskSpec.networksAdvanceds).toHaveLength(1);
    expect(serviceOf(e.resources, "alice").options.propertyDependencies.taskSpec).toContain(network.urn);
    expect(s.taskSpec.containerSpec.args).toContain("--socket");
    expect(s.taskSpec.containerSpec).not.toHaveProperty("commands");
    expect(s.taskSpec.containerSpec.image).toBe("thon-sandbox:4.100.3");
  });

  it("labels each node on the manager (org.thon.node and the organizer's labels), before its services", () => {
    const n1 = find(e, T.command, "thon-node-labels-n1");
    expect(n1.parent).toBe(find(e, S.labels, "thon-node-labels-n1").urn);
    expect(n1.inputs.environment).toEqual({ DOCKER_HOST: "tcp://127.0.0.1:2376" });
    expect(n1.inputs.create).toContain(`docker node update "$@" --label-add 'gpu=true' --label-add 'org.thon.node=n1' --label-add 'org.thon.labels=gpu,org.thon.node' "$node"`);
    expect(find(e, T.command, "thon-node-labels-n2").inputs.create).toContain(`--label-add 'org.thon.node=n2' --label-add 'org.thon.labels=org.thon.node'`);
    expect(serviceOf(e.resources, "alice").parent).toBe(find(e, S.sandbox, "thon-alice").urn);
    // The service waits for its node's label command (its constraint names that label).
    expect(serviceOf(e.resources, "alice").options.dependencies).toContain(find(e, T.command, "thon-node-labels-n2").urn);
    expect(serviceOf(e.resources, "bob").options.dependencies).toContain(find(e, T.command, "thon-node-labels-n1").urn);
  });

  it("keeps the participants' credentials as today's secret output", () => {
    const participants = e.outputs.participants as Record<string, { group: string; state: string; url: string; password: string }>;
    expect(Object.keys(participants).sort()).toEqual(["alice", "bob", "carol"]);
    expect(participants.carol).toMatchObject({ group: "alpha", state: "stopped", url: "https://127.0.0.1/carol/" });
  });
});

describe("program on a swarm: what it refuses", () => {
  it("stops before declaring anything when the node SSH key cannot be read, naming target.ssh.privateKeyFile", async () => {
    const event = swarmEvent("  alpha:\n    users: [alice]");
    const broken = { ...event, target: { ...event.target, ssh: { user: "root", port: 22, privateKeyFile: join(dir, "missing-key") } } } as typeof event;
    await expect(runEvent(broken)).rejects.toThrow(/target\.ssh\.privateKeyFile: cannot read .*missing-key \(ENOENT\)/);
  });

  const header = `event:\n  name: test\n  host: 127.0.0.1\ngroups:\n  alpha:\n    users: [alice]\n${SWARM_TARGET}`;
  it("refuses sandbox.packages and sandbox.build (the nodes have no registry to get them from)", () => {
    expect(problemsOf(`${header}sandbox:\n  packages: [git]\n`).join("\n")).toMatch(/sandbox\.packages: .*target\.kind swarm cannot add packages/);
    expect(problemsOf(`${header}sandbox:\n  build: { context: . }\n`).join("\n")).toMatch(/sandbox\.build: .*target\.kind swarm runs images already on every node/);
  });
  it("refuses tls.mode provided (the edge trusts the nodes through the event CA)", () => {
    expect(problemsOf(`${header}tls:\n  mode: provided\n  certFile: /etc/ssl/a.pem\n  keyFile: /etc/ssl/a.key\n`).join("\n")).toMatch(/tls\.mode: .*target\.kind swarm needs the event CA/);
  });
});

describe("program on a swarm: adding a node and a participant moves nobody", async () => {
  const file = (nodes: string, users: string) => {
    const f = join(dir, `blast-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(
      f,
      `event:\n  name: test\n  host: 127.0.0.1\ngroups:\n  alpha:\n    users: [${users}]\ntarget:\n  kind: swarm\n  dockerHost: tcp://127.0.0.1:2376\n  ssh: { user: root, port: 22, privateKeyFile: ./id_ed25519 }\n  nodes:\n${nodes}`,
    );
    return loadEvent(f);
  };
  const TWO = "    - { name: n1, address: 127.0.1.1, memory: 8GiB }\n    - { name: n2, address: 127.0.1.2, memory: 8GiB }\n";
  const THREE = `${TWO}    - { name: n3, address: 127.0.1.3, memory: 8GiB }\n`;
  const first = file(TWO, "alice, bob, carol, dave");
  const before = await runEvent(first);
  // What the first real update recorded in thon.placement.yaml.
  const lock = planEvent(first).swarm!.lock;
  const grown = { ...file(THREE, "alice, bob, carol, dave, erin"), placementLock: lock };
  const after = await runEvent(grown);
  const diff = diffEvaluations(before, after);

  it("keeps everyone where the lock says; the newcomer goes to the emptiest node", () => {
    const nodes = Object.fromEntries(planEvent(grown).participants.map((p) => [p.name, p.node]));
    expect(nodes).toEqual({ ...lock, erin: "n3" });
  });

  it("only creates: the new node's labels, nginx and edge upstream, and the newcomer's own resources", () => {
    expect(diff.changes.filter((c) => c.kind !== "create").map((c) => `${c.kind} ${c.name} ${c.inputs.join(",")}`)).toEqual([
      // The edge's reload is told its new file list (as the one-host proxy's is); it restarts nobody.
      "update thon-proxy-edge-reload stdin",
    ]);
    const created = diff.changes.filter((c) => c.kind === "create").map((c) => c.name);
    expect(created.length).toBeGreaterThan(0);
    const unrelated = created.filter((n) => !/erin|n3/.test(n));
    expect(unrelated).toEqual([]);
  });
});

// The local LLM on a swarm: lemond on the node with the GPU (here n2, not the
// entry n1), APISIX beside it or on gateway.node, every sandbox reaching it at
// that node's address, each Kilo config a Swarm secret.
describe("program on a swarm: the local LLM", async () => {
  const NODES = `target:
  kind: swarm
  dockerHost: tcp://127.0.0.1:2376
  ssh: { user: root, port: 22, privateKeyFile: ./id_ed25519 }
  nodes:
    - { name: n1, address: 127.0.1.1, memory: 64GiB }
    - { name: n2, address: 127.0.1.2, memory: 64GiB, labels: { gpu: "true" } }
`;
  const LLM_GROUPS = "  alpha:\n    host: n1\n    users: [alice, { name: bob, host: n2 }]";
  const llmEvent = (gateway: string, lemonade = "", nodes = NODES) => {
    const file = join(dir, `llm-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `event:\n  name: test\n  host: 127.0.0.1\ngroups:\n${LLM_GROUPS}\n${nodes}lemonade:\n  enabled: true\n  startTimeoutSeconds: 2\n${lemonade}gateway:\n${gateway}`);
    return loadEvent(file);
  };
  const run = (event: ReturnType<typeof loadEvent>) => evaluate(() => defineEvent(event), { config: { "thon:apisixAdminKey": "admin-key" } });
  const withGateway = llmEvent("  enabled: true\n");
  const e = await run(withGateway);
  const keys = e.outputs.participants as Record<string, { apiKey: string }>;
  const kiloOf = (user: string) => JSON.parse(Buffer.from(String(find(e, S.secret, `thon-files-${user}-kilo`).inputs.data), "base64").toString("utf8")) as {
    provider: Record<string, { options: { baseURL: string; apiKey: string } }>;
  };

  it("runs lemond's files and activation on the GPU node over SSH (connection.host its address), none on the machine running pulumi", () => {
    for (const name of ["thon-lemonade-unit", "thon-lemonade-env", "thon-lemonade-config", "thon-lemonade-service"]) {
      const cmd = find(e, S.remote, name);
      expect((cmd.inputs.connection as { host: string }).host, name).toBe("127.0.1.2");
      expect(cmd.secretInputs).toContain("connection");
    }
    expect(e.resources.filter((r) => r.type === T.command && r.name.startsWith("thon-lemonade"))).toEqual([]);
    expect(find(e, S.remote, "thon-lemonade-unit").inputs.create).toContain("/etc/systemd/system/lemond.service");
  });

  it("with APISIX beside lemond, keeps lemond on loopback, APISIX reaching it there and sandboxes reaching APISIX at the node's address", () => {
    const plan = planEvent(withGateway).llm!;
    expect(plan.lemonade.host).toBe("127.0.0.1");
    expect(plan.gateway!.lemonadeUrl).toBe("http://127.0.0.1:13305");
    expect(plan.gateway!.node).toEqual({ name: "n2", address: "127.0.1.2" });
    expect((e.outputs.event as { llm: { baseUrl: string } }).llm.baseUrl).toBe("http://127.0.1.2:9080/v1");
    for (const user of ["alice", "bob"]) expect(kiloOf(user).provider.thon!.options.baseURL).toBe("http://127.0.1.2:9080/v1");
  });

  it("mounts each participant's Kilo config as a Swarm secret outside the home, named by THON_KILO_CONFIG_FILE, with their own key", () => {
    for (const user of ["alice", "bob"]) {
      const s = serviceOf(e.resources, user).inputs as unknown as ServiceInputs;
      expect(s.taskSpec.containerSpec.secrets).toContainEqual({
        secretId: expect.any(String),
        secretName: expect.stringMatching(new RegExp(`^thon-files-${user}-kilo-[0-9a-f]{7}$`)),
        fileName: "/run/secrets/thon-kilo.json",
        fileUid: "1000",
        fileGid: "1000",
        fileMode: 0o400,
      });
      expect(s.taskSpec.containerSpec.env.THON_KILO_CONFIG_FILE).toBe("/run/secrets/thon-kilo.json");
      expect(s.taskSpec.containerSpec.mounts.map((m) => m.target)).not.toContain("/home/coder/.config/kilo/config.json");
      expect(kiloOf(user).provider.thon!.options.apiKey).toBe(keys[user]!.apiKey);
      expect(find(e, S.secret, `thon-files-${user}-kilo`).secretInputs).toContain("data");
    }
    expect(keys.alice!.apiKey).not.toBe(keys.bob!.apiKey);
  });

  it("keeps every participant's key out of plain inputs: only secret inputs of any resource hold it", () => {
    for (const user of ["alice", "bob"]) {
      const key = keys[user]!.apiKey;
      expect(key).toMatch(/^sk-thon-/);
      const holders: string[] = [];
      for (const r of e.resources) {
        for (const [field, value] of Object.entries(r.inputs)) {
          // The Kilo secret carries it base64-encoded: look for both forms.
          if (JSON.stringify(value).includes(key) || (r.type === S.secret && Buffer.from(String(value), "base64").toString("utf8").includes(key))) {
            holders.push(`${r.name}.${field}`);
            expect(r.secretInputs, `${r.type} ${r.name}.${field}`).toContain(field);
          }
        }
      }
      // Where it is meant to be: the participant's Kilo secret and their gateway consumer.
      expect(holders).toEqual(expect.arrayContaining([`thon-files-${user}-kilo.data`, `thon-consumer-${user}.key`]));
      expect(serviceOf(e.resources, user).secretInputs).toEqual([]);
      expect(JSON.stringify(serviceOf(e.resources, user).inputs)).not.toContain(key);
    }
  });

  it("with APISIX on another node (gateway.node), makes lemond listen beyond loopback, APISIX reach it at its node's address, sandboxes reach APISIX's node", async () => {
    const event = llmEvent("  enabled: true\n  node: n1\n");
    const plan = planEvent(event).llm!;
    expect(plan.lemonade.host).toBe("0.0.0.0");
    expect(plan.gateway!.lemonadeUrl).toBe("http://127.0.1.2:13305");
    expect(plan.outputs.baseUrl).toBe("http://127.0.1.1:9080/v1");
    const other = await run(event);
    expect((find(other, S.remote, "thon-lemonade-service").inputs.connection as { host: string }).host).toBe("127.0.1.2");
    expect(JSON.parse(Buffer.from(String(find(other, S.secret, "thon-files-alice-kilo").inputs.data), "base64").toString("utf8")).provider.thon.options.baseURL).toBe("http://127.0.1.1:9080/v1");
  });

  it("without the gateway, gives every sandbox Lemonade's key and its node's address, lemond on 0.0.0.0", async () => {
    const event = llmEvent("  enabled: false\n");
    const plan = planEvent(event).llm!;
    expect(plan.lemonade.host).toBe("0.0.0.0");
    expect(plan.outputs).toMatchObject({ via: "lemonade", baseUrl: "http://127.0.1.2:13305/api/v1" });
    const off = await run(event);
    const kilo = JSON.parse(Buffer.from(String(find(off, S.secret, "thon-files-bob-kilo").inputs.data), "base64").toString("utf8"));
    expect(kilo.provider.thon.options.baseURL).toBe("http://127.0.1.2:13305/api/v1");
    expect(kilo.provider.thon.options.apiKey).toBe((off.outputs.participants as Record<string, { apiKey: string }>).bob!.apiKey);
  });

  it("puts lemond on lemonade.node when given, else without a gpu: \"true\" node on target.entry", () => {
    expect(planEvent(llmEvent("  enabled: true\n", "  node: n1\n")).llm!.lemonade.node).toEqual({ name: "n1", address: "127.0.1.1" });
    const noGpu = NODES.replace(', labels: { gpu: "true" }', "").replace("  nodes:", "  entry: n2\n  nodes:");
    expect(planEvent(llmEvent("  enabled: true\n", "", noGpu)).llm!.lemonade.node).toEqual({ name: "n2", address: "127.0.1.2" });
  });
});

describe("program on a swarm: the LLM's nodes, refused by field", () => {
  const header = `event:\n  name: test\n  host: 127.0.0.1\ngroups:\n  alpha:\n    users: [alice]\n${SWARM_TARGET}`;
  it("refuses a lemonade.node or gateway.node that is not in target.nodes", () => {
    const problems = problemsOf(`${header}lemonade:\n  enabled: true\n  node: n9\ngateway:\n  enabled: true\n  node: gpu1\n`).join("\n");
    expect(problems).toMatch(/lemonade\.node: "[^"]*": is not one of target\.nodes \(n1, n2\)\. Fix: name the node that runs lemond/);
    expect(problems).toMatch(/gateway\.node: "[^"]*": is not one of target\.nodes \(n1, n2\)\. Fix: name the node that runs APISIX/);
  });
  it("refuses lemonade.node and gateway.node on one host", () => {
    const problems = problemsOf(`event:\n  name: test\n  host: 127.0.0.1\ngroups:\n  alpha:\n    users: [alice]\nlemonade:\n  enabled: true\n  node: n1\ngateway:\n  enabled: true\n  node: n1\n`).join("\n");
    expect(problems).toMatch(/lemonade\.node: "[^"]*": places lemond .* on a swarm node, and target\.kind is "local"/);
    expect(problems).toMatch(/gateway\.node: "[^"]*": places APISIX on a swarm node, and target\.kind is "local"/);
  });
  it("refuses lemond on loopback when APISIX runs on another node", () => {
    expect(problemsOf(`${header}lemonade:\n  enabled: true\n  host: 127.0.0.1\ngateway:\n  enabled: true\n  node: n2\n`).join("\n")).toMatch(
      /lemonade\.host: "[^"]*": lemond on 127\.0\.0\.1 cannot be reached by APISIX on node n2 \(Lemonade runs on n1\)/,
    );
  });
});

describe("the console's targeted replaces on a swarm", async () => {
  // The console replaces a participant's password or service by URN (thon users recreate / reset-password).
  const projectDir = mkdtempSync(join(dir, "project-"));
  writeFileSync(join(projectDir, "Pulumi.yaml"), "name: thon\nruntime: nodejs\n");
  writeFileSync(join(projectDir, "id_ed25519"), "not a key\n");
  const eventFile = join(projectDir, "thon.yaml");
  writeFileSync(eventFile, `event:\n  name: test\n  host: 127.0.0.1\ngroups:\n${GROUPS}\n${SWARM_TARGET}`);
  const project = new Project({ projectDir, stack: "dev", eventFile });
  const e = await runEvent(project.event());

  it("names the URNs the program declares: the SwarmSandbox's Service and password", () => {
    const alice = project.plan().participants.find((p) => p.name === "alice")!;
    expect(project.urns(alice)).toEqual({
      password: find(e, T.password, "thon-password-alice").urn,
      container: find(e, S.service, "thon-alice").urn,
    });
  });
});
