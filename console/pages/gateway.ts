// The Gateway page (APISIX): routes and consumers (keys hidden), each
// consumer's token budget (ai-rate-limiting), and token usage from the
// stored Prometheus snapshots: per participant, group and model, with the
// chart drawn on the server as SVG and a CSV export.
import { html, raw } from "hono/html";
import type { Part } from "../ops/services.ts";
import type { Budget, UsageReport } from "../usage/report.ts";
import { down, type Html } from "./layout.ts";

type Obj = Record<string, unknown>;
const n = (v: number) => v.toLocaleString("en-US");

/** ai-rate-limiting on a consumer (per participant or group key), else on the route (shared). */
export function budgetsOf(consumers: Part, routes: Part): Map<string, Budget> {
  const out = new Map<string, Budget>();
  const routeLimit = routes.ok ? (routes.data as Obj[]).map((r) => (r.plugins as Obj | undefined)?.["ai-rate-limiting"] as Obj | undefined).find((x) => x) : undefined;
  if (consumers.ok) {
    for (const c of consumers.data as Obj[]) {
      const l = ((c.plugins as Obj | undefined)?.["ai-rate-limiting"] as Obj | undefined) ?? routeLimit;
      if (l && typeof l.limit === "number") out.set(String(c.username), { limit: l.limit, windowSeconds: Number(l.time_window ?? 60) });
    }
  }
  return out;
}

export function gatewayPage(o: { routes: Part; consumers: Part; budgets: Map<string, Budget>; report: UsageReport | null; chart: string; scrape: { url: string; lastError: string | null; lastScrape: number | null } | null }): Html {
  const consumers = o.consumers.ok ? (o.consumers.data as Obj[]) : [];
  const routes = o.routes.ok ? (o.routes.data as Obj[]) : [];
  const r = o.report;
  return html`${o.routes.ok ? html`<p class="state-line"><span class="badge b-running">online</span> APISIX Admin API</p>` : html`<p class="state-line"><span class="badge b-crashed">offline</span></p>${down("APISIX", o.routes.error)}`}
<section aria-labelledby="usage-h"><h2 id="usage-h">Token usage</h2>
${o.scrape?.lastError ? down("APISIX metrics", `${o.scrape.lastError} Totals below are from the stored snapshots.`) : ""}
${o.scrape ? html`<p class="muted small">Scraped from ${o.scrape.url}${o.scrape.lastScrape ? `, last at ${new Date(o.scrape.lastScrape).toISOString().slice(11, 19)} UTC` : ""}; totals survive APISIX restarts.</p>` : r ? "" : html`<p class="muted">Usage collection is not configured (the gateway's Prometheus counters are not scraped).</p>`}
${r
    ? html`<p class="counts"><strong>${n(r.total)}</strong> tokens in total · <a href="/pages/gateway/usage.csv" download>Download CSV</a></p>
<figure class="chart-wrap">${raw(o.chart)}</figure>
<div class="cols">
<div><h3>Per group</h3><table><caption class="sr-only">Usage per group</caption><thead><tr><th scope="col">Group</th><th scope="col">Tokens</th><th scope="col">Per minute</th></tr></thead><tbody>${r.byGroup.map((g) => html`<tr><td data-label="Group">${g.group}</td><td data-label="Tokens">${n(g.total)}</td><td data-label="Per minute">${g.perMinute}</td></tr>`)}</tbody></table></div>
<div><h3>Per model</h3><table><caption class="sr-only">Usage per model</caption><thead><tr><th scope="col">Model</th><th scope="col">Tokens</th></tr></thead><tbody>${r.byModel.map((m) => html`<tr><td data-label="Model">${m.model}</td><td data-label="Tokens">${n(m.total)}</td></tr>`)}</tbody></table></div>
</div>
<h3>Per participant</h3>
<div class="table-wrap"><table id="usage"><caption class="sr-only">Usage per participant and model</caption><thead><tr><th scope="col">Consumer</th><th scope="col">Group</th><th scope="col">Model</th><th scope="col">Prompt</th><th scope="col">Completion</th><th scope="col">Total</th><th scope="col">Per minute</th><th scope="col">Budget used</th></tr></thead>
<tbody>${r.rows.map(
        (u) => html`<tr data-consumer="${u.consumer}"><td data-label="Consumer">${u.consumer}</td><td data-label="Group">${u.group}</td><td data-label="Model">${u.model}</td><td data-label="Prompt">${n(u.prompt)}</td><td data-label="Completion">${n(u.completion)}</td><td data-label="Total" class="total">${n(u.total)}</td><td data-label="Per minute">${u.perMinute}</td><td data-label="Budget used">${u.budgetPercent === null ? "–" : html`<meter min="0" max="100" low="75" high="90" optimum="0" value="${Math.min(100, u.budgetPercent)}" aria-label="${u.budgetPercent}% of budget"></meter> ${u.budgetPercent}%`}</td></tr>`,
      )}</tbody></table></div>`
    : ""}
</section>
<section aria-labelledby="consumers-h"><h2 id="consumers-h">Consumers and budgets</h2>
${o.consumers.ok
    ? html`<div class="table-wrap"><table><caption class="sr-only">Consumers</caption><thead><tr><th scope="col">Consumer</th><th scope="col">Key</th><th scope="col">Budget</th></tr></thead><tbody>${consumers.map((c) => {
        const b = o.budgets.get(String(c.username));
        return html`<tr><td data-label="Consumer">${String(c.username)}</td><td data-label="Key">${(c.plugins as Obj | undefined)?.["key-auth"] ? "key-auth (hidden)" : "–"}</td><td data-label="Budget">${b ? `${n(b.limit)} tokens per ${b.windowSeconds} s` : "none"}</td></tr>`;
      })}</tbody></table></div>`
    : html`<p class="muted">${o.consumers.error}</p>`}
</section>
<section aria-labelledby="routes-h"><h2 id="routes-h">Routes</h2>
${o.routes.ok
    ? html`<div class="table-wrap"><table><caption class="sr-only">Routes</caption><thead><tr><th scope="col">Route</th><th scope="col">URI</th><th scope="col">Plugins</th></tr></thead><tbody>${routes.map((x) => html`<tr><td data-label="Route">${String(x.id ?? x.name ?? "–")}</td><td data-label="URI"><code>${String(x.uri ?? (x.uris as string[] | undefined)?.join(" ") ?? "–")}</code></td><td data-label="Plugins">${Object.keys((x.plugins as Obj | undefined) ?? {}).join(", ") || "–"}</td></tr>`)}</tbody></table></div>`
    : html`<p class="muted">${o.routes.error}</p>`}
</section>`;
}
