// Token usage: APISIX's Prometheus counters (the stand-in's exporter, fed by
// real chat completions through its proxy to the Lemonade stand-in) scraped
// into the UsageStore; totals per participant, group and model survive an
// APISIX restart (counters back at zero); the SVG chart and the CSV.
import { afterEach, describe, expect, it } from "vitest";
import { UsageCollector } from "../../console/usage/collector.ts";
import { parseTokenCounters } from "../../console/usage/prometheus.ts";
import { usageChart, usageCsv, usageReport } from "../../console/usage/report.ts";
import { totals } from "../../console/usage/totals.ts";
import { startApisixStandIn, type ApisixStandIn } from "../support/apisixStandIn.ts";
import { startLemonadeStandIn, type LemonadeStandIn } from "../support/lemonadeStandIn.ts";
import { MemoryUsageStore } from "../support/pagesFixture.ts";

let apisix: ApisixStandIn | undefined;
let lemonade: LemonadeStandIn | undefined;
afterEach(async () => {
  await apisix?.close();
  await lemonade?.close();
  apisix = lemonade = undefined;
});

async function gateway() {
  lemonade = await startLemonadeStandIn();
  lemonade.models.set("user.gemma", { checkpoint: "unsloth/gemma-GGUF:Q4_K_M", recipe: "llamacpp", labels: [], downloaded: true });
  apisix = await startApisixStandIn({ version: "3.15.0" });
  const put = async (path: string, body: unknown) => {
    const r = await fetch(`${apisix!.adminUrl}/apisix/admin/${path}`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    expect(r.status, await r.clone().text()).toBeLessThan(300);
  };
  for (const u of ["alice", "bob"]) await put("consumers", { username: u, plugins: { "key-auth": { key: `sk-${u}` } } });
  await put("routes/thon-chat", {
    uri: "/v1/chat/completions",
    methods: ["POST"],
    plugins: {
      "key-auth": {},
      "ai-proxy-multi": { instances: [{ name: "lemonade", provider: "openai-compatible", weight: 1, auth: { header: { Authorization: "Bearer x" } }, options: { model: "user.gemma" }, override: { endpoint: `${lemonade.url}/api/v1/chat/completions` } }] },
    },
  });
}

const chat = async (key: string) => {
  const r = await fetch(`${apisix!.proxyUrl}/v1/chat/completions`, { method: "POST", headers: { apikey: key, "Content-Type": "application/json" }, body: JSON.stringify({ messages: [{ role: "user", content: "hello there" }] }) });
  expect(r.status, await r.clone().text()).toBe(200);
  return ((await r.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
};

describe("token usage from APISIX's Prometheus counters", () => {
  it("reads the two LLM counters per consumer and model, summed over routes and nodes; other lines are ignored", () => {
    const text = [
      "# TYPE apisix_llm_prompt_tokens counter",
      'apisix_llm_prompt_tokens{route_id="1",service_id="",consumer="alice",node="a",request_type="ai_chat",request_llm_model="m",llm_model="m"} 10',
      'apisix_llm_prompt_tokens{route_id="2",service_id="",consumer="alice",node="b",request_type="ai_chat",request_llm_model="m",llm_model="m"} 5',
      'apisix_llm_completion_tokens{route_id="1",service_id="",consumer="alice",node="a",request_type="ai_chat",request_llm_model="m",llm_model="m"} 7',
      'apisix_llm_completion_tokens{route_id="1",consumer="",llm_model="m2"} 3',
      'apisix_http_status{code="200",consumer="alice"} 99',
      "garbage line",
    ].join("\n");
    expect(parseTokenCounters(text)).toEqual([
      { consumer: "(none)", model: "m2", prompt: 0, completion: 3 },
      { consumer: "alice", model: "m", prompt: 15, completion: 7 },
    ]);
  });

  it("keeps every participant's totals across an APISIX restart (counters reset to zero)", async () => {
    await gateway();
    const store = new MemoryUsageStore();
    let now = Date.parse("2026-11-28T10:00:00Z");
    const collector = new UsageCollector(store, { url: apisix!.metricsUrl, now: () => (now += 60_000) });
    const used = { alice: 0, bob: 0 };
    const call = async (u: "alice" | "bob") => {
      const x = await chat(`sk-${u}`);
      used[u] += x.prompt_tokens + x.completion_tokens;
    };
    await call("alice");
    await call("alice");
    await call("bob");
    expect(await collector.scrapeOnce()).toBe(true);
    await call("alice");
    expect(await collector.scrapeOnce()).toBe(true);
    apisix!.restart();
    expect(parseTokenCounters(await (await fetch(apisix!.metricsUrl)).text())).toEqual([]);
    await call("bob");
    await call("alice");
    expect(await collector.scrapeOnce()).toBe(true);
    const t = Object.fromEntries(totals(store.snapshots).map((x) => [x.consumer, x.total]));
    expect(t).toEqual(used);
    expect(used.alice).toBeGreaterThan(0);

    const report = usageReport(store.snapshots, (c) => (c === "alice" ? "alpha" : "beta"), new Map([["alice", { limit: 1000, windowSeconds: 3600 }]]), now);
    expect(report.total).toBe(used.alice + used.bob);
    expect(report.byGroup.map((g) => [g.group, g.total])).toEqual(expect.arrayContaining([["alpha", used.alice], ["beta", used.bob]]));
    expect(report.byModel).toEqual([{ model: "user.gemma", total: used.alice + used.bob }]);
    const alice = report.rows.find((r) => r.consumer === "alice")!;
    expect(alice.budgetPercent).toBeCloseTo((used.alice / 1000) * 100, 1);
    expect(report.rows.find((r) => r.consumer === "bob")!.budgetPercent).toBeNull();

    const csv = usageCsv(report).split("\r\n");
    expect(csv[0]).toBe("consumer,group,model,prompt,completion,total,perMinute,budgetPercent");
    expect(csv.find((l) => l.startsWith("alice,"))).toContain(`,${used.alice},`);
    const svg = usageChart(store.snapshots, (c) => (c === "alice" ? "alpha" : "beta"));
    expect(svg).toMatch(/^<svg [^>]*role="img"/);
    expect((svg.match(/<path /g) ?? []).length).toBe(2);
    expect(svg).not.toContain("style=");
  });

  it("says when the metrics do not answer, and keeps the stored totals", async () => {
    const store = new MemoryUsageStore();
    store.append({ at: 1, samples: [{ consumer: "a", model: "m", prompt: 5, completion: 5 }] });
    const collector = new UsageCollector(store, { url: "http://127.0.0.1:9/apisix/prometheus/metrics" });
    expect(await collector.scrapeOnce()).toBe(false);
    expect(collector.lastError).toMatch(/do not answer \(ECONNREFUSED\); is APISIX running\?/);
    expect(totals(store.snapshots)).toEqual([{ consumer: "a", model: "m", prompt: 5, completion: 5, total: 10 }]);
  });

  it("a CSV cell that a spreadsheet would run as a formula is quoted as text", () => {
    const csv = usageCsv({ rows: [{ consumer: "=cmd", group: "g,1", model: "m", prompt: 1, completion: 1, total: 2, perMinute: 0, budgetPercent: null }], byGroup: [], byModel: [], total: 2 });
    expect(csv.split("\r\n")[1]).toBe(`'=cmd,"g,1",m,1,1,2,0,`);
  });
});
