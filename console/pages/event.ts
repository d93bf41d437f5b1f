// The Event page: thon.yaml in an editor, validated as you type (htmx posts
// the text; the answer is the same file:line:col lines as `thon validate`),
// then preview and apply through the same declarative operation as every
// other change. In propose mode the result is the diff to commit.
import { basename } from "node:path";
import { html } from "hono/html";
import { formatProblem, parseThonFile, ThonConfigError, type ConfigProblem } from "../../infra/config/load.ts";
import type { Html } from "./layout.ts";

export interface Validation {
  readonly ok: boolean;
  readonly problems: readonly (ConfigProblem & { readonly text: string })[];
}

export function validateText(text: string, eventFile: string): Validation {
  const shown = basename(eventFile);
  try {
    parseThonFile(text, eventFile);
    return { ok: true, problems: [] };
  } catch (err) {
    if (err instanceof ThonConfigError) return { ok: false, problems: err.problems.map((p) => ({ ...p, text: formatProblem(shown, p) })) };
    throw err;
  }
}

export function problemsFragment(v: Validation): Html {
  if (v.ok) return html`<p class="ok-line" role="status">✓ valid</p>`;
  return html`<ul class="problems" role="status">${v.problems.map((p) => html`<li data-line="${p.line ?? ""}"><code>${p.text}</code></li>`)}</ul>`;
}

export function eventPage(o: { text: string; eventFile: string; mode: "apply" | "propose"; organizer: boolean }): Html {
  return html`<p>${basename(o.eventFile)} · changes: <strong>${o.mode}</strong>${o.mode === "propose" ? " (nothing is applied here: the result is the diff to commit)" : ""}</p>
<form id="event-form" class="editor" hx-post="/pages/event/validate" hx-trigger="input changed delay:300ms from:#thon-yaml" hx-target="#problems" hx-swap="innerHTML">
<label for="thon-yaml">thon.yaml</label>
<textarea id="thon-yaml" name="text" rows="28" spellcheck="false" autocapitalize="off"${o.organizer ? "" : html` readonly`}>${o.text}</textarea>
<div id="problems" aria-live="polite">${problemsFragment(validateText(o.text, o.eventFile))}</div>
${o.organizer ? html`<p><button type="button" class="primary" data-action="event-apply">${o.mode === "propose" ? "Show the diff to commit" : "Preview and apply"}</button></p>` : ""}
</form>`;
}
