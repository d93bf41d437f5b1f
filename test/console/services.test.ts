// Lemonade and the gateway read through the console, against the stand-ins
// of their documented APIs (test/support), and with each one down: its part
// says so, the rest answers. Admin keys stay on the server.
import { afterEach, describe, expect, it } from "vitest";
import { startLemonadeStandIn, type LemonadeStandIn } from "../support/lemonadeStandIn.ts";
import { startApisixStandIn, type ApisixStandIn } from "../support/apisixStandIn.ts";
import { harness, type Harness } from "../support/consoleFixture.ts";
import { freePort } from "../support/nginx.ts";

let h: Harness | undefined;
let lemonade: LemonadeStandIn | undefined;
let apisix: ApisixStandIn | undefined;
afterEach(async () => {
  h?.fixture.cleanup();
  await lemonade?.close();
  await apisix?.close();
  h = lemonade = apisix = undefined;
});

const LEMONADE_ADMIN = "lemonade-admin-key-123";
const APISIX_ADMIN = "apisix-admin-key-456";

async function servers() {
  lemonade = await startLemonadeStandIn({ apiKey: "user-key", adminKey: LEMONADE_ADMIN });
  lemonade.models.set("user.gemma", { checkpoint: "unsloth/gemma-GGUF:Q4_K_M", recipe: "llamacpp", labels: [], downloaded: true });
  apisix = await startApisixStandIn({ version: "3.15.0", adminKey: APISIX_ADMIN });
  const put = (path: string, body: unknown) => fetch(`${apisix!.adminUrl}/apisix/admin/${path}`, { method: "PUT", headers: { "X-API-KEY": APISIX_ADMIN, "Content-Type": "application/json" }, body: JSON.stringify(body) });
  expect((await put("consumers", { username: "alice", plugins: { "key-auth": { key: "sk-alice-secret" } } })).status).toBe(201);
  expect((await put("routes/thon-chat", { uri: "/v1/chat/completions", upstream: { type: "roundrobin", nodes: { "127.0.0.1:1": 1 } } })).status).toBe(201);
}

describe("Lemonade and gateway through the console", () => {
  it("reads health, stats, system-stats, slots and models; routes and consumers without their keys", async () => {
    await servers();
    h = harness({ lemonade: lemonade!.url, lemonadeKey: LEMONADE_ADMIN, gateway: apisix!.adminUrl, gatewayKey: APISIX_ADMIN });
    expect((await h.call("POST", "/api/v1/lemonade/load", { body: { model: "user.gemma" } })).status).toBe(200);
    const l = (await (await h.call("GET", "/api/v1/lemonade", { as: "viewer" })).json()) as Record<string, any>;
    expect(l.health).toMatchObject({ ok: true, data: { status: "ok", version: "11.7.0", model_loaded: "user.gemma" } });
    expect(l.stats).toMatchObject({ ok: true, data: { request_count_total: 0 } });
    expect(l.systemStats).toMatchObject({ ok: true, data: { cpu_percent: 12.5 } });
    expect(l.slots).toMatchObject({ ok: true, data: [{ id: 0, n_ctx: 8192 }] });
    expect(l.models.data.data.map((m: any) => m.id)).toEqual(["user.gemma"]);
    expect(lemonade!.log.every((e) => e.headers.authorization === `Bearer ${LEMONADE_ADMIN}`)).toBe(true);

    const g = await (await h.call("GET", "/api/v1/gateway", { as: "viewer" })).text();
    expect(g).toContain('"username":"alice"');
    expect(g).toContain('"uri":"/v1/chat/completions"');
    expect(g).not.toContain("sk-alice-secret");
    expect(g).not.toContain(APISIX_ADMIN);

    expect((await h.call("POST", "/api/v1/lemonade/unload", { body: { model: "user.gemma" } })).status).toBe(200);
    expect(lemonade!.loaded.size).toBe(0);
    const missing = await h.call("POST", "/api/v1/lemonade/unload", { body: { model: "user.gemma" } });
    expect(missing.status).toBe(404);
  });

  it("with Lemonade down, its parts say so and the gateway and participants still answer", async () => {
    await servers();
    const lemonadeUrl = lemonade!.url;
    await lemonade!.close();
    lemonade = undefined;
    h = harness({ lemonade: lemonadeUrl, lemonadeKey: LEMONADE_ADMIN, gateway: apisix!.adminUrl, gatewayKey: APISIX_ADMIN });
    const l = (await (await h.call("GET", "/api/v1/lemonade")).json()) as Record<string, any>;
    for (const part of ["health", "stats", "systemStats", "slots", "models"]) {
      expect(l[part].ok, part).toBe(false);
      expect(l[part].error, part).toMatch(/Lemonade at http:\/\/127\.0\.0\.1:\d+ does not answer \(ECONNREFUSED\)/);
    }
    expect(((await (await h.call("GET", "/api/v1/gateway")).json()) as any).consumers.ok).toBe(true);
    expect((await h.call("GET", "/api/v1/participants?live=false")).status).toBe(200);
    const load = await h.call("POST", "/api/v1/lemonade/load", { body: { model: "user.gemma" } });
    expect(load.status).toBe(503);
  });

  it("with the gateway down, its parts say so and Lemonade still answers; a wrong admin key is named", async () => {
    await servers();
    const port = await freePort();
    h = harness({ lemonade: lemonade!.url, lemonadeKey: "wrong", gateway: `http://127.0.0.1:${port}` });
    const g = (await (await h.call("GET", "/api/v1/gateway")).json()) as Record<string, any>;
    expect(g.routes).toMatchObject({ ok: false });
    expect(g.consumers.error).toMatch(/APISIX Admin API at http:\/\/127\.0\.0\.1:\d+ does not answer/);
    const l = (await (await h.call("GET", "/api/v1/lemonade")).json()) as Record<string, any>;
    expect(l.health.error).toMatch(/HTTP 401 \(the console's admin key is wrong or missing\)/);
  });

  it("bad input to load is a 400 naming the field; nothing reaches Lemonade", async () => {
    await servers();
    h = harness({ lemonade: lemonade!.url, lemonadeKey: LEMONADE_ADMIN });
    for (const body of [{}, { model: "" }, { model: "x y" }, { model: "a", extra: 1 }]) {
      const r = await h.call("POST", "/api/v1/lemonade/load", { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(((await r.json()) as any).error.field).toMatch(/model|extra/);
    }
    expect(lemonade!.log).toEqual([]);
  });
});
