// The smaller pages: sign-in, activity (the audit log), health, and the
// printable credential cards.
import { html } from "hono/html";
import type { AuditFilter, AuditRecord } from "./deps.ts";
import type { HealthItem } from "./healthChecks.ts";
import type { Html } from "./layout.ts";
import type { StackCredentials } from "../../infra/cli/credentials.ts";

export function signInPage(): Html {
  return html`<form class="signin" id="signin" data-form="signin">
<p>Sign in to the organizer console.</p>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<p class="dialog-error" role="alert"></p>
<button type="submit" class="primary">Sign in</button>
</form>`;
}

export function activityTable(rows: readonly AuditRecord[]): Html {
  if (rows.length === 0) return html`<p class="muted">No entries match.</p>`;
  return html`<div class="table-wrap"><table id="activity"><caption class="sr-only">Audit log</caption><thead><tr><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Target</th><th scope="col">Result</th><th scope="col">Detail</th></tr></thead><tbody>${rows.map(
    (r) => html`<tr><td data-label="When">${r.at.replace("T", " ").slice(0, 19)}</td><td data-label="Who">${r.actor}</td><td data-label="What">${r.action}</td><td data-label="Target" class="wrap-any">${r.target ?? ""}</td><td data-label="Result"><span class="badge b-${r.result === "ok" ? "running" : r.result === "error" ? "crashed" : "starting"}">${r.result}</span></td><td data-label="Detail" class="wrap-any">${r.detail ?? ""}${r.diff ? html`<details><summary>diff</summary><pre class="diff">${r.diff}</pre></details>` : ""}</td></tr>`,
  )}</tbody></table></div>`;
}

export function activityPage(rows: readonly AuditRecord[] | null, f: AuditFilter): Html {
  return html`<form class="toolbar" id="activity-filters" action="/activity" method="get" hx-get="/activity?partial=1" hx-trigger="input changed delay:250ms, change" hx-target="#activity-rows" hx-swap="innerHTML">
<label>Who <input name="who" value="${f.who ?? ""}" autocomplete="off"></label>
<label>What <input name="what" value="${f.what ?? ""}" placeholder="e.g. participants.restart" autocomplete="off"></label>
<label>From <input type="datetime-local" name="since" value="${f.since?.slice(0, 16) ?? ""}"></label>
<label>To <input type="datetime-local" name="until" value="${f.until?.slice(0, 16) ?? ""}"></label>
<noscript><button type="submit">Filter</button></noscript>
</form>
<div id="activity-rows">${rows === null ? html`<p class="muted">The audit log is not available in this console.</p>` : activityTable(rows)}</div>`;
}

export function healthPage(items: readonly HealthItem[]): Html {
  const worst = items.some((i) => i.status === "fail") ? "fail" : items.some((i) => i.status === "warn") ? "warn" : "ok";
  return html`<p class="state-line"><span class="badge h-${worst}">${worst === "ok" ? "all healthy" : worst === "warn" ? "warnings" : "failing"}</span> ${items.filter((i) => i.status !== "ok").length} of ${items.length} need attention</p>
<ul class="health">${items.map(
    (i) => html`<li class="h-item" id="h-${i.id}"><span class="badge h-${i.status}">${i.status}</span> <strong>${i.name}</strong> <span>${i.detail}</span>${i.fix ? html`<p class="fix"><strong>Fix:</strong> ${i.fix}</p>` : ""}</li>`,
  )}</ul>`;
}

export function cardsPage(creds: StackCredentials, names: readonly string[]): Html {
  const rows = creds.rows.filter((r) => names.includes(r.name));
  return html`<p class="no-print">${rows.length} card${rows.length === 1 ? "" : "s"}. <button type="button" data-action="print" class="primary">Print</button></p>
<div class="print-cards">${rows.map(
    (r) => html`<article class="cred-card"><h2>${r.name}</h2><p class="muted">${creds.eventName} · group ${r.group}</p><dl><dt>Open</dt><dd><code>${r.url}</code></dd>${r.password ? html`<dt>Password</dt><dd><code class="pw">${r.password}</code></dd>` : ""}${creds.caCertUrl ? html`<dt>Certificate</dt><dd><code>${creds.caCertUrl}</code></dd>` : ""}</dl></article>`,
  )}</div>`;
}
