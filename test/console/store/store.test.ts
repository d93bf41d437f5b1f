import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MIGRATIONS, SCHEMA_VERSION, StoreError, listUsage, openStore, recordUsage } from "../../../console/store/index.ts";

const require = createRequire(import.meta.url);
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "thon-store-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("console store", () => {
  it("creates the file owner-only in WAL mode with every migration recorded in schema_version", () => {
    const dir = tempDir();
    const store = openStore(dir);
    expect(store.version).toBe(SCHEMA_VERSION);
    expect(store.db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(store.db.pragma("busy_timeout", { simple: true })).toBe(5000);
    const rows = store.db.prepare("SELECT version FROM schema_version ORDER BY version").all() as { version: number }[];
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    const tables = (store.db.prepare("SELECT name FROM sqlite_master WHERE type='table'").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(["sessions", "api_tokens", "audit_log", "usage_snapshots", "settings"]));
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    store.close();
  });

  it("brings an older file forward one step at a time and keeps its rows", () => {
    const dir = tempDir();
    const old = openStore(dir, { migrations: MIGRATIONS.slice(0, 1) });
    expect(old.version).toBe(1);
    old.db.prepare("INSERT INTO settings (key, value) VALUES ('k', 'v')").run();
    old.close();
    const store = openStore(dir);
    expect(store.version).toBe(SCHEMA_VERSION);
    expect(store.db.prepare("SELECT value FROM settings WHERE key='k'").get()).toEqual({ value: "v" });
    recordUsage(store, [{ at: 1, consumer: "alice", model: "m", promptTokens: 3, completionTokens: 4, apisixInstance: "run-1" }]);
    expect(listUsage(store, { consumer: "alice" })).toHaveLength(1);
    store.close();
  });

  it("survives a restart: usage snapshots written before a close are read after reopening, with no migration re-run", () => {
    const dir = tempDir();
    const first = openStore(dir);
    recordUsage(first, [
      { at: 1000, consumer: "alice", model: "qwen", promptTokens: 10, completionTokens: 20, apisixInstance: "a" },
      { at: 2000, consumer: "bob", model: "qwen", promptTokens: 1, completionTokens: 2, apisixInstance: "a" },
    ]);
    first.close();
    const second = openStore(dir);
    expect(listUsage(second, { since: 1500 })).toEqual([{ at: 2000, consumer: "bob", model: "qwen", promptTokens: 1, completionTokens: 2, apisixInstance: "a" }]);
    expect((second.db.prepare("SELECT COUNT(*) AS n FROM schema_version").get() as { n: number }).n).toBe(MIGRATIONS.length);
    second.close();
  });

  it("refuses a corrupt file with an error naming the file and the fix", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "console.db"), Buffer.alloc(8192, 0x5a));
    let error: unknown;
    try {
      openStore(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).kind).toBe("corrupt");
    expect((error as Error).message).toContain(join(dir, "console.db"));
    expect((error as Error).message).toMatch(/not a readable SQLite database.*Fix: stop the console, move the file aside/);
  });

  it("refuses a file from a newer thon", () => {
    const dir = tempDir();
    const store = openStore(dir);
    store.db.prepare("INSERT INTO schema_version (version, applied_at, name) VALUES (99, 0, 'future')").run();
    store.close();
    expect(() => openStore(dir)).toThrow(/schema version 99, newer than this thon knows/);
  });

  it("reports a file locked by another process as locked, naming the file and what to do", async () => {
    const dir = tempDir();
    const file = join(dir, "console.db");
    // Another process holds the file in exclusive locking mode, as a second
    // console or a sqlite3 shell in a write transaction would.
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `const D = require(${JSON.stringify(require.resolve("better-sqlite3"))});
         const db = new D(${JSON.stringify(file)});
         db.pragma("locking_mode = EXCLUSIVE");
         db.exec("BEGIN EXCLUSIVE; CREATE TABLE hold (x); ");
         process.stdout.write("held\\n");
         setTimeout(() => {}, 20000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await new Promise<void>((ok, fail) => {
        holder.stdout!.once("data", () => ok());
        holder.once("exit", (code) => fail(new Error(`lock holder exited ${code}`)));
      });
      let error: unknown;
      try {
        openStore(dir, { busyTimeoutMs: 200 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).kind).toBe("locked");
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(/locked by another process.*Fix: stop the other `thon console`/);
    } finally {
      holder.kill();
    }
  });
});
