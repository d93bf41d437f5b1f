import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConsoleEnv } from "../../console/auth/types.ts";
import { MemoryParkRecords } from "../../console/idle/records.ts";
import type { IdleParticipant } from "../../console/idle/subjects.ts";
import { idleSchema } from "../../infra/config/schema.ts";
import { MemoryAudit } from "../support/consoleAuth.ts";
import { idleTestApp } from "../support/idleApp.ts";
import { StandInDocker } from "../support/idleDockerStandIn.ts";

const PASSWORDS = new Map([
  ["alice", "Alice-sandbox-pw-0123"],
  ["bob", "Bob-sandbox-pw-456789"],
  ["carol", "Carol-sandbox-pw-9876"],
]);

let dir: string;
let docker: StandInDocker;
let records: MemoryParkRecords;
let audit: MemoryAudit;
let app: Hono<ConsoleEnv>;
let participants: IdleParticipant[];

async function setup() {
  dir = mkdtempSync(join(tmpdir(), "thon-idle-routes-"));
  docker = new StandInDocker(50);
  records = new MemoryParkRecords();
  audit = new MemoryAudit();
  const p = (name: string, state: "running" | "stopped"): IdleParticipant => ({ name, group: "g", state, containerName: `thon-${name}`, socketHostPath: join(dir, `${name}.sock`), endpointPath: `/${name}/` });
  participants = [p("alice", "running"), p("bob", "running"), p("carol", "stopped")];
  await docker.add("thon-alice", "alice", join(dir, "alice.sock"), false);
  await docker.add("thon-bob", "bob", join(dir, "bob.sock"), true);
  await docker.add("thon-carol", "carol", join(dir, "carol.sock"), false);
  for (const u of ["alice", "carol"]) records.set({ user: u, at: new Date(), reason: "idle", containerId: (await docker.inspect(`thon-${u}`))!.id });
  const policy = idleSchema.parse({ enabled: true, wakeTimeout: "5s" });
  app = idleTestApp({
    audit,
    docker,
    records,
    participants: () => participants,
    policy: () => policy,
    passwords: PASSWORDS,
    credentialsFor: async (u) => ({ apiKey: `sk-${u}-key`, baseUrl: "https://llm.example.test/v1" }),
    usageFor: async (u) => (u === "alice" ? { budget: 100000, used: 1234, window: "today" } : { budget: 5, used: 4, window: "today" }),
    caCertUrl: "/ca.crt",
  });
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({ method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const form = (body: Record<string, string>, headers: Record<string, string> = {}) => ({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(body).toString() });

beforeAll(setup);
afterAll(async () => {
  await docker.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

describe("organizer API /api/v1/idle", () => {
  it("lists everyone with status, decision and signals for a viewer; refuses the anonymous", async () => {
    expect((await app.request("/api/v1/idle")).status).toBe(401);
    const res = await app.request("/api/v1/idle", { headers: { "x-test-principal": "viewer" } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { participants: { user: string; status: string; signals: unknown[] }[] };
    expect(Object.fromEntries(body.participants.map((a) => [a.user, a.status]))).toEqual({ alice: "parked", bob: "starting", carol: "organizer-stopped" });
    expect(body.participants[1]!.signals.length).toBe(5);
  });

  it("sets and clears keep-awake (organizers only), refusing a bad time by field", async () => {
    const at = new Date(Date.now() + 3600_000).toISOString();
    expect((await app.request("/api/v1/idle/bob/keep-awake", { ...json({ until: at }, { "x-test-principal": "viewer" }), method: "PUT" })).status).toBe(403);
    const bad = await app.request("/api/v1/idle/bob/keep-awake", { ...json({ until: "tomorrow" }, { "x-test-principal": "organizer" }), method: "PUT" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe("until");
    const ok = await app.request("/api/v1/idle/bob/keep-awake", { ...json({ until: at }, { "x-test-principal": "organizer" }), method: "PUT" });
    expect(await ok.json()).toEqual({ user: "bob", keepAwakeUntil: at });
    const one = (await (await app.request("/api/v1/idle/bob", { headers: { "x-test-principal": "viewer" } })).json()) as { keepAwakeUntil: string };
    expect(one.keepAwakeUntil).toBe(at);
    expect((await app.request("/api/v1/idle/bob/keep-awake", { method: "DELETE", headers: { "x-test-principal": "organizer" } })).status).toBe(200);
    expect((await app.request("/api/v1/idle/mallory/keep-awake", { method: "DELETE", headers: { "x-test-principal": "organizer" } })).status).toBe(404);
    expect(audit.entries.map((e) => e.action)).toEqual(expect.arrayContaining(["idle.keep-awake", "idle.keep-awake.clear"]));
  });

  it("refuses to park or wake an organizer-stopped participant", async () => {
    const park = await app.request("/api/v1/idle/carol/park", json({}, { "x-test-principal": "organizer" }));
    expect(park.status).toBe(409);
    expect(((await park.json()) as { error: { code: string } }).error.code).toBe("organizer-stopped");
    expect((await app.request("/api/v1/idle/carol/wake", json({}, { "x-test-principal": "organizer" }))).status).toBe(409);
    expect((await app.request("/api/v1/idle/bob/park", json({}, { "x-test-principal": "viewer" }))).status).toBe(403);
  });
});

describe("participant wake endpoint", () => {
  it("refuses a wrong password and another participant's password, without waking anyone", async () => {
    const calls = docker.calls.length;
    const wrong = await app.request("/_thon/wake/alice", json({ password: "nope" }, { "x-real-ip": "10.9.9.1" }));
    expect(wrong.status).toBe(401);
    const other = await app.request("/_thon/wake/alice", json({ password: PASSWORDS.get("bob") }, { "x-real-ip": "10.9.9.1" }));
    expect(other.status).toBe(401);
    expect(docker.calls.length).toBe(calls);
    expect(JSON.stringify(audit.entries)).not.toContain(PASSWORDS.get("bob"));
  });

  it("wakes with the right password (form posted from the parked page's path), and the ticket follows it to ready", async () => {
    const res = await app.request("/_thon/wake", json({ path: "/alice/some/file", password: PASSWORDS.get("alice") }, { "x-real-ip": "10.9.9.2" }));
    expect(res.status).toBe(202);
    const body = (await res.json()) as { statusUrl: string; workbench: string; state: string };
    expect(body.workbench).toBe("/alice/");
    expect(body.statusUrl).toMatch(/^\/_thon\/wake\/alice\/status\?ticket=/);
    // Another participant's name on the same ticket: nothing to see.
    expect((await app.request(body.statusUrl.replace("/alice/", "/bob/"), { headers: { accept: "application/json" } })).status).toBe(404);
    let state = "";
    for (let i = 0; i < 100 && state !== "ready"; i++) {
      state = ((await (await app.request(body.statusUrl, { headers: { accept: "application/json" } })).json()) as { state: string }).state;
      if (state !== "ready") await new Promise((r) => setTimeout(r, 50));
    }
    expect(state).toBe("ready");
    expect((await docker.inspect("thon-alice"))!.running).toBe(true);
    expect(records.get("alice")).toBeUndefined();
    // Without JavaScript the status page sends a ready participant to the workbench.
    const html = await app.request(body.statusUrl);
    expect(html.status).toBe(303);
    expect(html.headers.get("location")).toBe("/alice/");
  });

  it("works without JavaScript: the plain form redirects to a status page that refreshes itself; a refusal is a page too", async () => {
    const refused = await app.request("/_thon/wake", form({ user: "alice", password: "wrong" }, { "x-real-ip": "10.9.9.3" }));
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain("Wrong participant name or sandbox password. Go back and try again.");
    const res = await app.request("/_thon/wake", form({ user: "bob", password: PASSWORDS.get("bob")! }, { "x-real-ip": "10.9.9.3" }));
    expect(res.status).toBe(303);
    const status = res.headers.get("location")!;
    expect(status).toMatch(/^\/_thon\/wake\/bob\/status\?ticket=/);
    // bob is running already: the wake is the wait for code-server, then the workbench.
    let r = await app.request(status);
    for (let i = 0; i < 50 && r.status === 200; i++) {
      expect(await r.text()).toMatch(/<meta http-equiv="refresh" content="2;url=/);
      await new Promise((ok) => setTimeout(ok, 50));
      r = await app.request(status);
    }
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("/bob/");
  });

  it("tells an organizer-stopped participant, with the right password, that only an organizer can start it", async () => {
    const res = await app.request("/_thon/wake/carol", json({ password: PASSWORDS.get("carol") }));
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/stopped by the organizer/);
    expect((await docker.inspect("thon-carol"))!.running).toBe(false);
  });

  it("rate-limits wrong passwords per participant; then even the right one waits", async () => {
    for (let i = 0; i < 5; i++) expect((await app.request("/_thon/wake/bob", form({ password: `x${i}` }, { "x-real-ip": `10.8.0.${i}` }))).status).toBe(401);
    const limited = await app.request("/_thon/wake/bob", json({ password: PASSWORDS.get("bob") }, { "x-real-ip": "10.8.1.1" }));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("participant page /me", () => {
  const signIn = async (user: string) => {
    const res = await app.request("/_thon/me/session", form({ user, password: PASSWORDS.get(user)! }, { "x-real-ip": `10.7.0.${user.length}` }));
    expect(res.status).toBe(303);
    const cookie = res.headers.get("set-cookie")!;
    return { cookie, value: cookie.split(";")[0]! };
  };

  it("signs in with the sandbox password into a cookie scoped to /_thon/me, HttpOnly, Secure, SameSite=Lax", async () => {
    const { cookie } = await signIn("alice");
    expect(cookie).toMatch(/^thon_me=/);
    expect(cookie).toContain("Path=/_thon/me");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("Secure");
    expect(cookie).toContain("SameSite=Lax");
    const wrong = await app.request("/_thon/me/session", form({ user: "alice", password: "wrong" }));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect((await app.request("/_thon/me")).headers.get("content-type")).toMatch(/text\/html/);
  });

  it("shows alice her own status, usage, key, base URL and CA steps, and nothing of bob", async () => {
    const { value } = await signIn("alice");
    const page = await (await app.request("/_thon/me?user=bob", { headers: { cookie: value } })).text();
    expect(page).toContain("alice: your sandbox");
    expect(page).toContain("sk-alice-key");
    expect(page).toContain("https://llm.example.test/v1");
    expect(page).toContain("1,234 of 100,000 tokens");
    for (const os of ["Windows", "macOS", "Linux", "Firefox"]) expect(page).toContain(os);
    expect(page).toContain('href="/ca.crt"');
    expect(page).not.toContain("sk-bob-key");
    expect(page).not.toContain("bob");
    expect(page).not.toMatch(/<script(?![^>]*src=)/);
  });

  it("restarts only the session's own sandbox, and only with the CSRF token", async () => {
    const { value } = await signIn("alice");
    const page = await (await app.request("/_thon/me", { headers: { cookie: value } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    expect((await app.request("/_thon/me/restart", form({ user: "bob" }, { cookie: value }))).status).toBe(403);
    const before = docker.calls.length;
    const res = await app.request("/_thon/me/restart", form({ csrf, user: "bob" }, { cookie: value }));
    expect(res.status).toBe(303);
    expect(docker.calls.slice(before)).toEqual(["stop thon-alice", "start thon-alice"]);
    // Without a session: the sign-in form, nothing restarted.
    expect((await app.request("/_thon/me/restart", form({ csrf }))).status).toBe(401);
    expect(docker.calls.slice(before).length).toBe(2);
  });

  it("serves the parked page's script and the stylesheet as static files", async () => {
    const js = await app.request("/_thon/idle/wake.js");
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await js.text()).toContain("thon-wake");
  });
});
