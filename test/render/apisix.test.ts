import { describe, expect, it } from "vitest";
import { chatEndpoint, chatRoute, consumerKeyValue, consumerPlugins, consumerTokenLimit, embeddingsRoute } from "../../infra/render/apisix.ts";
import { consumerUsername } from "../../infra/resourceNames.ts";

const routes = { event: "ev", apisixVersion: "3.15", lemonadeUrl: "http://127.0.0.1:13305/", lemonadeApiKey: "LKEY", chatModel: "user.m" };

describe("APISIX bodies", () => {
  it.each([
    ["per-user", 100000, 7, 100000],
    ["per-group", 100000, 7, 700000],
    ["per-group", 5000, 1, 5000],
    ["per-group", 5000, 0, 5000], // an empty group still gets a usable budget
  ] as const)("%s limit for %i tokens per user and a group of %i: %i", (mode, perUser, size, limit) => {
    expect(consumerTokenLimit(mode, perUser, size)).toBe(limit);
  });

  it.each([
    ["3.12", "http://127.0.0.1:13305/api/v1/chat/completions"],
    ["3.16", "http://127.0.0.1:13305/api/v1/chat/completions"],
    ["3.17", "http://127.0.0.1:13305"],
    ["3.18.0", "http://127.0.0.1:13305"],
  ])("override.endpoint for APISIX %s is %s (full URL before 3.17, no path, not even '/', after)", (version, endpoint) => {
    expect(chatEndpoint("http://127.0.0.1:13305/", version)).toBe(endpoint);
  });

  it("the chat route authenticates the whole Authorization header, hides it, pins the model and sends Lemonade's key", () => {
    const body = chatRoute(routes) as unknown as { plugins: Record<string, any> };
    expect(body.plugins["key-auth"]).toEqual({ header: "Authorization", hide_credentials: true });
    const instance = body.plugins["ai-proxy-multi"].instances[0];
    expect(instance).toMatchObject({ provider: "openai-compatible", weight: 1, auth: { header: { Authorization: "Bearer LKEY" } }, options: { model: "user.m" } });
    expect(body.plugins["ai-proxy-multi"].timeout).toBe(600000);
    expect(body.plugins["ai-rate-limiting"]).toBeUndefined(); // budgets live on the consumers
  });

  it("the embeddings route is an upstream to Lemonade with its key set by proxy-rewrite", () => {
    const body = embeddingsRoute(routes) as unknown as Record<string, any>;
    expect(body.upstream.nodes).toEqual({ "127.0.0.1:13305": 1 });
    expect(body.plugins["proxy-rewrite"]).toEqual({ headers: { set: { Authorization: "Bearer LKEY" } } });
  });

  it("writes a redis policy only for APISIX 3.18+, rejects with 429, and writes nothing with limit: false", () => {
    const redis = { host: "10.0.0.5", port: 6379, database: 1 };
    expect(consumerPlugins({ apisixVersion: "3.15", tokens: 10, windowSeconds: 60, redis })["ai-rate-limiting"]).toEqual({
      limit: 10,
      time_window: 60,
      limit_strategy: "total_tokens",
      rejected_code: 429,
      rejected_msg: "token budget of 10 per 60 s used up; it refills as the window moves on",
    });
    expect(consumerPlugins({ apisixVersion: "3.18", tokens: 10, windowSeconds: 60, redis })["ai-rate-limiting"]).toMatchObject({
      policy: "redis",
      redis_host: "10.0.0.5",
      redis_port: 6379,
      redis_database: 1,
    });
    expect(consumerPlugins(false)).toEqual({});
  });

  it("names consumers from the event and the user or group alone, and stores keys with the Bearer prefix", () => {
    expect(consumerUsername("ev", "user", "alice")).toBe("thon_ev_alice");
    expect(consumerUsername("ev", "group", "alpha")).toBe("thon_ev_group_alpha");
    expect(consumerKeyValue("sk-1")).toBe("Bearer sk-1");
  });
});

describe("APISIX body snapshots", () => {
  it.each(["3.15", "3.17"])("the chat route for APISIX %s", (apisixVersion) => {
    expect(chatRoute({ ...routes, apisixVersion })).toMatchSnapshot();
  });

  it("the embeddings route", () => {
    expect(embeddingsRoute(routes)).toMatchSnapshot();
  });

  it.each([
    ["3.15 with redis (not written before 3.18)", { apisixVersion: "3.15", tokens: 200000, windowSeconds: 3600, redis: { host: "10.0.0.5", port: 6379, database: 1 } }],
    ["3.18 with redis", { apisixVersion: "3.18", tokens: 200000, windowSeconds: 3600, redis: { host: "10.0.0.5", port: 6379, database: 1 } }],
    ["no limit", false],
  ] as const)("a consumer's plugins: %s", (_what, limit) => {
    expect(consumerPlugins(limit)).toMatchSnapshot();
  });
});
