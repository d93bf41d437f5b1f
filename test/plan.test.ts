import { describe, expect, it } from "vitest";
import { baseUrl, planEvent, planWorkspace } from "../infra/plan.ts";
import { makeEvent } from "./support/events.ts";
import { llmYaml } from "./support/llm.ts";

describe("planner", () => {
  it("derives every name and path from the participant's name alone", () => {
    const plan = planEvent(makeEvent({ alpha: ["alice"] }));
    const alice = plan.participants[0]!;
    expect(alice.resourceNames).toEqual({
      sandbox: "thon-alice",
      container: "thon-alice",
      volume: "thon-workspace-alice",
      password: "thon-password-alice",
      socketDir: "thon-sockets-alice",
      workspaceDir: "thon-workspace-dir-alice",
      stop: "thon-stop-alice",
      proxyConfig: "thon-nginx-alice",
      proxyUpstream: "thon-upstream-alice",
      pidsLimit: "thon-pids-alice",
      homeVolume: "thon-home-alice",
      service: "thon-alice",
      passwordSecret: "thon-password-secret-alice",
      configFiles: "thon-files-alice",
    });
    expect(alice.containerName).toBe("thon-alice");
    expect(alice.workspace).toEqual({ kind: "volume", volumeName: "thon-workspace-alice" });
    expect(alice.home).toEqual({ kind: "volume", volumeName: "thon-home-alice" });
    expect(alice.socketHostDir).toBe("/var/lib/thon/sockets/alice");
    expect(alice.socketHostPath).toBe("/var/lib/thon/sockets/alice/code-server.sock");
    expect(alice.endpointPath).toBe("/alice/");
    expect(alice.url).toBe("https://127.0.0.1/alice/");
    const { group, ...identity } = alice;
    expect(group).toBe("alpha");
    expect(JSON.stringify(identity)).not.toContain("alpha");
  });

  it("keeps the group out of labels, names and paths (labels force a container replacement)", () => {
    const inAlpha = planEvent(makeEvent({ alpha: ["alice"] })).participants[0]!;
    const inBeta = planEvent(makeEvent({ beta: ["alice"] })).participants[0]!;
    const { group: g1, ...rest1 } = inAlpha;
    const { group: g2, ...rest2 } = inBeta;
    expect([g1, g2]).toEqual(["alpha", "beta"]);
    expect(rest1).toEqual(rest2);
    expect(Object.values(inAlpha.labels)).not.toContain("alpha");
  });

  it("leaves everyone's plan unchanged when a participant is added before them", () => {
    const before = planEvent(makeEvent({ alpha: ["bob", "carol"] }));
    const after = planEvent(makeEvent({ alpha: ["alice", "bob", "carol"] }));
    for (const name of ["bob", "carol"]) {
      expect(after.participants.find((p) => p.name === name)).toEqual(before.participants.find((p) => p.name === name));
    }
  });

  it("sorts participants by name whatever the file's order", () => {
    const plan = planEvent(makeEvent({ zeta: ["zoe", "adam"], alpha: ["mia"] }));
    expect(plan.participants.map((p) => p.name)).toEqual(["adam", "mia", "zoe"]);
  });

  it("puts bind-mounted workspaces in a per-participant folder of hostDir", () => {
    const event = makeEvent({ alpha: ["alice"] }, "workspace:\n  mode: bind\n  hostDir: /srv/thon/\n");
    expect(planEvent(event).participants[0]!.workspace).toEqual({ kind: "bind", hostPath: "/srv/thon/alice" });
  });

  it("plans no storage for ephemeral workspaces", () => {
    const event = makeEvent({ alpha: ["alice"] }, "workspace:\n  mode: ephemeral\n");
    expect(planEvent(event).participants[0]!.workspace).toEqual({ kind: "ephemeral" });
  });

  it.each([
    ["127.0.0.1", 443, "https://127.0.0.1/"],
    ["thon.example.org", 8443, "https://thon.example.org:8443/"],
    ["2001:db8::1", 443, "https://[2001:db8::1]/"],
  ])("builds the base URL for host %s on port %i", (host, port, url) => {
    expect(baseUrl({ host, proxy: { httpsPort: port } } as Parameters<typeof baseUrl>[0])).toBe(url);
  });

  it("keeps odd but valid names intact in URLs and paths", () => {
    const plan = planEvent(makeEvent({ a: ["x", "team_7-b", "0day"] }));
    expect(plan.participants.map((p) => p.endpointPath)).toEqual(["/0day/", "/team_7-b/", "/x/"]);
    expect(plan.participants.map((p) => p.containerName)).toEqual(["thon-0day", "thon-team_7-b", "thon-x"]);
  });

  it.each([
    ["", { kind: "volume", volumeName: "thon-workspace-gone" }],
    ["workspace:\n  mode: bind\n  hostDir: /srv/thon\n", { kind: "bind", hostPath: "/srv/thon/gone" }],
    ["workspace:\n  mode: ephemeral\n", { kind: "ephemeral" }],
  ])("names the workspace of someone no longer in the event (what thon purge deletes): %j", (extra, workspace) => {
    expect(planWorkspace(makeEvent({ alpha: ["alice"] }, extra), "gone")).toEqual(workspace);
  });
});

describe("planner: the local LLM", () => {
  const GROUPS = { alpha: ["alice", "bob"], beta: ["carol"], empty: [] };

  it("plans nothing for the LLM with lemonade off", () => {
    const plan = planEvent(makeEvent(GROUPS));
    expect(plan.llm).toBeUndefined();
    expect(plan.participants.map((p) => p.llm)).toEqual([undefined, undefined, undefined]);
  });

  it("per user: a consumer, key and username per participant, each using their own", () => {
    const plan = planEvent(makeEvent(GROUPS, llmYaml({ mode: "per-user" })));
    const gw = plan.llm!.gateway!;
    expect(gw.routes).toEqual([
      { which: "chat", resourceName: "thon-gateway-chat", routeId: "thon-test-chat" },
      { which: "embeddings", resourceName: "thon-gateway-embeddings", routeId: "thon-test-embeddings" },
    ]);
    expect(gw.consumers.map((c) => [c.resourceNames, c.username, c.members, c.limit && c.limit.tokens])).toEqual([
      [{ consumer: "thon-consumer-alice", key: "thon-llm-key-alice" }, "thon_test_alice", ["alice"], 100000],
      [{ consumer: "thon-consumer-bob", key: "thon-llm-key-bob" }, "thon_test_bob", ["bob"], 100000],
      [{ consumer: "thon-consumer-carol", key: "thon-llm-key-carol" }, "thon_test_carol", ["carol"], 100000],
    ]);
    expect(plan.participants.map((p) => p.llm)).toEqual(
      ["alice", "bob", "carol"].map((u) => ({ key: { from: "consumer", consumer: `thon-consumer-${u}` }, kiloPath: "/home/coder/.config/kilo/config.json" })),
    );
    expect(plan.llm!.kilo.baseURL).toBe("http://host.docker.internal:9080/v1");
  });

  it("per group: a consumer per group with members, its budget sized for them, and members use the group's key", () => {
    const plan = planEvent(makeEvent(GROUPS, llmYaml({ mode: "per-group" })));
    expect(plan.llm!.gateway!.consumers.map((c) => [c.resourceNames.consumer, c.username, c.members, c.limit && c.limit.tokens, c.desc])).toEqual([
      ["thon-consumer-group-alpha", "thon_test_group_alpha", ["alice", "bob"], 200000, "THON test: group alpha (2 participants)"],
      ["thon-consumer-group-beta", "thon_test_group_beta", ["carol"], 100000, "THON test: group beta (1 participants)"],
    ]);
    expect(plan.participants.map((p) => p.llm!.key)).toEqual([
      { from: "consumer", consumer: "thon-consumer-group-alpha" },
      { from: "consumer", consumer: "thon-consumer-group-alpha" },
      { from: "consumer", consumer: "thon-consumer-group-beta" },
    ]);
  });

  it("without the gateway: Lemonade's one key for everyone and its own URL", () => {
    const plan = planEvent(makeEvent(GROUPS, llmYaml({ gateway: false })));
    expect(plan.llm!.gateway).toBeUndefined();
    expect(plan.participants.map((p) => p.llm!.key)).toEqual([{ from: "lemonade" }, { from: "lemonade" }, { from: "lemonade" }]);
    expect(plan.llm!.kilo.baseURL).toBe("http://host.docker.internal:13305/api/v1");
    expect(plan.llm!.outputs).toMatchObject({ via: "lemonade", baseUrl: "http://host.docker.internal:13305/api/v1" });
    expect(plan.llm!.outputs.gatewayMode).toBeUndefined();
  });

  it("with embeddingModel: false, no embeddings route and no indexing block", () => {
    const plan = planEvent(makeEvent(GROUPS, llmYaml({ lemonadeMore: "  embeddingModel: false" })));
    expect(plan.llm!.gateway!.routes.map((r) => r.which)).toEqual(["chat"]);
    expect(plan.llm!.kilo.indexing).toBeUndefined();
  });
});
