// Gateway policies on the APISIX routes and consumers the real program
// declares (components/gateway.ts) per user and per group, evaluated under
// mocks from thon.yaml, and on copies changed the way a mistake would.
import { beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../../infra/mock/evaluate.ts";
import { stackResources } from "../../infra/policy/analyzer.ts";
import { planEvent } from "../../infra/plan.ts";
import { APISIX_TYPES } from "../../policies/gateway.ts";
import { evaluateFeatures, featuresEvent, FEATURES_HOST } from "../support/features.ts";
import { runResourcePolicy, runStackPolicy, withProps, WIRE, type PolicyRun, type TestResource } from "../support/policies.ts";

function messages(run: PolicyRun, policy: string): string[] {
  for (const v of run.violations) expect(v.policy).toBe(policy);
  return run.violations.map((v) => v.message);
}

let perUser: Evaluation;
let perGroup: Evaluation;
beforeAll(async () => {
  perUser = await evaluateFeatures({ gateway: "per-user" });
  perGroup = await evaluateFeatures({ gateway: "per-group" });
});

const ofType = (e: Evaluation, type: string) => stackResources(e).filter((r) => r.type === type);
const named = (e: Evaluation, type: string, name: string): TestResource => ofType(e, type).find((r) => r.name === name)!;

describe("the gateway resources the pack reads", () => {
  it("are one consumer per participant (per-user) or per group with members (per-group), and two routes", () => {
    expect(ofType(perUser, APISIX_TYPES.consumer).map((r) => r.name)).toEqual(["thon-consumer-alice", "thon-consumer-bob", "thon-consumer-carol", "thon-consumer-dave"]);
    expect(ofType(perGroup, APISIX_TYPES.consumer).map((r) => r.name)).toEqual(["thon-consumer-group-alpha", "thon-consumer-group-beta"]);
    expect(ofType(perUser, APISIX_TYPES.route).map((r) => r.properties.routeId)).toEqual(["thon-feat-chat", "thon-feat-embeddings"]);
    expect(named(perGroup, APISIX_TYPES.consumer, "thon-consumer-group-alpha").properties).toMatchObject({
      adminUrl: "http://127.0.0.1:9180",
      username: "thon_feat_group_alpha",
      key: expect.stringMatching(/^Bearer sk-thon-\w{40}$/),
      plugins: { "ai-rate-limiting": { limit: 200000, time_window: 3600 } },
    });
  });

  it("carry the planner's consumer usernames, which the pack expects (it reads infra/resourceNames.ts too)", () => {
    for (const [e, mode] of [[perUser, "per-user"], [perGroup, "per-group"]] as const) {
      const planned = planEvent(featuresEvent({ gateway: mode })).llm!.gateway!.consumers.map((c) => c.username);
      expect(ofType(e, APISIX_TYPES.consumer).map((r) => r.properties.username)).toEqual(planned);
    }
    expect(planEvent(featuresEvent({ gateway: "per-group" })).llm!.gateway!.consumers.map((c) => c.username)).toEqual(["thon_feat_group_alpha", "thon_feat_group_beta"]);
  });
});

describe("thon-gateway-consumer-key-and-limit", () => {
  const policy = "thon-gateway-consumer-key-and-limit";

  it("passes every consumer the program declares, per user and per group", async () => {
    for (const e of [perUser, perGroup]) {
      for (const c of ofType(e, APISIX_TYPES.consumer)) expect((await runResourcePolicy(policy, c)).violations, c.name).toEqual([]);
    }
  });

  it("passes a key unknown at preview (made by random.RandomPassword in the same run)", async () => {
    const c = withProps(named(perUser, APISIX_TYPES.consumer, "thon-consumer-alice"), { key: WIRE.unknown });
    expect((await runResourcePolicy(policy, c)).violations).toEqual([]);
  });

  it("fails every consumer when thon.yaml turns the limit off (gateway.limit: false)", async () => {
    const unlimited = await evaluateFeatures({ gateway: "per-group", llm: { limit: "false" } });
    const consumers = ofType(unlimited, APISIX_TYPES.consumer);
    expect(consumers.map((c) => c.properties.plugins)).toEqual([{}, {}]);
    for (const c of consumers) {
      expect(messages(await runResourcePolicy(policy, c), policy)).toEqual([
        `consumer ${c.name} has no rate limit (plugins["ai-rate-limiting"]), so one key can use up the LLM for everyone`,
      ]);
    }
  });

  it.each([
    ["without a key", { key: undefined }, 'consumer thon-consumer-alice has no key (the key input the provider turns into key-auth)'],
    ["with an empty key", { key: "" }, 'consumer thon-consumer-alice has an empty key ("")'],
    ["with only the Bearer prefix", { key: "Bearer " }, 'consumer thon-consumer-alice has an empty key ("Bearer ")'],
    ["with a zero limit", { plugins: { "ai-rate-limiting": { limit: 0, time_window: 3600 } } }, 'consumer thon-consumer-alice has a rate limit without a positive limit and time_window ({"limit":0,"time_window":3600})'],
    ["with the limit switched off", { plugins: { "ai-rate-limiting": { limit: 100, time_window: 60, _meta: { disable: true } } } }, "consumer thon-consumer-alice has its rate limit switched off (_meta.disable)"],
    ["with a limit unknown at preview", { plugins: { "ai-rate-limiting": { limit: WIRE.unknownNumber, time_window: 60 } } }, "consumer thon-consumer-alice has a rate limit unknown at preview; it comes from thon.yaml and must be literal"],
  ])("fails the program's consumer %s", async (_what, patch, expected) => {
    const c = withProps(named(perUser, APISIX_TYPES.consumer, "thon-consumer-alice"), patch);
    expect(messages(await runResourcePolicy(policy, c), policy)).toEqual([expected]);
  });

  it("ignores other resources", async () => {
    expect((await runResourcePolicy(policy, named(perUser, APISIX_TYPES.route, "thon-gateway-chat"))).violations).toEqual([]);
  });
});

describe("thon-gateway-route-key-auth", () => {
  const policy = "thon-gateway-route-key-auth";
  const withoutKeyAuth = (r: TestResource, keyAuth?: unknown) => {
    const body = r.properties.body as { plugins: Record<string, unknown> };
    const { "key-auth": _dropped, ...plugins } = body.plugins;
    return withProps(r, { body: { ...body, plugins: keyAuth === undefined ? plugins : { ...plugins, "key-auth": keyAuth } } });
  };

  it("passes both routes the program declares", async () => {
    for (const r of ofType(perGroup, APISIX_TYPES.route)) {
      expect((r.properties.body as { plugins: object }).plugins).toHaveProperty("key-auth");
      expect(await runResourcePolicy(policy, r), r.name).toEqual({ violations: [] });
    }
  });

  it("fails a route without key-auth, or with key-auth switched off", async () => {
    const chat = named(perUser, APISIX_TYPES.route, "thon-gateway-chat");
    expect(messages(await runResourcePolicy(policy, withoutKeyAuth(chat)), policy)).toEqual([
      "route thon-gateway-chat has no key-auth: anyone who reaches the gateway can use the LLM",
    ]);
    const off = withoutKeyAuth(named(perUser, APISIX_TYPES.route, "thon-gateway-embeddings"), { header: "Authorization", _meta: { disable: true } });
    expect(messages(await runResourcePolicy(policy, off), policy)).toEqual([
      "route thon-gateway-embeddings has key-auth switched off (_meta.disable): anyone who reaches the gateway can use the LLM",
    ]);
  });

  it("says it did not apply when the body is unknown at preview (it holds Lemonade's new key)", async () => {
    const run = await runResourcePolicy(policy, withProps(named(perUser, APISIX_TYPES.route, "thon-gateway-chat"), { body: WIRE.unknown }));
    expect(run).toEqual({
      violations: [],
      notApplicable: "the body of route thon-gateway-chat is unknown at preview (it holds Lemonade's new key); it is checked when pulumi up sends the route",
    });
  });
});

describe("thon-gateway-admin-not-public", () => {
  const policy = "thon-gateway-admin-not-public";

  it("passes the program's Admin API on loopback (the default) and on a private address", async () => {
    expect((await runStackPolicy(policy, perUser)).violations).toEqual([]);
    for (const adminUrl of ["http://10.0.0.5:9180", "http://[::1]:9180", "http://localhost:9180"]) {
      const e = await evaluateFeatures({ gateway: "per-group", llm: { adminUrl } });
      expect(ofType(e, APISIX_TYPES.consumer).every((c) => c.properties.adminUrl === adminUrl)).toBe(true);
      expect((await runStackPolicy(policy, e)).violations, adminUrl).toEqual([]);
    }
  });

  it.each([
    [`http://${FEATURES_HOST}:9180`, `the Admin API (http://${FEATURES_HOST}:9180) is on the event's host ${FEATURES_HOST}, where participants connect`],
    ["http://thon.example.org:9180", "the Admin API (http://thon.example.org:9180) is on the event's host thon.example.org, where participants connect"],
    ["http://198.51.100.7:9180", "the Admin API (http://198.51.100.7:9180) is on the public address 198.51.100.7"],
    ["http://apisix.example.net:9180", "the Admin API (http://apisix.example.net:9180) is on the DNS name apisix.example.net, which the pack cannot place; use 127.0.0.1, a private address, or list it in allowedAdminHosts"],
  ])("fails gateway.adminUrl %s in thon.yaml, once for all the routes and consumers that use it", async (adminUrl, expected) => {
    const e = await evaluateFeatures({ gateway: "per-user", llm: { adminUrl } });
    const run = await runStackPolicy(policy, e);
    expect(messages(run, policy)).toEqual([`thon-consumer-alice and 5 more gateway resources: ${expected}`]);
    expect(run.violations[0]!.urn).toBe(named(e, APISIX_TYPES.consumer, "thon-consumer-alice").urn);
  });

  it("accepts a DNS name the config allows", async () => {
    const e = await evaluateFeatures({ gateway: "per-group", llm: { adminUrl: "http://apisix.internal:9180" } });
    expect((await runStackPolicy(policy, e, { allowedAdminHosts: ["apisix.internal"] })).violations).toEqual([]);
  });

  it("fails one resource whose Admin API URL differs from the rest, or is unknown at preview", async () => {
    const list = (patch: Record<string, unknown>) =>
      stackResources(perGroup).map((r) => (r.type === APISIX_TYPES.route && r.name === "thon-gateway-embeddings" ? withProps(r, patch) : r));
    expect(messages(await runStackPolicy(policy, list({ adminUrl: "http://198.51.100.7:9180" })), policy)).toEqual([
      "thon-gateway-embeddings: the Admin API (http://198.51.100.7:9180) is on the public address 198.51.100.7",
    ]);
    expect(messages(await runStackPolicy(policy, list({ adminUrl: WIRE.unknown })), policy)).toEqual([
      "thon-gateway-embeddings: the Admin API URL is unknown at preview; gateway.adminUrl must be a literal",
    ]);
  });
});
