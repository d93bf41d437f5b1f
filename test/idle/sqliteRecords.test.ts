import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteParkRecords } from "../../console/idle/sqliteRecords.ts";
import { openStore, SCHEMA_VERSION } from "../../console/store/index.ts";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "thon-idle-store-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("park records and keep-awake on SQLite", () => {
  it("survive closing and reopening the store", () => {
    const dir = tmp();
    const a = openStore(dir);
    expect(a.version).toBe(SCHEMA_VERSION);
    const r = new SqliteParkRecords(a.db);
    r.set({ user: "alice", at: new Date("2026-11-28T10:00:00Z"), reason: "idle 90m", containerId: "c1" });
    r.set({ user: "bob", at: new Date("2026-11-28T10:01:00Z"), reason: "idle", containerId: "c2" });
    r.delete("bob");
    r.keepAwake.set({ user: "carol", until: new Date("2026-11-28T18:00:00Z"), setBy: "test:organizer", setAt: new Date("2026-11-28T09:00:00Z") });
    r.keepAwake.set({ user: "dave", until: new Date("2026-11-28T18:00:00Z"), setBy: "x", setAt: new Date("2026-11-28T09:00:00Z") });
    r.keepAwake.clear("dave");
    a.close();

    const b = openStore(dir);
    const r2 = new SqliteParkRecords(b.db);
    expect(r2.get("alice")).toEqual({ user: "alice", at: new Date("2026-11-28T10:00:00Z"), reason: "idle 90m", containerId: "c1" });
    expect(r2.get("bob")).toBeUndefined();
    expect(r2.keepAwake.get("carol")?.until).toEqual(new Date("2026-11-28T18:00:00Z"));
    expect(r2.keepAwake.all().map((k) => k.user)).toEqual(["carol"]);
    b.close();
  });

  it("a second park of the same participant replaces the record (one per participant)", () => {
    const s = openStore(tmp());
    const r = new SqliteParkRecords(s.db);
    r.set({ user: "alice", at: new Date(1000), reason: "one", containerId: "c1" });
    r.set({ user: "alice", at: new Date(2000), reason: "two", containerId: "c9" });
    expect(r.get("alice")).toMatchObject({ reason: "two", containerId: "c9" });
    s.close();
  });
});
