// Groups: create, rename and delete; move participants; stop or start a
// whole group. Every button goes through the confirmation (app.js) that
// previews the change first.
import { html } from "hono/html";
import type { Html } from "./layout.ts";

export interface GroupView {
  readonly name: string;
  readonly users: readonly string[];
  readonly running: number;
  readonly stopped: number;
}

export function groupsPage(groups: readonly GroupView[], o: { organizer: boolean }): Html {
  return html`${o.organizer
    ? html`<form class="toolbar" id="group-add" data-form="group-add"><label>New group <input name="name" required pattern="[a-z0-9][a-z0-9-]*" autocomplete="off"></label> <button type="submit">Create</button></form>`
    : ""}
<div class="table-wrap"><table class="groups">
<caption class="sr-only">Groups</caption>
<thead><tr><th scope="col">Group</th><th scope="col">Participants</th><th scope="col">Running</th><th scope="col">Stopped</th>${o.organizer ? html`<th scope="col">Actions</th>` : ""}</tr></thead>
<tbody>${groups.map(
    (g) => html`<tr id="g-${g.name}">
<th scope="row" data-label="Group"><a href="/?group=${encodeURIComponent(g.name)}">${g.name}</a></th>
<td data-label="Participants" class="members">${g.users.length === 0 ? html`<span class="muted">empty</span>` : g.users.join(", ")}</td>
<td data-label="Running">${g.running}</td><td data-label="Stopped">${g.stopped}</td>
${o.organizer
      ? html`<td data-label="Actions" class="actions">
<button type="button" data-action="group-stop" data-name="${g.name}" data-count="${g.users.length}">Stop group</button>
<button type="button" data-action="group-start" data-name="${g.name}" data-count="${g.users.length}">Start group</button>
<button type="button" data-action="group-rename" data-name="${g.name}">Rename</button>
<button type="button" data-action="group-remove" data-name="${g.name}" class="danger">Delete</button>
</td>`
      : ""}
</tr>`,
  )}</tbody></table></div>
${o.organizer ? html`<p class="muted">Move a participant from their page, or select them on the participants page. Deleting a group needs it empty.</p>` : ""}`;
}
