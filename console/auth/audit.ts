// The audit log over the store. Every entry passes the redactor before it is
// written, so no caller can put a password or key into it by mistake.
import type { ConsoleStore } from "../store/index.ts";
import type { Redactor } from "./redact.ts";
import type { AuditEntry, AuditLog } from "./types.ts";

export interface AuditRecord extends AuditEntry {
  readonly id: number;
  readonly at: string;
}

export interface AuditQuery {
  /** Exact principal id, e.g. "password", "github:octocat", "token:ab12". */
  readonly actor?: string;
  /** Exact action, or a prefix ending in "." or "*" ("participants.", "session.*"). */
  readonly action?: string;
  readonly target?: string;
  readonly result?: AuditEntry["result"];
  /** Epoch ms, inclusive. */
  readonly since?: number;
  /** Epoch ms, exclusive. */
  readonly until?: number;
  /** Entries older than this id (the previous page's `next`). */
  readonly before?: number;
  readonly limit?: number;
}

export interface AuditPage {
  readonly entries: AuditRecord[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  readonly next?: number;
}

export const AUDIT_MAX_PAGE = 500;

export class SqliteAuditLog implements AuditLog {
  constructor(
    private readonly store: ConsoleStore,
    private readonly redactor: Redactor,
    private readonly now: () => number,
  ) {}

  record(entry: AuditEntry): void {
    const r = this.redactor;
    this.store.db
      .prepare("INSERT INTO audit_log (at, actor, action, target, input, diff, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .run(
        this.now(),
        r.text(entry.actor),
        r.text(entry.action),
        entry.target === undefined ? null : r.text(entry.target),
        entry.input === undefined ? null : JSON.stringify(r.value(entry.input)),
        entry.diff === undefined ? null : r.text(entry.diff),
        entry.result,
        entry.detail === undefined ? null : r.text(entry.detail),
      );
  }

  /** Newest first, filtered by who, what and when. */
  list(query: AuditQuery = {}): AuditPage {
    const where: string[] = [];
    const args: Record<string, unknown> = {};
    const add = (sql: string, name: string, value: unknown) => {
      where.push(sql);
      args[name] = value;
    };
    if (query.actor !== undefined) add("actor = @actor", "actor", query.actor);
    if (query.action !== undefined) {
      const prefix = query.action.endsWith("*") ? query.action.slice(0, -1) : query.action.endsWith(".") ? query.action : undefined;
      if (prefix !== undefined) add("substr(action, 1, length(@action)) = @action", "action", prefix);
      else add("action = @action", "action", query.action);
    }
    if (query.target !== undefined) add("target = @target", "target", query.target);
    if (query.result !== undefined) add("result = @result", "result", query.result);
    if (query.since !== undefined) add("at >= @since", "since", query.since);
    if (query.until !== undefined) add("at < @until", "until", query.until);
    if (query.before !== undefined) add("id < @before", "before", query.before);
    const limit = Math.min(Math.max(query.limit ?? 100, 1), AUDIT_MAX_PAGE);
    const rows = this.store.db
      .prepare(`SELECT * FROM audit_log ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id DESC LIMIT ${limit + 1}`)
      .all(args) as AuditRow[];
    const page = rows.slice(0, limit).map(toRecord);
    return rows.length > limit ? { entries: page, next: page[page.length - 1]!.id } : { entries: page };
  }
}

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  input: string | null;
  diff: string | null;
  result: AuditEntry["result"];
  detail: string | null;
}

const toRecord = (row: AuditRow): AuditRecord => ({
  id: row.id,
  at: new Date(row.at).toISOString(),
  actor: row.actor,
  action: row.action,
  result: row.result,
  ...(row.target !== null ? { target: row.target } : {}),
  ...(row.input !== null ? { input: JSON.parse(row.input) as unknown } : {}),
  ...(row.diff !== null ? { diff: row.diff } : {}),
  ...(row.detail !== null ? { detail: row.detail } : {}),
});
