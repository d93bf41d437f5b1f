// Contract tests of the APISIX Route and Consumer providers against a
// stand-in of the Admin API v3 (test/support/apisixStandIn.ts), driven as the
// engine drives them: Pulumi's own dynamic-provider host, gRPC calls, and the
// exact `__provider` text and inputs the real program registers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import axios from "axios";
import { freePort } from "../support/nginx.ts";
import * as pulumi from "@pulumi/pulumi";
import { startApisixStandIn, type ApisixStandIn } from "../support/apisixStandIn.ts";
import { engineSecretOutputs, leakedSecrets, startDynamicProviderHost, type DynamicProviderHost } from "../support/dynamicProviderHost.ts";
import { D, evaluateLlm, inputsOf, record, ROOT } from "../support/llm.ts";
import type { Evaluation, RecordedResource } from "../../infra/preview/evaluate.ts";
import { consumerProvider, routeProvider } from "../../infra/providers/apisix.ts";
import { modelProvider } from "../../infra/providers/lemonade.ts";

const ADMIN_KEY = "edd1c9f0-admin-key-of-the-test";
let apisix: ApisixStandIn;
let host: DynamicProviderHost;
let e: Evaluation;

beforeAll(async () => {
  apisix = await startApisixStandIn({ version: "3.15", adminKey: ADMIN_KEY });
  e = await evaluateLlm({ alpha: ["alice", "bob"], beta: ["carol"] }, { adminUrl: apisix.adminUrl }, { "thon:apisixAdminKey": ADMIN_KEY });
  host = await startDynamicProviderHost({ root: ROOT });
});
afterAll(async () => {
  await host?.stop();
  await apisix?.close();
});

/** The secret values a resource's outputs must not show outside secret properties. */
function secretsIn(r: RecordedResource): string[] {
  const i = r.inputs as { key?: string; adminKey?: string; body?: unknown };
  const lemonadeKey = JSON.stringify(i.body ?? "").match(/Bearer ([A-Za-z0-9]{48})/)?.[1];
  return [i.key, i.adminKey, lemonadeKey, i.key?.replace(/^Bearer /, "")].filter((s): s is string => typeof s === "string" && s.length > 8);
}

function expectNoLeaks(r: RecordedResource, properties: Record<string, unknown>) {
  const secretOutputs = engineSecretOutputs(r.secretInputs, r.options.additionalSecretOutputs);
  expect(leakedSecrets(properties, secretsIn(r), secretOutputs)).toEqual([]);
}

describe("contract: the program's APISIX providers in Pulumi's dynamic-provider host", () => {
  it("serialize without any key in their text, and the registered __provider carries none either", async () => {
    for (const provider of [routeProvider, consumerProvider, modelProvider]) {
      const sf = await pulumi.runtime.serializeFunction(() => provider);
      expect(sf.text).toContain('require("axios")');
      expect(sf.text).not.toContain(ADMIN_KEY);
      expect(sf.containsSecrets).toBe(false);
    }
    for (const r of e.resources.filter((x) => x.type.startsWith("pulumi-nodejs:dynamic/"))) {
      const text = String(r.inputs.__provider);
      expect(text.length).toBeGreaterThan(100);
      for (const s of [ADMIN_KEY, ...secretsIn(r)]) expect(text).not.toContain(s);
    }
  });

  it("Consumer: check, create (201), idempotent re-create (200), read, diff, update and delete of an absent one", async () => {
    const r = record(e, D.consumer, "thon-consumer-alice");
    expect(r.secretInputs).toEqual(expect.arrayContaining(["adminKey", "key"]));
    const inputs = inputsOf(r);

    const checked = await host.check(r.urn, {}, inputs);
    expect(checked.failures).toEqual([]);

    const created = await host.create(r.urn, checked.inputs);
    expect(created.id).toBe("thon_test_alice");
    expect(apisix.adminLog.at(-1)).toMatchObject({ method: "PUT", path: "/apisix/admin/consumers/thon_test_alice", status: 201 });
    const stored = apisix.consumers.get("thon_test_alice")!.value as { plugins: Record<string, Record<string, unknown>> };
    expect(stored.plugins["key-auth"]!.key).toMatch(/^Bearer sk-thon-[A-Za-z0-9]{40}$/);
    expect(stored.plugins["ai-rate-limiting"]).toMatchObject({ limit: 100000, time_window: 3600, limit_strategy: "total_tokens", rejected_code: 429 });
    expectNoLeaks(r, created.properties);

    // The same create again (e.g. a state lost after a crash): APISIX replaces, nothing breaks.
    const again = await host.create(r.urn, checked.inputs);
    expect(again.id).toBe(created.id);
    expect(apisix.adminLog.at(-1)).toMatchObject({ method: "PUT", status: 200 });
    expect(apisix.consumers.size).toBe(1);

    // Refresh: the server's stored defaults are no drift; inputs come back for the next diff.
    const read = await host.read(r.urn, created.id, created.properties);
    expect(read.id).toBe(created.id);
    expect(read.inputs?.key).toBe(inputs.key);
    expect(read.inputs?.plugins).toEqual(inputs.plugins);
    expect((await host.diff(r.urn, created.id, read.properties, checked.inputs)).changes).toBe("none");
    expectNoLeaks(r, read.properties);

    // A new budget updates in place; a new name is another consumer.
    const bigger = { ...checked.inputs, plugins: { "ai-rate-limiting": { ...(inputs.plugins as Record<string, Record<string, unknown>>)["ai-rate-limiting"], limit: 200000 } } };
    expect(await host.diff(r.urn, created.id, created.properties, bigger)).toMatchObject({ changes: "some", replaces: [] });
    expect((await host.diff(r.urn, created.id, created.properties, { ...checked.inputs, username: "thon_test_alice2" })).replaces).toEqual(["username"]);
    const updated = await host.update(r.urn, created.id, created.properties, bigger);
    expect((apisix.consumers.get("thon_test_alice")!.value.plugins as Record<string, { limit?: number }>)["ai-rate-limiting"]!.limit).toBe(200000);
    expectNoLeaks(r, updated.properties);

    await host.delete(r.urn, created.id, updated.properties);
    expect(apisix.consumers.has("thon_test_alice")).toBe(false);
    await host.delete(r.urn, created.id, updated.properties); // absent: 404 is done
    expect(apisix.adminLog.at(-1)).toMatchObject({ method: "DELETE", status: 404 });
    expect((await host.read(r.urn, created.id, updated.properties)).id).toBe("");
  });

  it("Route: create, read without drift although APISIX stored plugin defaults, update, delete", async () => {
    const r = record(e, D.route, "thon-gateway-chat");
    expect(r.secretInputs).toEqual(expect.arrayContaining(["adminKey", "body"]));
    const inputs = (await host.check(r.urn, {}, inputsOf(r))).inputs;
    const created = await host.create(r.urn, inputs);
    expect(created.id).toBe("thon-test-chat");
    const stored = apisix.routes.get("thon-test-chat")!.value as { plugins: Record<string, Record<string, unknown>> };
    expect(stored.plugins["key-auth"]).toEqual({ header: "Authorization", hide_credentials: true, query: "apikey" });
    expect(stored.plugins["ai-proxy-multi"]!.keepalive).toBe(true); // a default the server added
    expectNoLeaks(r, created.properties);

    const read = await host.read(r.urn, created.id, created.properties);
    expect(read.inputs?.body).toEqual(inputs.body);
    expect((await host.diff(r.urn, created.id, read.properties, inputs)).changes).toBe("none");

    const renamed = { ...inputs, body: { ...(inputs.body as object), desc: "changed" } };
    expect(await host.diff(r.urn, created.id, created.properties, renamed)).toMatchObject({ changes: "some", replaces: [] });
    expect((await host.diff(r.urn, created.id, created.properties, { ...inputs, routeId: "other" })).replaces).toEqual(["routeId"]);
    await host.update(r.urn, created.id, created.properties, renamed);
    expect(apisix.routes.get("thon-test-chat")!.value.desc).toBe("changed");

    await host.delete(r.urn, created.id, created.properties);
    await host.delete(r.urn, created.id, created.properties);
    expect(apisix.routes.size).toBe(0);
  });

  it("the embeddings route goes to Lemonade through an upstream that APISIX accepts", async () => {
    const r = record(e, D.route, "thon-gateway-embeddings");
    const created = await host.create(r.urn, inputsOf(r));
    expect(apisix.routes.get(created.id)!.value.upstream).toMatchObject({ nodes: { "127.0.0.1:13305": 1 }, scheme: "http" });
    await host.delete(r.urn, created.id, created.properties);
  });

  it("check names the invalid input", async () => {
    const r = record(e, D.consumer, "thon-consumer-bob");
    const { failures } = await host.check(r.urn, {}, { ...inputsOf(r), username: "bob.smith", adminUrl: "localhost:9180" });
    expect(failures.map((f) => f.property).sort()).toEqual(["adminUrl", "username"]);
    expect(failures.find((f) => f.property === "username")!.reason).toContain('"bob.smith"');
  });

  it("an invalid plugin configuration fails with APISIX's error_msg, the server, the object and the status", async () => {
    const r = record(e, D.consumer, "thon-consumer-bob");
    const bad = { ...inputsOf(r), plugins: { "ai-rate-limiting": { limit: 0, time_window: 60 } } };
    const err = await host.create(r.urn, bad).then(() => undefined, (x: Error) => x);
    expect(err?.message).toContain(`APISIX Admin API at ${apisix.adminUrl}`);
    expect(err?.message).toContain('PUT consumer "thon_test_bob" failed with HTTP 400');
    expect(err?.message).toContain("invalid plugins configuration: failed to check the configuration of plugin ai-rate-limiting err:");
    expect(err?.message).toContain("Fix:");
  });

  it("a wrong admin key fails with 401 and says where the key comes from", async () => {
    const r = record(e, D.consumer, "thon-consumer-bob");
    const err = await host.create(r.urn, { ...inputsOf(r), adminKey: "not-the-key" }).then(() => undefined, (x: Error) => x);
    expect(err?.message).toContain("HTTP 401: failed to check token (wrong apikey)");
    expect(err?.message).toContain("thon:apisixAdminKey");
    expect(apisix.consumers.has("thon_test_bob")).toBe(false);
  });

  it("a server that is down fails with a clear error naming its URL", async () => {
    const r = record(e, D.route, "thon-gateway-chat");
    const url = `http://127.0.0.1:${await freePort()}`;
    const err = await host.create(r.urn, { ...inputsOf(r), adminUrl: url }).then(() => undefined, (x: Error) => x);
    expect(err?.message).toContain(`cannot reach the APISIX Admin API at ${url} to PUT route "thon-test-chat": connection refused`);
    expect(err?.message).toContain("gateway.adminUrl");
    // The host keeps serving: an error is thrown, the process does not exit.
    expect((await host.check(r.urn, {}, inputsOf(r))).failures).toEqual([]);
  });

  it("takes the admin key from APISIX_ADMIN_KEY when thon:apisixAdminKey is not set", async () => {
    const plain = await evaluateLlm({ alpha: ["alice"] }, { adminUrl: apisix.adminUrl });
    const r = record(plain, D.consumer, "thon-consumer-alice");
    expect(r.inputs.adminKey).toBeUndefined();
    const envHost = await startDynamicProviderHost({ root: ROOT, env: { ...process.env, APISIX_ADMIN_KEY: ADMIN_KEY } });
    try {
      const created = await envHost.create(r.urn, inputsOf(r));
      expect(apisix.consumers.has(created.id)).toBe(true);
      await envHost.delete(r.urn, created.id, created.properties);
    } finally {
      await envHost.stop();
    }
    // And without it, the stand-in refuses like APISIX does.
    const err = await host.create(r.urn, inputsOf(r)).then(() => undefined, (x: Error) => x);
    expect(err?.message).toContain("failed to check token (missing apikey)");
  });
});

describe("contract: the Admin API stand-in itself behaves like APISIX", () => {
  const admin = () => axios.create({ baseURL: apisix.adminUrl, headers: { "X-API-KEY": ADMIN_KEY }, validateStatus: () => true });

  it("answers 404 Key not found, refuses a username that differs from the path, and server-owned fields", async () => {
    expect((await admin().get("/apisix/admin/routes/nope")).data).toEqual({ message: "Key not found" });
    expect((await admin().delete("/apisix/admin/consumers/nope")).status).toBe(404);
    const wrong = await admin().put("/apisix/admin/consumers/jack", { username: "jill", plugins: {} });
    expect([wrong.status, wrong.data]).toEqual([400, { error_msg: "wrong username" }]);
    const stamped = await admin().put("/apisix/admin/consumers/jack", { username: "jack", create_time: 1 });
    expect(stamped.data).toEqual({ error_msg: "the property is forbidden:  create_time" });
    const put = await admin().put("/apisix/admin/consumers/jack", { username: "jack", plugins: { "key-auth": { key: "Bearer abc" } } });
    expect(put.status).toBe(201);
    expect(put.data.value.plugins["key-auth"].key).not.toBe("Bearer abc"); // ciphertext in PUT replies
    const got = await admin().get("/apisix/admin/consumers/jack");
    expect(got.data).toMatchObject({ key: "/apisix/consumers/jack", value: { plugins: { "key-auth": { key: "Bearer abc" } } } });
    expect(got.data.createdIndex).toBeTypeOf("number");
    expect((await admin().delete("/apisix/admin/consumers/jack")).data).toEqual({ deleted: "1", key: "/apisix/consumers/jack" });
    const noKey = await axios.get(`${apisix.adminUrl}/apisix/admin/routes`, { validateStatus: () => true });
    expect([noKey.status, noKey.data]).toEqual([401, { error_msg: "failed to check token", description: "missing apikey" }]);
  });
});
