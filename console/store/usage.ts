// Snapshots of APISIX's token counters per consumer and model, kept because
// APISIX loses them on restart. Reading them into totals is the usage page's
// job (next issue); this is only the write and the ranged read.
import type { ConsoleStore } from "./store.ts";

export interface UsageSnapshot {
  /** Epoch ms the counters were read. */
  readonly at: number;
  readonly consumer: string;
  readonly model: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Which APISIX run the counters belong to (its start time or node id): a new marker means the counters restarted at zero. */
  readonly apisixInstance: string;
}

export function recordUsage(store: ConsoleStore, snapshots: readonly UsageSnapshot[]): void {
  const insert = store.db.prepare(
    "INSERT INTO usage_snapshots (at, consumer, model, prompt_tokens, completion_tokens, apisix_instance) VALUES (@at, @consumer, @model, @promptTokens, @completionTokens, @apisixInstance)",
  );
  store.db.transaction((rows: readonly UsageSnapshot[]) => {
    for (const row of rows) insert.run(row);
  })(snapshots);
}

export interface UsageQuery {
  readonly since?: number;
  readonly until?: number;
  readonly consumer?: string;
  readonly model?: string;
}

export function listUsage(store: ConsoleStore, query: UsageQuery = {}): UsageSnapshot[] {
  const where: string[] = [];
  const args: Record<string, unknown> = {};
  if (query.since !== undefined) (where.push("at >= @since"), (args.since = query.since));
  if (query.until !== undefined) (where.push("at < @until"), (args.until = query.until));
  if (query.consumer !== undefined) (where.push("consumer = @consumer"), (args.consumer = query.consumer));
  if (query.model !== undefined) (where.push("model = @model"), (args.model = query.model));
  const sql = `SELECT at, consumer, model, prompt_tokens AS promptTokens, completion_tokens AS completionTokens, apisix_instance AS apisixInstance
    FROM usage_snapshots ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY at, id`;
  return store.db.prepare(sql).all(args) as UsageSnapshot[];
}
