// The console's own data (sessions, API tokens, audit log, usage snapshots):
// one SQLite file in the data folder, opened once per process. WAL lets the
// API read while an operation writes its audit line; the busy timeout rides
// out a short lock by another process instead of failing at once.
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { MIGRATIONS, SCHEMA_VERSION, type Migration } from "./migrations.ts";

export const STORE_FILE = "console.db";

export interface StoreOptions {
  /** How long a statement waits for another process's lock before failing (ms). */
  readonly busyTimeoutMs?: number;
  /** For tests: the migrations to apply (default: all). */
  readonly migrations?: readonly Migration[];
}

export interface ConsoleStore {
  readonly file: string;
  readonly db: Database.Database;
  /** The schema version the file is at after opening. */
  readonly version: number;
  close(): void;
}

/** A store that cannot be opened: names the file, the cause and what to do. */
export class StoreError extends Error {
  override name = "StoreError";
  constructor(
    readonly file: string,
    readonly kind: "corrupt" | "locked" | "newer" | "unreadable",
    message: string,
  ) {
    super(message);
  }
}

/** Opens (creating if needed) `<dir>/console.db` and brings its schema up to date. */
export function openStore(dir: string, options: StoreOptions = {}): ConsoleStore {
  const folder = resolve(dir);
  const file = join(folder, STORE_FILE);
  const migrations = options.migrations ?? MIGRATIONS;
  let db: Database.Database | undefined;
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const fresh = !existsSync(file);
    db = new Database(file, { timeout: options.busyTimeoutMs ?? 5000 });
    // Sessions and token hashes live here: owner only.
    if (fresh) chmodSync(file, 0o600);
    db.pragma("journal_mode = WAL");
    db.pragma("foreign_keys = ON");
    db.pragma("synchronous = NORMAL");
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") throw Object.assign(new Error(String(check)), { code: "SQLITE_CORRUPT" });
    const version = migrate(db, file, migrations);
    const opened = db;
    return { file, db: opened, version, close: () => opened.close() };
  } catch (error) {
    db?.close();
    throw storeError(file, error);
  }
}

function migrate(db: Database.Database, file: string, migrations: readonly Migration[]): number {
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at INTEGER NOT NULL, name TEXT NOT NULL)");
  const current = (db.prepare("SELECT MAX(version) AS v FROM schema_version").get() as { v: number | null }).v ?? 0;
  const latest = migrations.length ? migrations[migrations.length - 1]!.version : 0;
  if (current > Math.max(latest, SCHEMA_VERSION)) {
    throw new StoreError(
      file,
      "newer",
      `console data file ${file} is at schema version ${current}, newer than this thon knows (${latest}). Fix: run the newer thon that wrote it, or point --data at another folder.`,
    );
  }
  // Each step and its version row commit together: a crash leaves the file at
  // the previous version, never half-migrated.
  const apply = db.transaction((m: Migration) => {
    db.exec(m.sql);
    db.prepare("INSERT INTO schema_version (version, applied_at, name) VALUES (?, ?, ?)").run(m.version, Date.now(), m.name);
  });
  for (const m of migrations) if (m.version > current) apply.immediate(m);
  return Math.max(current, latest);
}

/** Maps SQLite's failures at open to what an organizer can act on. */
export function storeError(file: string, error: unknown): Error {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: string }).code ?? "";
  const why = error instanceof Error ? error.message : String(error);
  if (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT")) {
    return new StoreError(
      file,
      "corrupt",
      `console data file ${file} is not a readable SQLite database (${why}). Fix: stop the console, move the file aside (mv ${file} ${file}.broken) and start again; sessions, API tokens and the audit log start empty, the event itself is untouched.`,
    );
  }
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new StoreError(
      file,
      "locked",
      `console data file ${file} is locked by another process (${why}). Fix: stop the other \`thon console\` (or sqlite3 session) using this data folder, or start this one with --data <another folder>.`,
    );
  }
  if (code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_PERM") || code === "EACCES" || code === "EROFS") {
    return new StoreError(
      file,
      "unreadable",
      `console data file ${file} cannot be opened for writing (${why}). Fix: check that the folder exists and belongs to the user running the console, or choose another with --data.`,
    );
  }
  return error instanceof Error ? error : new Error(why);
}
