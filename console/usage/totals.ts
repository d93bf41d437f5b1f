// Totals from the stored counter series, across APISIX restarts. All the
// counters live in one shared dict that a restart empties, so when any
// series went down or vanished between two snapshots, every counter was
// reset and each new reading is all new tokens (Prometheus' increase() rule,
// applied to the whole scrape, so a counter that climbed back past its old
// value is not missed when another one shows the reset). Lost: what was
// counted between the last scrape and the restart (the interval bounds it).
import type { UsageSample, UsageSnapshot } from "./store.ts";

export interface UsageTotal {
  readonly consumer: string;
  readonly model: string;
  readonly prompt: number;
  readonly completion: number;
  readonly total: number;
}

/** One point per snapshot: the cumulative totals per consumer/model key up to then. */
export interface UsagePoint {
  readonly at: number;
  readonly totals: ReadonlyMap<string, UsageTotal>;
}

const keyOf = (s: { consumer: string; model: string }) => `${s.consumer}\u0000${s.model}`;

export function cumulative(series: readonly UsageSnapshot[]): UsagePoint[] {
  const last = new Map<string, UsageSample>();
  const sum = new Map<string, UsageTotal>();
  const points: UsagePoint[] = [];
  for (const snap of series) {
    const now = new Map(snap.samples.map((s) => [keyOf(s), s]));
    const reset = [...last].some(([k, p]) => {
      const s = now.get(k);
      return !s || s.prompt < p.prompt || s.completion < p.completion;
    });
    if (reset) last.clear();
    for (const s of snap.samples) {
      const k = keyOf(s);
      const prev = last.get(k);
      const dp = prev ? s.prompt - prev.prompt : s.prompt;
      const dc = prev ? s.completion - prev.completion : s.completion;
      last.set(k, s);
      const t = sum.get(k) ?? { consumer: s.consumer, model: s.model, prompt: 0, completion: 0, total: 0 };
      sum.set(k, { ...t, prompt: t.prompt + dp, completion: t.completion + dc, total: t.total + dp + dc });
    }
    points.push({ at: snap.at, totals: new Map(sum) });
  }
  return points;
}

export function totals(series: readonly UsageSnapshot[]): UsageTotal[] {
  const points = cumulative(series);
  return [...(points.at(-1)?.totals.values() ?? [])];
}

/** Tokens per minute over the last `windowMs` (from the cumulative series), per key. */
export function rates(series: readonly UsageSnapshot[], windowMs: number, now = Date.now()): Map<string, number> {
  const points = cumulative(series);
  const out = new Map<string, number>();
  const end = points.at(-1);
  if (!end) return out;
  const start = points.find((p) => p.at >= now - windowMs) ?? end;
  const minutes = Math.max((end.at - start.at) / 60_000, 1 / 60);
  for (const [k, t] of end.totals) {
    const before = start.totals.get(k)?.total ?? 0;
    out.set(k, end === start ? 0 : (t.total - before) / minutes);
  }
  return out;
}

/** Tokens used since `from` (epoch ms) per consumer, for the % of an ai-rate-limiting window. */
export function usedSince(series: readonly UsageSnapshot[], from: number): Map<string, number> {
  const points = cumulative(series);
  const end = points.at(-1);
  const out = new Map<string, number>();
  if (!end) return out;
  const base = [...points].reverse().find((p) => p.at <= from);
  for (const t of end.totals.values()) {
    const before = [...(base?.totals.values() ?? [])].filter((b) => b.consumer === t.consumer && b.model === t.model).reduce((a, b) => a + b.total, 0);
    out.set(t.consumer, (out.get(t.consumer) ?? 0) + t.total - before);
  }
  return out;
}
