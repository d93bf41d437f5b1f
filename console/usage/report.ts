// What the gateway page shows of token usage: per participant (consumer),
// group and model, totals, rate and % of the ai-rate-limiting budget; a chart
// over time as SVG drawn here, and the same rows as CSV.
import { cumulative, rates, totals, usedSince, type UsageTotal } from "./totals.ts";
import type { UsageSnapshot } from "./store.ts";

export interface Budget {
  /** Tokens per window (ai-rate-limiting `limit`). */
  readonly limit: number;
  readonly windowSeconds: number;
}

export interface UsageRow {
  readonly consumer: string;
  readonly group: string;
  readonly model: string;
  readonly prompt: number;
  readonly completion: number;
  readonly total: number;
  /** Tokens per minute over the last 10 minutes. */
  readonly perMinute: number;
  /** % of the consumer's budget used in the current window; null without a budget. */
  readonly budgetPercent: number | null;
}

export interface UsageReport {
  readonly rows: readonly UsageRow[];
  readonly byGroup: readonly { group: string; total: number; perMinute: number }[];
  readonly byModel: readonly { model: string; total: number }[];
  readonly total: number;
}

export function usageReport(series: readonly UsageSnapshot[], groupOf: (consumer: string) => string, budgets: ReadonlyMap<string, Budget>, now = Date.now()): UsageReport {
  const t = totals(series);
  const r = rates(series, 10 * 60_000, now);
  const used = new Map<string, number>();
  for (const [consumer, b] of budgets) used.set(consumer, usedSince(series, now - b.windowSeconds * 1000).get(consumer) ?? 0);
  const rows = t
    .map((x: UsageTotal) => {
      const b = budgets.get(x.consumer);
      return {
        ...x,
        group: groupOf(x.consumer),
        perMinute: Math.round((r.get(`${x.consumer}\u0000${x.model}`) ?? 0) * 10) / 10,
        budgetPercent: b && b.limit > 0 ? Math.round(((used.get(x.consumer) ?? 0) / b.limit) * 1000) / 10 : null,
      };
    })
    .sort((a, b) => b.total - a.total || a.consumer.localeCompare(b.consumer));
  const groups = new Map<string, { group: string; total: number; perMinute: number }>();
  const models = new Map<string, { model: string; total: number }>();
  for (const row of rows) {
    const g = groups.get(row.group) ?? { group: row.group, total: 0, perMinute: 0 };
    groups.set(row.group, { group: row.group, total: g.total + row.total, perMinute: Math.round((g.perMinute + row.perMinute) * 10) / 10 });
    const m = models.get(row.model) ?? { model: row.model, total: 0 };
    models.set(row.model, { model: row.model, total: m.total + row.total });
  }
  return {
    rows,
    byGroup: [...groups.values()].sort((a, b) => b.total - a.total),
    byModel: [...models.values()].sort((a, b) => b.total - a.total),
    total: rows.reduce((a, b) => a + b.total, 0),
  };
}

const CSV_COLUMNS = ["consumer", "group", "model", "prompt", "completion", "total", "perMinute", "budgetPercent"] as const;

/** RFC 4180; a cell starting with = + - @ gets a leading ' so spreadsheets do not run it. */
export function usageCsv(report: UsageReport): string {
  const cell = (v: unknown) => {
    let s = v === null || v === undefined ? "" : String(v);
    if (/^[=+\-@]/.test(s)) s = `'${s}`;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [CSV_COLUMNS.join(","), ...report.rows.map((r) => CSV_COLUMNS.map((c) => cell(r[c])).join(","))].join("\r\n") + "\r\n";
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];

/** Cumulative tokens over time, one line per group (the top six, the rest as "others"), as an SVG string. */
export function usageChart(series: readonly UsageSnapshot[], groupOf: (consumer: string) => string, o: { width?: number; height?: number } = {}): string {
  const width = o.width ?? 720;
  const height = o.height ?? 240;
  const pad = { l: 64, r: 12, t: 12, b: 28 };
  const points = cumulative(series);
  const title = "Tokens used over time, per group";
  if (points.length < 2) {
    return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}: not enough data yet" class="chart"><text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="chart-text">Not enough data yet: usage appears after two scrapes.</text></svg>`;
  }
  const perGroup = points.map((p) => {
    const m = new Map<string, number>();
    for (const t of p.totals.values()) m.set(groupOf(t.consumer), (m.get(groupOf(t.consumer)) ?? 0) + t.total);
    return { at: p.at, m };
  });
  const last = perGroup.at(-1)!.m;
  const ranked = [...last.entries()].sort((a, b) => b[1] - a[1]).map(([g]) => g);
  const top = ranked.slice(0, 6);
  const lines = [...top, ...(ranked.length > 6 ? ["others"] : [])];
  const valueOf = (m: Map<string, number>, g: string) => (g === "others" ? [...m.entries()].filter(([k]) => !top.includes(k)).reduce((a, [, v]) => a + v, 0) : (m.get(g) ?? 0));
  const t0 = points[0]!.at;
  const t1 = Math.max(points.at(-1)!.at, t0 + 1);
  const max = Math.max(1, ...lines.map((g) => valueOf(last, g)));
  const x = (t: number) => pad.l + ((t - t0) / (t1 - t0)) * (width - pad.l - pad.r);
  const y = (v: number) => height - pad.b - (v / max) * (height - pad.t - pad.b);
  const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n)));
  const time = (t: number) => new Date(t).toISOString().slice(11, 16);
  const grid = [0, 0.5, 1].map((f) => `<line x1="${pad.l}" x2="${width - pad.r}" y1="${y(max * f)}" y2="${y(max * f)}" class="chart-grid"/><text x="${pad.l - 6}" y="${y(max * f) + 4}" text-anchor="end" class="chart-text">${fmt(max * f)}</text>`).join("");
  const axis = `<text x="${pad.l}" y="${height - 8}" class="chart-text">${time(t0)} UTC</text><text x="${width - pad.r}" y="${height - 8}" text-anchor="end" class="chart-text">${time(t1)} UTC</text>`;
  const paths = lines
    .map((g, i) => {
      const d = perGroup.map((p, j) => `${j === 0 ? "M" : "L"}${x(p.at).toFixed(1)},${y(valueOf(p.m, g)).toFixed(1)}`).join("");
      return `<path d="${d}" fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="2"><title>${esc(g)}: ${fmt(valueOf(last, g))} tokens</title></path>`;
    })
    .join("");
  const legend = lines.map((g, i) => `<g transform="translate(${pad.l + 8 + i * 100},${pad.t + 6})"><rect width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="14" y="9" class="chart-text">${esc(g.length > 12 ? g.slice(0, 11) + "…" : g)}</text></g>`).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}; total ${fmt(valueOf(last, "others") + top.reduce((a, g) => a + valueOf(last, g), 0))} tokens" class="chart"><title>${title}</title>${grid}${axis}${paths}${legend}</svg>`;
}
