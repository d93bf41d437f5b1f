// The LLM page (Lemonade): online or offline, version, loaded models, time
// to first token, tokens per second, slots, CPU/GPU/memory; load and unload.
// Each part comes on its own (console/ops/services.ts), so the page renders
// and says what is down.
import { html } from "hono/html";
import type { Part } from "../ops/services.ts";
import { down, type Html } from "./layout.ts";

type Overview = { health: Part; stats: Part; systemStats: Part; slots: Part; models: Part };
type Obj = Record<string, unknown>;
const num = (v: unknown, digits = 1, unit = "") => (typeof v === "number" ? `${v.toFixed(digits)}${unit}` : "–");

export function llmPage(o: Overview, organizer: boolean): Html {
  const h = o.health.ok ? (o.health.data as Obj) : undefined;
  const loaded = (h?.all_models_loaded as Obj[] | undefined) ?? [];
  const stats = o.stats.ok ? (o.stats.data as Obj) : undefined;
  const sys = o.systemStats.ok ? (o.systemStats.data as Obj) : undefined;
  const slots = o.slots.ok ? (Array.isArray(o.slots.data) ? (o.slots.data as Obj[]) : ((o.slots.data as Obj).slots as Obj[] | undefined) ?? []) : [];
  const models = o.models.ok ? (((o.models.data as Obj).data as Obj[] | undefined) ?? []) : [];
  // With Lemonade down every part failed the same way: the notice says it once.
  const why = (p: Part) => (p.ok ? "" : h ? p.error : "unavailable while Lemonade is offline");
  return html`<p class="state-line">${h ? html`<span class="badge b-running">online</span> Lemonade ${h.version as string}` : html`<span class="badge b-crashed">offline</span>`}</p>
${o.health.ok ? "" : down("Lemonade", o.health.error)}
<div class="cards">
<section class="card"><h2>Performance (last request)</h2>${stats
    ? html`<dl class="facts"><dt>Time to first token</dt><dd>${num(stats.time_to_first_token, 3, " s")}</dd><dt>Tokens per second</dt><dd>${num(stats.tokens_per_second)}</dd><dt>Input / output tokens</dt><dd>${String(stats.input_tokens ?? "–")} / ${String(stats.output_tokens ?? "–")}</dd><dt>Requests since start</dt><dd>${String(stats.request_count_total ?? "–")}</dd></dl>`
    : html`<p class="muted">${why(o.stats)}</p>`}</section>
<section class="card"><h2>System</h2>${sys
    ? html`<dl class="facts"><dt>CPU</dt><dd>${num(sys.cpu_percent, 1, "%")}</dd><dt>GPU</dt><dd>${num(sys.gpu_percent, 1, "%")}</dd><dt>Memory</dt><dd>${num(sys.memory_gb, 1, " GB")}</dd><dt>VRAM</dt><dd>${num(sys.vram_gb, 1, " GB")}</dd></dl>`
    : html`<p class="muted">${why(o.systemStats)}</p>`}</section>
<section class="card"><h2>Slots</h2>${o.slots.ok
    ? slots.length === 0
      ? html`<p class="muted">no slots reported</p>`
      : html`<ul class="plain">${slots.map((s) => html`<li>slot ${String(s.id ?? "?")}: ${s.is_processing ? "busy" : "idle"}${s.n_ctx ? `, context ${String(s.n_ctx)}` : ""}</li>`)}</ul>`
    : html`<p class="muted">${why(o.slots)}</p>`}</section>
</div>
<section aria-labelledby="loaded-h"><h2 id="loaded-h">Loaded models</h2>
${loaded.length === 0 ? html`<p class="muted">${h ? "none loaded" : "unknown while Lemonade is offline"}</p>` : html`<div class="table-wrap"><table><caption class="sr-only">Loaded models</caption><thead><tr><th scope="col">Model</th><th scope="col">Device</th><th scope="col">Busy</th>${organizer ? html`<th scope="col">Actions</th>` : ""}</tr></thead><tbody>${loaded.map(
        (m) => html`<tr><td data-label="Model">${String(m.model_name)}</td><td data-label="Device">${String(m.device ?? "–")}</td><td data-label="Busy">${m.is_busy ? "yes" : "no"}</td>${organizer ? html`<td data-label="Actions"><button type="button" data-action="llm-unload" data-name="${String(m.model_name)}">Unload</button></td>` : ""}</tr>`,
      )}</tbody></table></div>`}
</section>
<section aria-labelledby="models-h"><h2 id="models-h">Available models</h2>
${o.models.ok
    ? html`<div class="table-wrap"><table><caption class="sr-only">Available models</caption><thead><tr><th scope="col">Model</th><th scope="col">Recipe</th><th scope="col">Downloaded</th>${organizer ? html`<th scope="col">Actions</th>` : ""}</tr></thead><tbody>${models.map(
        (m) => html`<tr><td data-label="Model">${String(m.id)}</td><td data-label="Recipe">${String(m.recipe ?? "–")}</td><td data-label="Downloaded">${m.downloaded ? "yes" : "no"}</td>${organizer ? html`<td data-label="Actions"><button type="button" data-action="llm-load" data-name="${String(m.id)}"${h ? "" : html` disabled`}>Load</button></td>` : ""}</tr>`,
      )}</tbody></table></div>`
    : html`<p class="muted">${why(o.models)}</p>`}
</section>`;
}
