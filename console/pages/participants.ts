// The participants table: every participant at once (300 is one page), live
// badges, memory against the limit, group and URL; search, filter and sort
// happen in the browser on the rendered rows (app.js), so they are instant
// and the live row updates keep working; row and bulk actions for organizers.
import { html, raw } from "hono/html";
import type { ParticipantRow } from "../ops/operations.ts";
import { badgeOf, memoryMeter, rowBadges } from "./badges.ts";
import type { Html } from "./layout.ts";

export interface RowOptions {
  readonly organizer: boolean;
  readonly passwords: boolean;
  /** A Swarm target: a Node column (which node holds each participant). */
  readonly nodes?: boolean;
}

export function participantRow(r: ParticipantRow, o: RowOptions): Html {
  const b = badgeOf(r);
  const mem = r.status?.memory?.percent ?? -1;
  const n = r.name;
  return html`<tr id="p-${n}" data-name="${n}" data-group="${r.group}" data-badge="${b}" data-connected="${r.status?.codeServer.connected ? "1" : "0"}" data-mem="${mem}" data-declared="${r.declared}">
<td class="sel">${o.organizer ? html`<input type="checkbox" class="pick" value="${n}" aria-label="Select ${n}">` : ""}</td>
<td data-label="Name"><a href="/participants/${n}">${n}</a></td>
<td data-label="Status" class="status" title="${r.status?.summary ?? "no live status"}">${rowBadges(r)}</td>
<td data-label="Memory">${memoryMeter(r.status)}</td>
${o.nodes ? html`<td data-label="Node">${r.status?.node ?? "–"}</td>
` : ""}<td data-label="Group">${r.group}</td>
<td data-label="URL" class="url"><a href="${r.url}" rel="noreferrer" target="_blank">${r.url.replace(/^https?:\/\//, "")}</a></td>
${o.organizer
    ? html`<td data-label="Actions" class="actions">
<button type="button" data-action="restart" data-name="${n}"${r.declared === "stopped" ? raw(" disabled") : ""}>Restart</button>
${r.declared === "stopped" ? html`<button type="button" data-action="start" data-name="${n}">Start</button>` : html`<button type="button" data-action="stop" data-name="${n}">Stop</button>`}
${o.passwords ? html`<button type="button" data-action="reveal" data-name="${n}">Password</button>` : ""}
</td>`
    : ""}
</tr>`;
}

export interface TableOptions extends RowOptions {
  readonly rows: readonly ParticipantRow[];
  readonly groups: readonly string[];
  readonly query: { q?: string; group?: string; status?: string };
}

const FILTERS = [
  ["", "any status"],
  ["running", "running"],
  ["starting", "starting"],
  ["restarting", "restarting"],
  ["crashed", "crashed"],
  ["oom", "OOM"],
  ["stopped", "stopped"],
  ["missing", "no container"],
  ["host-down", "host down"],
  ["connected", "connected"],
  ["idle", "not connected"],
] as const;

export function participantsPage(o: TableOptions): Html {
  const counts = new Map<string, number>();
  for (const r of o.rows) counts.set(badgeOf(r), (counts.get(badgeOf(r)) ?? 0) + 1);
  const connected = o.rows.filter((r) => r.status?.codeServer.connected).length;
  const sel = (a: string | undefined, b: string) => (a === b ? raw(" selected") : "");
  return html`<p class="counts" id="counts" aria-live="polite">${o.rows.length} participants · ${counts.get("running") ?? 0} running · ${connected} connected · ${(counts.get("crashed") ?? 0) + (counts.get("oom") ?? 0)} crashed or OOM · ${counts.get("stopped") ?? 0} stopped${o.nodes ? ` · ${counts.get("host-down") ?? 0} host down` : ""}</p>
<form class="toolbar" id="filters" role="search" action="/" method="get">
  <label>Search <input type="search" name="q" value="${o.query.q ?? ""}" placeholder="name" autocomplete="off"></label>
  <label>Group <select name="group"><option value="">all groups</option>${o.groups.map((g) => html`<option${sel(o.query.group, g)}>${g}</option>`)}</select></label>
  <label>Status <select name="status">${FILTERS.map(([v, l]) => html`<option value="${v}"${sel(o.query.status ?? "", v)}>${l}</option>`)}</select></label>
  <label>Sort <select name="sort"><option value="name">name</option><option value="group">group</option><option value="badge">status</option><option value="mem">memory (highest first)</option></select></label>
  <span class="shown" aria-live="polite"></span>
</form>
${o.organizer
    ? html`<div class="bulk" id="bulk" role="region" aria-label="Bulk actions">
  <span class="bulk-count">0 selected</span>
  <button type="button" data-bulk="restart" disabled>Restart</button>
  <button type="button" data-bulk="stop" disabled>Stop</button>
  <button type="button" data-bulk="start" disabled>Start</button>
  <button type="button" data-bulk="recreate" disabled>Recreate</button>
  ${o.passwords ? html`<button type="button" data-bulk="reset-password" disabled>Reset password</button> <button type="button" data-bulk="cards" disabled>Print cards</button>` : ""}
</div>`
    : ""}
<div class="table-wrap">
<table class="participants" id="participants">
<caption class="sr-only">Participants, live status</caption>
<thead><tr>
  <th scope="col" class="sel">${o.organizer ? html`<input type="checkbox" id="pick-all" aria-label="Select all shown">` : html`<span class="sr-only">Selection</span>`}</th>
  <th scope="col">Name</th><th scope="col">Status</th><th scope="col">Memory</th>${o.nodes ? html`<th scope="col">Node</th>` : ""}<th scope="col">Group</th><th scope="col">URL</th>${o.organizer ? html`<th scope="col">Actions</th>` : ""}
</tr></thead>
<tbody id="rows">
${o.rows.map((r) => participantRow(r, o))}
</tbody>
</table>
</div>`;
}
