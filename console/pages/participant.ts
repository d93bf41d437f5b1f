// One participant: everything about the sandbox, its log followed live
// (app.js opens the log stream), and its actions.
import { html, raw } from "hono/html";
import type { ParticipantRow } from "../ops/operations.ts";
import type { WorkspacePlan } from "../../infra/plan.ts";
import { badgeOf, memoryMeter, rowBadges } from "./badges.ts";
import type { Html } from "./layout.ts";

export interface ParticipantView extends ParticipantRow {
  readonly image: string;
  readonly memoryMiB: number;
  readonly workspace: WorkspacePlan;
  readonly containerName: string;
  readonly containerId: string | null;
  readonly logs: readonly string[];
}

export function statusBlock(r: ParticipantRow): Html {
  const s = r.status;
  const c = s?.container;
  return html`<dl class="facts" id="status-${r.name}">
<dt>Status</dt><dd>${rowBadges(r)} <span class="summary">${s?.summary ?? "no live status"}</span></dd>
<dt>Container</dt><dd>${c ? `${c.state}${c.exitCode !== null ? ` (exit code ${c.exitCode})` : ""}, restarted ${c.restartCount} times${c.startedAt ? `, started ${c.startedAt}` : ""}` : "–"}</dd>
<dt>code-server</dt><dd>${s ? `${s.codeServer.status}${s.codeServer.lastHeartbeat ? `, last heartbeat ${s.codeServer.lastHeartbeat}` : ""}` : "–"}</dd>
<dt>Memory</dt><dd>${memoryMeter(s)}</dd>
<dt>CPU</dt><dd>${s?.cpu ? `${s.cpu.percent}%` : "–"}</dd>
</dl>`;
}

export function participantPage(v: ParticipantView, o: { organizer: boolean; passwords: boolean; groups: readonly string[] }): Html {
  const n = v.name;
  return html`<p><a href="/">← All participants</a></p>
<div class="cols">
<section aria-labelledby="live-h"><h2 id="live-h">Live</h2>${statusBlock(v)}</section>
<section aria-labelledby="about-h"><h2 id="about-h">Sandbox</h2>
<dl class="facts">
<dt>Group</dt><dd>${v.group}</dd>
<dt>thon.yaml says</dt><dd>${v.declared}</dd>
<dt>URL</dt><dd><a href="${v.url}" rel="noreferrer" target="_blank">${v.url}</a></dd>
<dt>Image</dt><dd><code>${v.image}</code></dd>
<dt>Memory limit</dt><dd>${v.memoryMiB} MiB</dd>
<dt>Workspace</dt><dd>${v.workspace.kind === "volume" ? html`volume <code>${v.workspace.volumeName}</code> (kept by every action here)` : v.workspace.kind === "bind" ? html`folder <code>${v.workspace.hostPath}</code> (kept by every action here)` : "ephemeral: lost when the container is replaced"}</dd>
<dt>Container</dt><dd><code>${v.containerName}</code>${v.containerId ? html` <span class="muted">${v.containerId.slice(0, 12)}</span>` : ""}</dd>
${o.passwords && o.organizer ? html`<dt>Password</dt><dd><button type="button" data-action="reveal" data-name="${n}">Show password</button></dd>` : ""}
</dl></section>
</div>
${o.organizer
    ? html`<section aria-labelledby="act-h"><h2 id="act-h">Actions</h2><div class="actions wrap">
<button type="button" data-action="restart" data-name="${n}"${v.declared === "stopped" ? raw(" disabled") : ""}>Restart</button>
${v.declared === "stopped" ? html`<button type="button" data-action="start" data-name="${n}">Start</button>` : html`<button type="button" data-action="stop" data-name="${n}">Stop</button>`}
<button type="button" data-action="recreate" data-name="${n}">Recreate</button>
${o.passwords ? html`<button type="button" data-action="reset-password" data-name="${n}">Reset password</button>` : ""}
<label>Move to <select class="move-to" data-name="${n}">${o.groups.map((g) => html`<option${g === v.group ? raw(" selected") : ""}>${g}</option>`)}</select></label> <button type="button" data-action="move" data-name="${n}">Move</button>
<button type="button" data-action="remove" data-name="${n}" class="danger">Remove</button>
</div></section>`
    : ""}
<section aria-labelledby="log-h"><h2 id="log-h">Log <span class="muted small" id="log-state">(following)</span></h2>
<pre class="log" id="log" tabindex="0" aria-label="log of ${n}" data-follow="${v.containerId ? `/api/v1/participants/${n}/logs/stream?tail=0` : ""}">${v.logs.join("\n")}${v.logs.length ? "\n" : ""}</pre>
</section>`;
}

export { badgeOf };
