// The audit log: who did what, when, with which diff and result; filtered
// and paged through GET /api/v1/audit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORGANIZER_PASSWORD, sampleApp, type SampleApp } from "../../support/consoleAuthApp.ts";

let s: SampleApp;
let cookie: string;
const T0 = Date.parse("2026-11-28T09:00:00Z");

beforeAll(async () => {
  s = await sampleApp();
  const r = await s.app.request("/api/v1/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ password: ORGANIZER_PASSWORD }) });
  cookie = r.headers.getSetCookie()[0]!.split(";")[0]!;
  // Entries at known times.
  s.freeze(T0);
  s.auth.audit.record({ actor: "github:octocat", action: "participants.restart", target: "alice", result: "started" });
  s.advance(60_000);
  s.auth.audit.record({ actor: "github:octocat", action: "participants.restart", target: "alice", result: "ok", diff: "~ docker:Container thon-alice" });
  s.advance(60_000);
  s.auth.audit.record({ actor: "password", action: "participants.resetPassword", target: "bob", input: { name: "bob", password: "never-stored-1" }, result: "error", detail: "engine missing" });
  s.advance(60_000);
  s.auth.audit.record({ actor: "token:abcdef012345", action: "groups.rename", target: "alpha", input: { from: "alpha", to: "beta" }, result: "ok" });
});
afterAll(() => s.close());

const query = async (q: string) => {
  const r = await s.app.request(`/api/v1/audit${q}`, { headers: { Cookie: cookie } });
  expect(r.status, q).toBe(200);
  return (await r.json()) as { entries: { id: number; at: string; actor: string; action: string; target?: string; result: string; diff?: string; input?: unknown }[]; next?: number };
};

describe("audit log", () => {
  it("lists newest first with who, what, when, target, diff and result", async () => {
    const { entries } = await query("?action=participants.*");
    expect(entries.map((e) => [e.actor, e.action, e.target, e.result])).toEqual([
      ["password", "participants.resetPassword", "bob", "error"],
      ["github:octocat", "participants.restart", "alice", "ok"],
      ["github:octocat", "participants.restart", "alice", "started"],
    ]);
    expect(entries[1]!.diff).toBe("~ docker:Container thon-alice");
    expect(entries[1]!.at).toBe("2026-11-28T09:01:00.000Z");
    expect(entries[0]!.input).toEqual({ name: "bob", password: "[redacted]" });
  });

  it("filters by who, exact action, target, result and time", async () => {
    expect((await query("?actor=github:octocat")).entries).toHaveLength(2);
    expect((await query("?action=groups.rename")).entries.map((e) => e.target)).toEqual(["alpha"]);
    expect((await query("?action=groups")).entries).toEqual([]);
    expect((await query("?target=alice&result=ok")).entries).toHaveLength(1);
    const window = await query(`?since=2026-11-28T09:01:00Z&until=2026-11-28T09:03:00Z`);
    expect(window.entries.map((e) => e.action)).toEqual(["participants.resetPassword", "participants.restart"]);
    expect((await query("?since=2026-11-28T10:02:00%2B01:00&until=2026-11-28T10:03:00%2B01:00&actor=password")).entries.map((e) => e.target)).toEqual(["bob"]);
  });

  it("pages with limit and before", async () => {
    const first = await query("?limit=2&actor=github:octocat");
    expect(first.entries).toHaveLength(2);
    expect(first.next).toBeUndefined();
    const all = await query("?limit=3");
    expect(all.next).toBe(all.entries[2]!.id);
    const rest = await query(`?limit=3&before=${all.next}`);
    expect([...all.entries, ...rest.entries].map((e) => e.id)).toEqual([...new Set([...all.entries, ...rest.entries].map((e) => e.id))]);
    expect(rest.entries.at(-1)!.action).toBe("session.signIn");
  });

  it("is organizer-only", async () => {
    const { id } = s.auth.sessions.create({ id: "github:mentor", role: "viewer", via: "oidc" });
    expect((await s.app.request("/api/v1/audit", { headers: { Cookie: `thon_console_session=${id}` } })).status).toBe(403);
  });
});

describe("OpenAPI", () => {
  it("documents the sign-in routes with their security schemes", () => {
    const doc = s.app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
    expect(Object.keys(doc.paths ?? {}).sort()).toEqual(["/api/v1/audit", "/api/v1/session", "/api/v1/tokens", "/api/v1/tokens/{id}"]);
    expect(Object.keys(doc.components?.securitySchemes ?? {}).sort()).toEqual(["session", "token"]);
    expect(doc.paths!["/api/v1/audit"]!.get!.parameters!.map((p) => ("name" in p ? p.name : "")).sort()).toEqual(
      ["action", "actor", "before", "limit", "result", "since", "target", "until"],
    );
  });
});
