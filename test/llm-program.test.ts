// The program with Lemonade and the gateway, under mocks: what is declared,
// under which parent, what is secret, what participants receive; and that
// with both off nothing of it is declared.
import { describe, expect, it } from "vitest";
import { makeEvent } from "./support/events.ts";
import { runEvent } from "./support/program.ts";
import { D, evaluateLlm, record } from "./support/llm.ts";

const GROUPS = { alpha: ["alice", "bob"], beta: ["carol"] };

describe("program: the local LLM", () => {
  it("with lemonade and gateway off, declares nothing of theirs and gives no apiKey", async () => {
    const e = await runEvent(makeEvent(GROUPS));
    expect(e.resources.filter((r) => /lemonade|gateway|llm|consumer|pulumi-nodejs/.test(r.type + r.name))).toEqual([]);
    const participants = e.outputs.participants as Record<string, Record<string, unknown>>;
    expect(participants.alice!.apiKey).toBeUndefined();
    expect((e.outputs.event as Record<string, unknown>).llm).toBeUndefined();
    const uploads = record(e, "docker:index/container:Container", "thon-alice").inputs.uploads as { file: string }[];
    expect(uploads.map((u) => u.file)).toEqual(["/etc/thon/vscode-settings.json"]);
  });

  it("declares Lemonade's keys, files, activation and models under thon:lemonade:Lemonade, and the gateway's objects under thon:gateway:Gateway", async () => {
    const e = await evaluateLlm(GROUPS);
    const lemonade = record(e, "thon:lemonade:Lemonade", "thon-lemonade");
    const gateway = record(e, "thon:gateway:Gateway", "thon-gateway");
    for (const [type, name] of [
      ["random:index/randomPassword:RandomPassword", "thon-lemonade-api-key"],
      ["random:index/randomPassword:RandomPassword", "thon-lemonade-admin-key"],
      ["thon:host:File", "thon-lemonade-unit"],
      ["thon:host:File", "thon-lemonade-env"],
      ["thon:host:File", "thon-lemonade-config"],
      ["command:local:Command", "thon-lemonade-service"],
      [D.model, "thon-lemonade-chat"],
      [D.model, "thon-lemonade-embedding"],
    ] as const) {
      expect(record(e, type, name).parent, name).toBe(lemonade.urn);
    }
    // Each file's command hangs off its thon:host:File.
    for (const name of ["thon-lemonade-unit", "thon-lemonade-env", "thon-lemonade-config"]) {
      expect(record(e, "command:local:Command", name).parent, name).toBe(record(e, "thon:host:File", name).urn);
    }
    for (const [type, name] of [
      [D.route, "thon-gateway-chat"],
      [D.route, "thon-gateway-embeddings"],
      [D.consumer, "thon-consumer-alice"],
      ["random:index/randomPassword:RandomPassword", "thon-llm-key-alice"],
    ] as const) {
      expect(record(e, type, name).parent, name).toBe(gateway.urn);
    }
    expect(e.resources.filter((r) => r.type === D.consumer)).toHaveLength(3);
    // The models wait for lemond; the activation waits for its three files.
    const service = record(e, "command:local:Command", "thon-lemonade-service");
    expect(record(e, D.model, "thon-lemonade-chat").options.dependencies).toContain(service.urn);
    expect(service.options.dependencies).toEqual(
      expect.arrayContaining(["thon-lemonade-config", "thon-lemonade-env", "thon-lemonade-unit"].map((n) => record(e, "command:local:Command", n).urn)),
    );
  });

  it("keeps every key secret: env file, triggers, routes, consumers, models, Kilo files and the participants output", async () => {
    const e = await evaluateLlm(GROUPS, {}, { "thon:apisixAdminKey": "admin-key" });
    expect(record(e, "command:local:Command", "thon-lemonade-env").secretInputs).toEqual(["stdin"]);
    expect(record(e, "command:local:Command", "thon-lemonade-service").secretInputs).toEqual(["triggers"]);
    expect(record(e, "command:local:Command", "thon-lemonade-config").secretInputs).toEqual([]);
    expect(record(e, D.route, "thon-gateway-chat").secretInputs).toEqual(["adminKey", "body"]);
    expect(record(e, D.consumer, "thon-consumer-bob").secretInputs).toEqual(["adminKey", "key"]);
    expect(record(e, D.consumer, "thon-consumer-bob").options.additionalSecretOutputs).toEqual(["adminKey", "key"]);
    expect(record(e, D.model, "thon-lemonade-chat").secretInputs).toEqual(["adminKey"]);
    expect(record(e, "docker:index/container:Container", "thon-bob").secretInputs).toContain("uploads");
    expect(e.secretOutputs).toContain("participants");
    const participants = e.outputs.participants as Record<string, { apiKey: string }>;
    expect(participants.bob!.apiKey).toMatch(/^sk-thon-[A-Za-z0-9]{40}$/);
    // Non-secret places never hold a key.
    const env = String(record(e, "command:local:Command", "thon-lemonade-env").inputs.stdin);
    const keys = [...env.matchAll(/=([A-Za-z0-9]{48})/g)].map((m) => m[1]!).concat(Object.values(participants).map((p) => p.apiKey), ["admin-key"]);
    for (const r of e.resources) {
      for (const [input, value] of Object.entries(r.inputs)) {
        if (r.secretInputs.includes(input)) continue;
        for (const k of keys) expect(JSON.stringify(value), `${r.name}.${input}`).not.toContain(k);
      }
    }
  });

  it("scales the models' context and slots with the participant count, and publishes how tools reach the LLM", async () => {
    const e = await evaluateLlm(GROUPS, { lemonadeMore: "  maxParallel: 2" });
    expect(record(e, D.model, "thon-lemonade-chat").inputs.load).toEqual({ ctx_size: 524288, llamacpp_args: "-np 2" });
    expect((e.outputs.event as Record<string, unknown>).llm).toEqual({
      baseUrl: "http://host.docker.internal:9080/v1",
      via: "gateway",
      gatewayMode: "per-user",
      chatModel: "user.gemma-4-31b-it",
      embeddingModel: "user.nomic-embed-text-v1.5",
      lemondUnit: "lemond.service",
    });
    // With the gateway on, lemond stays on loopback: only APISIX talks to it.
    expect(JSON.parse(String(record(e, "command:local:Command", "thon-lemonade-config").inputs.stdin)).host).toBe("127.0.0.1");
    const direct = await evaluateLlm(GROUPS, { gateway: false });
    expect(JSON.parse(String(record(direct, "command:local:Command", "thon-lemonade-config").inputs.stdin)).host).toBe("0.0.0.0");
    expect(direct.resources.filter((r) => r.type === D.consumer || r.type === D.route)).toEqual([]);
  });

  it("per-group: one key and consumer per group with the limit times the group's size", async () => {
    const e = await evaluateLlm(GROUPS, { mode: "per-group" });
    expect(e.resources.filter((r) => r.type === D.consumer).map((r) => r.name)).toEqual(["thon-consumer-group-alpha", "thon-consumer-group-beta"]);
    expect(record(e, D.consumer, "thon-consumer-group-alpha").inputs.plugins).toMatchObject({ "ai-rate-limiting": { limit: 200000 } });
    expect(record(e, D.consumer, "thon-consumer-group-beta").inputs.plugins).toMatchObject({ "ai-rate-limiting": { limit: 100000 } });
    const participants = e.outputs.participants as Record<string, { apiKey: string }>;
    expect(participants.alice!.apiKey).toBe(participants.bob!.apiKey);
  });
});
