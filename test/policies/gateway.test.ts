// Gateway policies. The APISIX dynamic providers (issue "Lemonade and the AI
// gateway") are not on main yet: these fabricated resources carry the type
// tokens they are to have and the shapes the policies assume, which are the
// APISIX Admin API's own (consumer: username, group_id, plugins with key-auth
// and ai-rate-limiting; consumer_group: id, plugins) plus a THON-style
// { key, limit: { tokens, windowSeconds } } and an adminUrl input.
import { describe, expect, it } from "vitest";
import { APISIX_TYPES } from "../../policies/gateway.ts";
import { resource, runStackPolicy, WIRE, type PolicyRun, type TestResource } from "../support/policies.ts";

function messages(run: PolicyRun, policy: string): string[] {
  for (const v of run.violations) expect(v.policy).toBe(policy);
  return run.violations.map((v) => v.message);
}

const ADMIN = "http://127.0.0.1:9180";
const limit = { limit: 100000, time_window: 3600, rejected_code: 429 };
const consumer = (username: string, props: Record<string, unknown> = {}): TestResource =>
  resource(APISIX_TYPES.consumer, `thon-consumer-${username}`, {
    adminUrl: ADMIN,
    username,
    plugins: { "key-auth": { key: `Bearer sk-${username}-0123456789abcdef` }, "ai-rate-limiting": limit },
    ...props,
  });
const route = (props: Record<string, unknown> = {}) =>
  resource(APISIX_TYPES.route, "thon-route-chat", { adminUrl: ADMIN, uri: "/v1/chat/completions", plugins: { "key-auth": { header: "Authorization" } }, ...props });
const stack = (event: Record<string, unknown> = {}) =>
  resource("pulumi:pulumi:Stack", "thon-dev", { event: { name: "dev", host: "203.0.113.10", altNames: [], participantCount: 2, ...event } });

describe("thon-gateway-consumer-key-and-limit", () => {
  const policy = "thon-gateway-consumer-key-and-limit";

  it("passes consumers with key-auth and ai-rate-limiting, and a THON-style key and limit", async () => {
    const thonStyle = consumer("bob", { plugins: undefined, key: "Bearer sk-bob-0123456789", limit: { tokens: 100000, windowSeconds: 3600 } });
    expect((await runStackPolicy(policy, [stack(), route(), consumer("alice"), thonStyle])).violations).toEqual([]);
  });

  it("passes a key unknown at preview (computed from a random value at deploy)", async () => {
    const c = consumer("alice", { plugins: { "key-auth": { key: WIRE.unknown }, "ai-rate-limiting": limit } });
    expect((await runStackPolicy(policy, [c])).violations).toEqual([]);
  });

  it("passes per-group mode: the limit on the consumer group the consumer names", async () => {
    const group = resource(APISIX_TYPES.consumerGroup, "thon-group-alpha", { id: "alpha", plugins: { "ai-rate-limiting": limit } });
    const c = consumer("alice", { group_id: "alpha", plugins: { "key-auth": { key: "Bearer sk-1" } } });
    expect((await runStackPolicy(policy, [group, c])).violations).toEqual([]);
  });

  it("passes per-consumer route rules (APISIX 3.16+) instead of a limit on each consumer", async () => {
    const r = route({ plugins: { "ai-rate-limiting": { rules: [{ count: 1000, time_window: 60, key: "$consumer_name" }] } } });
    const c = consumer("alice", { plugins: { "key-auth": { key: "Bearer sk-1" } } });
    expect((await runStackPolicy(policy, [r, c])).violations).toEqual([]);
  });

  it.each([
    [{ plugins: { "ai-rate-limiting": limit } }, ["consumer thon-consumer-alice has no API key (plugins[\"key-auth\"].key)"]],
    [{ plugins: { "key-auth": { key: "Bearer " }, "ai-rate-limiting": limit } }, ["consumer thon-consumer-alice: plugins.key-auth.key is empty"]],
    [{ plugins: { "key-auth": { key: "Bearer sk-1" } } }, ["consumer thon-consumer-alice has no rate limit (ai-rate-limiting on the consumer or its group)"]],
    [{ plugins: { "key-auth": { key: "Bearer sk-1" }, "ai-rate-limiting": { limit: 0, time_window: 3600 } } }, [expect.stringMatching(/plugins.ai-rate-limiting has no positive limit and window/)]],
    [{ plugins: { "key-auth": { key: "Bearer sk-1" }, "ai-rate-limiting": { limit: WIRE.unknownNumber, time_window: 60 } } }, [expect.stringMatching(/rate limit is unknown at preview/)]],
    [{ plugins: { "key-auth": { key: "Bearer sk-1" } }, group_id: "nobody" }, ['consumer thon-consumer-alice: its consumer group "nobody" is not in the stack']],
  ])("fails %j", async (props, expected) => {
    expect(messages(await runStackPolicy(policy, [consumer("alice", props)]), policy)).toEqual(expected);
  });

  it("reports each violation on the consumer's URN", async () => {
    const c = consumer("alice", { plugins: {} });
    const run = await runStackPolicy(policy, [c]);
    expect(run.violations.map((v) => v.urn)).toEqual([c.urn, c.urn]);
  });
});

describe("thon-gateway-admin-not-public", () => {
  const policy = "thon-gateway-admin-not-public";

  it("passes an Admin API on loopback or a private address", async () => {
    for (const url of [ADMIN, "http://[::1]:9180", "http://localhost:9180", "http://10.0.0.5:9180"]) {
      expect((await runStackPolicy(policy, [stack(), route({ adminUrl: url }), consumer("alice", { adminUrl: url })])).violations, url).toEqual([]);
    }
  });

  it.each([
    ["http://203.0.113.10:9180", "the Admin API (http://203.0.113.10:9180) is on the event's host 203.0.113.10, where participants connect"],
    ["http://198.51.100.7:9180", "the Admin API (http://198.51.100.7:9180) is on the public address 198.51.100.7"],
    ["http://apisix.example.org:9180", "the Admin API (http://apisix.example.org:9180) is on the DNS name apisix.example.org, which the pack cannot place; use 127.0.0.1, a private address, or list it in allowedAdminHosts"],
    ["not a url", 'the Admin API URL "not a url" is not a URL'],
    [WIRE.unknown, "the Admin API URL is unknown at preview"],
  ])("fails %s", async (url, expected) => {
    expect(messages(await runStackPolicy(policy, [stack(), route({ adminUrl: url })]), policy)).toEqual([`thon-route-chat: ${expected}`]);
  });

  it("finds the URL under admin/connection objects and in the stack's event.gateway output", async () => {
    const nested = route({ adminUrl: undefined, connection: { adminUrl: "http://198.51.100.7:9180" } });
    expect(messages(await runStackPolicy(policy, [nested]), policy)).toEqual([expect.stringMatching(/thon-route-chat: .*public address 198.51.100.7/)]);
    const fromOutput = await runStackPolicy(policy, [stack({ gateway: { adminUrl: "http://203.0.113.10:9180" } })]);
    expect(messages(fromOutput, policy)).toEqual([expect.stringMatching(/^event.gateway.adminUrl: .*on the event's host 203.0.113.10/)]);
  });

  it("accepts a DNS name the config allows", async () => {
    const run = await runStackPolicy(policy, [route({ adminUrl: "http://apisix.internal:9180" })], { allowedAdminHosts: ["apisix.internal"] });
    expect(run.violations).toEqual([]);
  });

  it("fails a container publishing the admin port beyond loopback", async () => {
    const apisix = (ports: unknown[]) => resource("docker:index/container:Container", "thon-apisix", { name: "thon-apisix", ports });
    expect(messages(await runStackPolicy(policy, [apisix([{ internal: 9180, external: 9180 }])]), policy)).toEqual([
      "thon-apisix publishes the Admin API port 9180 on 0.0.0.0 (every address); publish it on 127.0.0.1 only",
    ]);
    expect((await runStackPolicy(policy, [apisix([{ internal: 9180, external: 9180, ip: "127.0.0.1" }, { internal: 9080, external: 9080 }])])).violations).toEqual([]);
  });
});
