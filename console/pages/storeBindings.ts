// The pages' two storage seams bound to the console's SQLite store: token
// usage snapshots (console/store/usage.ts) and the audit log's list
// (console/auth/audit.ts). Kept apart so the pages stay testable in memory.
import type { SqliteAuditLog } from "../auth/audit.ts";
import type { ConsoleStore } from "../store/store.ts";
import { listUsage, recordUsage } from "../store/usage.ts";
import type { UsageSnapshot, UsageStore } from "../usage/store.ts";
import type { AuditList } from "./deps.ts";

/** One row per consumer and model per scrape; read back grouped by scrape time. */
export function sqliteUsageStore(store: ConsoleStore): UsageStore {
  return {
    append(snapshot) {
      recordUsage(
        store,
        snapshot.samples.map((s) => ({ at: snapshot.at, consumer: s.consumer, model: s.model, promptTokens: s.prompt, completionTokens: s.completion, apisixInstance: "" })),
      );
    },
    series(since) {
      const byAt = new Map<number, { at: number; samples: UsageSnapshot["samples"][number][] }>();
      for (const row of listUsage(store, since !== undefined ? { since } : {})) {
        const snap = byAt.get(row.at) ?? { at: row.at, samples: [] };
        snap.samples.push({ consumer: row.consumer, model: row.model, prompt: row.promptTokens, completion: row.completionTokens });
        byAt.set(row.at, snap);
      }
      return [...byAt.values()].sort((a, b) => a.at - b.at);
    },
  };
}

/** The activity page's filters (who, what, ISO since/until) over the audit log's query. */
export function sqliteAuditList(audit: SqliteAuditLog): AuditList {
  return (filter) =>
    audit.list({
      ...(filter.who ? { actor: filter.who } : {}),
      ...(filter.what ? { action: filter.what } : {}),
      ...(filter.since ? { since: Date.parse(filter.since) } : {}),
      ...(filter.until ? { until: Date.parse(filter.until) + 1 } : {}),
      ...(filter.limit ? { limit: filter.limit } : {}),
    }).entries;
}
