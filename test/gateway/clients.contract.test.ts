// Contract test of the whole LLM path with real client libraries: the real
// program's routes and consumers are created through Pulumi's
// dynamic-provider host in a stand-in APISIX (Admin API + data plane), which
// proxies to a stand-in Lemonade. A stock OpenAI client (the `openai`
// package) and Kilo's own provider library (@ai-sdk/openai-compatible, the
// version Kilo 7.5 ships) then talk to it with the participants' keys, and the
// Kilo client takes its base URL and key from the Kilo config THON renders.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { startApisixStandIn, type ApisixStandIn } from "../support/apisixStandIn.ts";
import { startLemonadeStandIn, type LemonadeStandIn } from "../support/lemonadeStandIn.ts";
import { startDynamicProviderHost, type DynamicProviderHost } from "../support/dynamicProviderHost.ts";
import { D, evaluateLlm, inputsOf, record, ROOT, type LlmYaml } from "../support/llm.ts";
import type { Evaluation } from "../../infra/preview/evaluate.ts";

const ADMIN_KEY = "apisix-admin-key-for-the-test";
const GROUPS = { alpha: ["alice", "bob"], beta: ["carol"] };

let host: DynamicProviderHost;
beforeAll(async () => {
  host = await startDynamicProviderHost({ root: ROOT });
});
afterAll(async () => {
  await host?.stop();
});

interface Deployment {
  readonly apisix: ApisixStandIn;
  readonly lemonade: LemonadeStandIn;
  readonly e: Evaluation;
  key(user: string): string;
  kilo(user: string): { baseURL: string; apiKey: string; model: string; indexing?: { model: string; "openai-compatible": { baseUrl: string; apiKey: string } } };
  close(): Promise<void>;
}

/** Evaluates the program against the stand-ins and creates every dynamic resource through the host. */
async function deploy(version: string, options: LlmYaml = {}): Promise<Deployment> {
  const apisix = await startApisixStandIn({ version, adminKey: ADMIN_KEY });
  const lemonade = await startLemonadeStandIn();
  const e = await evaluateLlm(GROUPS, { adminUrl: apisix.adminUrl, apiUrl: lemonade.url, lemonadeUrl: lemonade.url, apisixVersion: version, ...options }, { "thon:apisixAdminKey": ADMIN_KEY });
  const env = String(record(e, "command:local:Command", "thon-lemonade-env").inputs.stdin);
  lemonade.apiKey = /LEMONADE_API_KEY=(\S+)/.exec(env)![1]!;
  lemonade.adminKey = /LEMONADE_ADMIN_API_KEY=(\S+)/.exec(env)![1]!;
  for (const r of e.resources.filter((x) => x.type.startsWith("pulumi-nodejs:dynamic/"))) {
    const { inputs, failures } = await host.check(r.urn, {}, inputsOf(r));
    expect(failures).toEqual([]);
    await host.create(r.urn, inputs);
  }
  const participants = e.outputs.participants as Record<string, { apiKey: string }>;
  const kilo = (user: string) => {
    const uploads = record(e, "docker:index/container:Container", `thon-${user}`).inputs.uploads as { file: string; content: string }[];
    const config = JSON.parse(uploads.find((u) => u.file.endsWith("/.config/kilo/config.json"))!.content);
    // From inside a sandbox the gateway is host.docker.internal:9080; here it is the stand-in's proxy port.
    const local = (url: string) => url.replace("http://host.docker.internal:9080", apisix.proxyUrl);
    const indexing = config.indexing && { ...config.indexing, "openai-compatible": { ...config.indexing["openai-compatible"], baseUrl: local(config.indexing["openai-compatible"].baseUrl) } };
    return { baseURL: local(config.provider.thon.options.baseURL), apiKey: config.provider.thon.options.apiKey, model: config.model.replace(/^thon\//, ""), indexing };
  };
  return {
    apisix,
    lemonade,
    e,
    key: (user) => participants[user]!.apiKey,
    kilo,
    close: async () => {
      await apisix.close();
      await lemonade.close();
    },
  };
}

const openai = (d: Deployment, apiKey: string) => new OpenAI({ baseURL: `${d.apisix.proxyUrl}/v1`, apiKey, maxRetries: 0 });
const ask = (d: Deployment, apiKey: string) => openai(d, apiKey).chat.completions.create({ model: "whatever-they-ask-for", messages: [{ role: "user", content: "hi" }] });

async function kiloAsk(d: Deployment, user: string): Promise<string> {
  const k = d.kilo(user);
  const provider = createOpenAICompatible({ name: "thon", baseURL: k.baseURL, apiKey: k.apiKey });
  const result = await provider.chatModel(k.model).doGenerate({ prompt: [{ role: "user", content: [{ type: "text", text: "hi" }] }] });
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("");
}

describe.each([
  ["3.15", "the first release with per-consumer token counters"],
  ["3.17", "override.endpoint without a path"],
  ["3.18", "with the redis policy"],
])("contract: a stock OpenAI client and Kilo's client through APISIX %s (%s)", (version) => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy(version, version === "3.18" ? { more: "  redis: { host: 127.0.0.1 }\n" } : {});
  });
  afterAll(async () => d?.close());

  it("the OpenAI client's `Authorization: Bearer <key>` matches the consumer; Lemonade sees only its own key and the event's model", async () => {
    const answer = await ask(d, d.key("alice"));
    expect(answer.choices[0]!.message.content).toBe("hello from user.gemma-4-31b-it");
    const seen = d.lemonade.log.filter((l) => l.path.endsWith("/chat/completions")).at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${d.lemonade.apiKey}`);
    expect(seen.path).toBe(version === "3.17" || version === "3.18" ? "/v1/chat/completions" : "/api/v1/chat/completions");
  });

  it("Kilo's provider library, configured from the rendered Kilo config, gets an answer", async () => {
    expect(await kiloAsk(d, "carol")).toBe("hello from user.gemma-4-31b-it");
    expect(d.lemonade.log.filter((l) => l.path.endsWith("/chat/completions")).at(-1)!.headers.authorization).toBe(`Bearer ${d.lemonade.apiKey}`);
  });

  it("embeddings as Kilo's indexer asks for them (OpenAI client, base64) go through with the participant's key", async () => {
    const k = d.kilo("bob");
    const client = new OpenAI({ baseURL: k.indexing!["openai-compatible"].baseUrl, apiKey: k.indexing!["openai-compatible"].apiKey, maxRetries: 0 });
    const res = await client.embeddings.create({ model: k.indexing!.model, input: ["function main() {}"], encoding_format: "base64" });
    expect(res.data).toHaveLength(1);
    expect(d.lemonade.log.at(-1)).toMatchObject({ path: "/v1/embeddings", status: 200 });
  });

  it("a wrong key, or the right key without \"Bearer \", is refused by key-auth", async () => {
    await expect(ask(d, "sk-thon-not-a-participant")).rejects.toMatchObject({ status: 401 });
    const bare = await fetch(`${d.apisix.proxyUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { Authorization: d.key("alice"), "Content-Type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
    });
    expect([bare.status, await bare.json()]).toEqual([401, { message: "Invalid API key in request" }]);
  });

  it("the consumers are stored as THON declared them for this release", () => {
    const plugins = d.apisix.consumers.get("thon_test_alice")!.value.plugins as Record<string, Record<string, unknown>>;
    if (version === "3.18") expect(plugins["ai-rate-limiting"]).toMatchObject({ policy: "redis", redis_host: "127.0.0.1", redis_port: 6379 });
    else expect(plugins["ai-rate-limiting"]!.policy).toBeUndefined();
  });
});

describe("contract: token budgets", () => {
  it("per-user: a participant over budget gets 429 with a message, others go on", async () => {
    const d = await deploy("3.15", { limit: "{ tokens: 50, windowSeconds: 600 }" });
    try {
      d.lemonade.completionTokens = 60;
      await ask(d, d.key("alice")); // allowed: under budget when it started, uses 61
      const over = await ask(d, d.key("alice")).then(() => undefined, (x: { status?: number }) => x);
      expect(over?.status).toBe(429); // the OpenAI client sees a retryable 429, not a 503 outage
      const raw = await fetch(`${d.apisix.proxyUrl}/v1/chat/completions`, {
        method: "POST",
        headers: { Authorization: `Bearer ${d.key("alice")}`, "Content-Type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
      });
      expect([raw.status, await raw.json()]).toEqual([429, { error_msg: "token budget of 50 per 600 s used up; it refills as the window moves on" }]);
      expect((await ask(d, d.key("bob"))).choices).toHaveLength(1);
    } finally {
      await d.close();
    }
  });

  it("per-group: one key and one budget per group, sized for its members", async () => {
    const d = await deploy("3.15", { mode: "per-group", limit: "{ tokens: 30, windowSeconds: 600 }" });
    try {
      expect(d.key("alice")).toBe(d.key("bob"));
      expect(d.key("carol")).not.toBe(d.key("alice"));
      const alpha = d.apisix.consumers.get("thon_test_group_alpha")!.value.plugins as Record<string, { limit: number }>;
      expect(alpha["ai-rate-limiting"]!.limit).toBe(60); // 30 x 2 members
      d.lemonade.completionTokens = 70;
      await ask(d, d.key("alice"));
      expect(await ask(d, d.key("bob")).then(() => 200, (x: { status: number }) => x.status)).toBe(429);
      expect(await kiloAsk(d, "carol")).toBe("hello from user.gemma-4-31b-it");
    } finally {
      await d.close();
    }
  });

  it("APISIX 3.12 with limit: false: chat works, no rate-limit plugin is written", async () => {
    const d = await deploy("3.12", { limit: "false" });
    try {
      expect(Object.keys(d.apisix.consumers.get("thon_test_alice")!.value.plugins as object)).toEqual(["key-auth"]);
      expect((await ask(d, d.key("alice"))).choices[0]!.message.content).toBe("hello from user.gemma-4-31b-it");
    } finally {
      await d.close();
    }
  });
});
