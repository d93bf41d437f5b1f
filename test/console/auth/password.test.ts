import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureOrganizerPassword, setOrganizerPassword } from "../../../console/auth/index.ts";
import { hashPassword, storedPasswordHash, verifyPassword } from "../../../console/auth/password.ts";
import { SessionStore } from "../../../console/auth/sessions.ts";
import { openStore, type ConsoleStore } from "../../../console/store/index.ts";

let dir: string;
let store: ConsoleStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "thon-passwd-"));
  store = openStore(dir);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("organizer password", () => {
  it("stores an scrypt hash with its parameters and salt, never the password", async () => {
    const a = await hashPassword("a long enough password");
    const b = await hashPassword("a long enough password");
    expect(a).toMatch(/^scrypt\$15\$8\$3\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("a long enough password", a)).toBe(true);
    expect(await verifyPassword("a long enough passwore", a)).toBe(false);
    expect(await verifyPassword("x", "md5$whatever")).toBe(false);
  });

  it("generates one at first start, returns it once to be shown, and keeps it (hashed) across restarts", async () => {
    const first = await ensureOrganizerPassword(store, {});
    expect(first.source).toBe("generated");
    const password = (first as { password: string }).password;
    expect(password).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    expect(JSON.stringify(store.db.prepare("SELECT * FROM settings").all())).not.toContain(password);
    store.close();
    store = openStore(dir);
    expect(await ensureOrganizerPassword(store, {})).toEqual({ source: "stored" });
    expect(await verifyPassword(password, storedPasswordHash(store)!)).toBe(true);
  });

  it("takes THON_CONSOLE_PASSWORD on an unattended start, and keeps sessions when it is unchanged", async () => {
    expect(await ensureOrganizerPassword(store, { THON_CONSOLE_PASSWORD: "from the environment" })).toEqual({ source: "environment" });
    expect(await verifyPassword("from the environment", storedPasswordHash(store)!)).toBe(true);
    const sessions = new SessionStore(store, { idleMs: 60_000, absoluteMs: 120_000 }, Date.now);
    const { id } = sessions.create({ id: "password", role: "organizer", via: "password" });
    await ensureOrganizerPassword(store, { THON_CONSOLE_PASSWORD: "from the environment" });
    expect(sessions.find(id)).toBeDefined();
    // A changed value ends the sessions of the old one.
    await ensureOrganizerPassword(store, { THON_CONSOLE_PASSWORD: "a different value now" });
    expect(sessions.find(id)).toBeUndefined();
  });

  it("refuses a short password, naming the variable, and stores nothing", async () => {
    await expect(ensureOrganizerPassword(store, { THON_CONSOLE_PASSWORD: "short" })).rejects.toThrow(/^THON_CONSOLE_PASSWORD: the organizer password must be at least 12 characters/);
    await expect(setOrganizerPassword(store, "short")).rejects.toThrow(/at least 12 characters\. Fix:/);
    expect(storedPasswordHash(store)).toBeUndefined();
  });

  it("thon console passwd (setOrganizerPassword) replaces the password and ends password sessions, not OIDC ones", async () => {
    await setOrganizerPassword(store, "the first password");
    const sessions = new SessionStore(store, { idleMs: 60_000, absoluteMs: 120_000 }, Date.now);
    const byPassword = sessions.create({ id: "password", role: "organizer", via: "password" });
    const byGitHub = sessions.create({ id: "github:octocat", role: "organizer", via: "oidc" });
    expect(await setOrganizerPassword(store, "the second password")).toEqual({ endedSessions: 1 });
    expect(sessions.find(byPassword.id)).toBeUndefined();
    expect(sessions.find(byGitHub.id)).toBeDefined();
    expect(await verifyPassword("the first password", storedPasswordHash(store)!)).toBe(false);
  });
});
