// The Kilo Code config per mode: valid for Kilo's strict schema, complete
// enough that Kilo leaves the file alone, and only the participant's own key.
import { describe, expect, it } from "vitest";
import { kiloGlobalConfig } from "../support/kiloSchema.ts";
import { kiloConfig, renderKiloConfig } from "../../infra/render/kilo.ts";
import { evaluateLlm, record } from "../support/llm.ts";
import type { Evaluation } from "../../infra/mock/evaluate.ts";

const GROUPS = { alpha: ["alice", "bob"], beta: ["carol"] };

function kiloOf(e: Evaluation, user: string) {
  const uploads = record(e, "docker:index/container:Container", `thon-${user}`).inputs.uploads as { file: string; content: string; permissions: string }[];
  const file = uploads.find((u) => u.file === "/home/coder/.config/kilo/config.json")!;
  expect(file.permissions).toBe("0600");
  return JSON.parse(file.content);
}

const base = {
  providerName: "THON ev",
  baseURL: "http://host.docker.internal:9080/v1",
  apiKey: "sk-thon-abc",
  chat: { id: "user.m", displayName: "m", context: 65536, output: 8192 },
  indexing: { model: "user.e", dimension: 768 },
  bash: "ask" as const,
};

describe("Kilo Code config", () => {
  it("passes Kilo's strict schema, and an unknown key would not (the check can fail)", () => {
    expect(kiloGlobalConfig.safeParse(kiloConfig(base)).success).toBe(true);
    expect(kiloGlobalConfig.safeParse({ ...kiloConfig(base), kilocode: true }).success).toBe(false);
    const withBadIndexing = { ...kiloConfig(base), indexing: { ...(kiloConfig(base).indexing as object), enabled: true, baseUrl: "x" } };
    expect(kiloGlobalConfig.safeParse(withBadIndexing).success).toBe(false);
  });

  it("has $schema and permission.bash (else Kilo rewrites the file), the model as thon/<id>, and no indexing.enabled (stripped from global files)", () => {
    const c = kiloConfig(base) as Record<string, any>;
    expect(c.$schema).toBe("https://app.kilo.ai/config.json");
    expect(c.permission).toEqual({ bash: "ask" });
    expect(c.model).toBe("thon/user.m");
    expect(c.small_model).toBe("thon/user.m");
    expect(c.provider.thon).toMatchObject({ npm: "@ai-sdk/openai-compatible", options: { baseURL: base.baseURL, apiKey: "sk-thon-abc" } });
    expect(c.provider.thon.models["user.m"].limit).toEqual({ context: 65536, output: 8192 });
    expect(c.indexing).toEqual({ provider: "openai-compatible", model: "user.e", dimension: 768, "openai-compatible": { baseUrl: base.baseURL, apiKey: "sk-thon-abc" } });
    expect(kiloConfig({ ...base, indexing: undefined }).indexing).toBeUndefined();
    expect(renderKiloConfig(base)).toBe(renderKiloConfig({ ...base, chat: { output: 8192, context: 65536, displayName: "m", id: "user.m" } }));
  });

  it("per-user gateway: each sandbox gets the gateway URL and its own key", async () => {
    const e = await evaluateLlm(GROUPS);
    const participants = e.outputs.participants as Record<string, { apiKey: string }>;
    for (const user of ["alice", "bob", "carol"]) {
      const c = kiloOf(e, user);
      expect(kiloGlobalConfig.safeParse(c).success).toBe(true);
      expect(c.provider.thon.options).toEqual({ baseURL: "http://host.docker.internal:9080/v1", apiKey: participants[user]!.apiKey });
      expect(c.indexing["openai-compatible"].apiKey).toBe(participants[user]!.apiKey);
    }
    expect(new Set(["alice", "bob", "carol"].map((u) => participants[u]!.apiKey)).size).toBe(3);
    expect(record(e, "docker:index/container:Container", "thon-alice").secretInputs).toContain("uploads");
  });

  it("per-group gateway: the group's key", async () => {
    const e = await evaluateLlm(GROUPS, { mode: "per-group" });
    expect(kiloOf(e, "alice").provider.thon.options.apiKey).toBe(kiloOf(e, "bob").provider.thon.options.apiKey);
    expect(kiloOf(e, "carol").provider.thon.options.apiKey).not.toBe(kiloOf(e, "alice").provider.thon.options.apiKey);
  });

  it("without the gateway: Lemonade's /api/v1 through host.docker.internal and its one API key", async () => {
    const e = await evaluateLlm(GROUPS, { gateway: false });
    const env = String(record(e, "command:local:Command", "thon-lemonade-env").inputs.stdin);
    const key = /LEMONADE_API_KEY=(\S+)/.exec(env)![1];
    const c = kiloOf(e, "alice");
    expect(c.provider.thon.options).toEqual({ baseURL: "http://host.docker.internal:13305/api/v1", apiKey: key });
    expect(JSON.stringify(c)).not.toContain(/LEMONADE_ADMIN_API_KEY=(\S+)/.exec(env)![1]);
  });

  it("embeddingModel: false or kilo.indexing: false leave the indexing block out", async () => {
    const off = await evaluateLlm(GROUPS, { lemonadeMore: "  embeddingModel: false" });
    expect(kiloOf(off, "alice").indexing).toBeUndefined();
    const notKilo = await evaluateLlm(GROUPS, { lemonadeMore: "  kilo: { indexing: false, bash: allow }" });
    expect(kiloOf(notKilo, "alice").indexing).toBeUndefined();
    expect(kiloOf(notKilo, "alice").permission).toEqual({ bash: "allow" });
  });
});

describe("Kilo Code config snapshots", () => {
  it("with codebase indexing", () => {
    expect(renderKiloConfig(base)).toMatchSnapshot();
  });

  it("without codebase indexing, bash denied", () => {
    expect(renderKiloConfig({ ...base, indexing: undefined, bash: "deny" })).toMatchSnapshot();
  });
});
