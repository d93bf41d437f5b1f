// Reads APISIX's Prometheus text exposition (plugins/prometheus/exporter.lua)
// for the two LLM token counters (APISIX 3.14+). Hand-written because only
// two metric families are needed and the text format is a line per sample;
// a general parser (prom-client has none for reading) would add a package.
import type { UsageSample } from "./store.ts";

const FAMILIES = { apisix_llm_prompt_tokens: "prompt", apisix_llm_completion_tokens: "completion" } as const;

/** `name{labels} value [timestamp]`; label values may hold escaped quotes. */
const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(LABEL)) out[m[1]!] = m[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
  return out;
}

/** The token counters per consumer and model (summed over route, node, request type). Requests without a consumer count as "(none)". */
export function parseTokenCounters(text: string): UsageSample[] {
  const acc = new Map<string, { consumer: string; model: string; prompt: number; completion: number }>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const kind = FAMILIES[m[1] as keyof typeof FAMILIES];
    if (!kind) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    const labels = parseLabels(m[2] ?? "");
    const consumer = labels.consumer || "(none)";
    const model = labels.llm_model || labels.request_llm_model || "(unknown)";
    const key = `${consumer}\u0000${model}`;
    const s = acc.get(key) ?? { consumer, model, prompt: 0, completion: 0 };
    s[kind] += value;
    acc.set(key, s);
  }
  return [...acc.values()].sort((a, b) => a.consumer.localeCompare(b.consumer) || a.model.localeCompare(b.model));
}
