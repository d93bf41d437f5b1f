// ParkRecords and keep-awake-until on the console's SQLite store (migration
// 3): a console restart must not forget whom THON parked (a wake checks the
// record) nor an organizer's "keep awake until".
import type Database from "better-sqlite3";
import type { ParkRecord, ParkRecords } from "./records.ts";

export interface KeepAwake {
  readonly user: string;
  readonly until: Date;
  /** Who set it (a principal id, or "participant:<user>"). */
  readonly setBy: string;
  readonly setAt: Date;
}

/** Keep-awake-until per participant: read by the scheduler, set and cleared by the console. */
export interface KeepAwakeStore {
  get(user: string): KeepAwake | undefined;
  set(entry: KeepAwake): void;
  clear(user: string): void;
  all(): KeepAwake[];
}

export class SqliteParkRecords implements ParkRecords {
  private readonly q;

  /** `db` is the console store's handle (`openStore(dir).db`), at schema version 3 or later. */
  constructor(db: Database.Database) {
    this.q = {
      get: db.prepare<[string], { user: string; at: number; reason: string; container_id: string }>("SELECT user, at, reason, container_id FROM idle_parked WHERE user = ?"),
      set: db.prepare("INSERT INTO idle_parked (user, at, reason, container_id) VALUES (?, ?, ?, ?) ON CONFLICT(user) DO UPDATE SET at = excluded.at, reason = excluded.reason, container_id = excluded.container_id"),
      del: db.prepare("DELETE FROM idle_parked WHERE user = ?"),
      getKeep: db.prepare<[string], { user: string; until: number; set_by: string; set_at: number }>("SELECT user, until, set_by, set_at FROM idle_keep_awake WHERE user = ?"),
      allKeep: db.prepare<[], { user: string; until: number; set_by: string; set_at: number }>("SELECT user, until, set_by, set_at FROM idle_keep_awake ORDER BY user"),
      setKeep: db.prepare("INSERT INTO idle_keep_awake (user, until, set_by, set_at) VALUES (?, ?, ?, ?) ON CONFLICT(user) DO UPDATE SET until = excluded.until, set_by = excluded.set_by, set_at = excluded.set_at"),
      delKeep: db.prepare("DELETE FROM idle_keep_awake WHERE user = ?"),
    };
  }

  get(user: string): ParkRecord | undefined {
    const r = this.q.get.get(user);
    return r && { user: r.user, at: new Date(r.at), reason: r.reason, containerId: r.container_id };
  }
  set(record: ParkRecord): void {
    this.q.set.run(record.user, record.at.getTime(), record.reason, record.containerId);
  }
  delete(user: string): void {
    this.q.del.run(user);
  }

  readonly keepAwake: KeepAwakeStore = {
    get: (user: string): KeepAwake | undefined => {
      const r = this.q.getKeep.get(user);
      return r && { user: r.user, until: new Date(r.until), setBy: r.set_by, setAt: new Date(r.set_at) };
    },
    set: (e: KeepAwake): void => {
      this.q.setKeep.run(e.user, e.until.getTime(), e.setBy, e.setAt.getTime());
    },
    clear: (user: string): void => {
      this.q.delKeep.run(user);
    },
    all: (): KeepAwake[] => this.q.allKeep.all().map((r) => ({ user: r.user, until: new Date(r.until), setBy: r.set_by, setAt: new Date(r.set_at) })),
  };
}

/** KeepAwakeStore in memory (tests, `thon idle` without a store). */
export class MemoryKeepAwake implements KeepAwakeStore {
  private readonly entries = new Map<string, KeepAwake>();
  get(user: string): KeepAwake | undefined {
    return this.entries.get(user);
  }
  set(entry: KeepAwake): void {
    this.entries.set(entry.user, entry);
  }
  clear(user: string): void {
    this.entries.delete(user);
  }
  all(): KeepAwake[] {
    return [...this.entries.values()].sort((a, b) => (a.user < b.user ? -1 : 1));
  }
}
