// Sign-in and who may do what, through a small app that mounts the console's
// auth exactly as the console does, both in-process (app.request) and over a
// real loopback server: the same scenarios, two transports.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CSRF_HEADER, SESSION_COOKIE } from "../../../console/auth/index.ts";
import { ORGANIZER_PASSWORD, cookieFrom, listen, sampleApp, type SampleApp } from "../../support/consoleAuthApp.ts";

type Send = (path: string, init?: RequestInit) => Promise<Response>;

const transports: [string, (s: SampleApp) => Promise<{ send: Send; close(): Promise<void> }>][] = [
  ["in-process", async (s) => ({ send: async (p, init) => s.app.request(p, init), close: async () => undefined })],
  [
    "over loopback",
    async (s) => {
      const server = await listen(s.app.fetch);
      return { send: (p, init) => fetch(server.url + p, { redirect: "manual", ...init }), close: server.close };
    },
  ],
];

describe.each(transports)("console sign-in %s", (_name, start) => {
  let s: SampleApp;
  let send: Send;
  let stop: () => Promise<void>;
  beforeEach(async () => {
    s = await sampleApp({ config: { rateLimit: { perClient: 3, global: 1000, windowSeconds: 60 } } });
    ({ send, close: stop } = await start(s));
  });
  afterEach(async () => {
    await stop();
    s.close();
  });

  const json = (body: unknown, headers: Record<string, string> = {}) => ({
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const signIn = async (password = ORGANIZER_PASSWORD, cookie?: string) => {
    const r = await send("/api/v1/session", { method: "POST", ...json({ password }, cookie ? { Cookie: cookie } : {}) });
    return { r, cookie: cookieFrom(r, SESSION_COOKIE), body: (await r.json()) as { csrfToken: string; principal: { id: string; role: string } } };
  };

  it("answers /healthz anonymously and 401 everywhere else", async () => {
    expect((await send("/healthz")).status).toBe(200);
    for (const [method, path] of [
      ["GET", "/api/v1/sample"],
      ["POST", "/api/v1/sample"],
      ["GET", "/api/v1/tokens"],
      ["POST", "/api/v1/tokens"],
      ["GET", "/api/v1/audit"],
      ["DELETE", "/api/v1/session"],
    ] as const) {
      const r = await send(path, { method, ...(method === "POST" ? json({ item: "x", name: "t", scope: "read" }) : {}) });
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("unauthenticated");
    }
    // GET /api/v1/session says how to sign in, still with 401.
    const who = await send("/api/v1/session");
    expect(who.status).toBe(401);
    expect(await who.json()).toMatchObject({ signIn: { password: true, providers: [] } });
    expect(s.writes).toEqual([]);
  });

  it("signs in with the organizer password: HttpOnly, Secure, SameSite=Lax cookie; a wrong password is 401", async () => {
    const wrong = await signIn("not the password at all");
    expect(wrong.r.status).toBe(401);
    expect(wrong.cookie).toBeUndefined();
    expect((wrong.body as unknown as { error: { field: string } }).error.field).toBe("password");

    const { r, cookie, body } = await signIn();
    expect(r.status).toBe(200);
    expect(body.principal).toEqual({ id: "password", role: "organizer", via: "password" });
    const header = r.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    expect(header).toMatch(/; HttpOnly/);
    expect(header).toMatch(/; Secure/);
    expect(header).toMatch(/; SameSite=Lax/);
    expect(header).toMatch(/; Path=\//);
    expect(r.headers.get("Cache-Control")).toBe("no-store");

    const who = await send("/api/v1/session", { headers: { Cookie: cookie! } });
    expect(who.status).toBe(200);
    expect(await who.json()).toMatchObject({ principal: { id: "password" }, csrfToken: body.csrfToken });
  });

  it("rotates the session id at every sign-in: the old cookie stops working", async () => {
    const first = await signIn();
    const second = await signIn(ORGANIZER_PASSWORD, first.cookie);
    expect(second.cookie).toBeDefined();
    expect(second.cookie).not.toBe(first.cookie);
    expect(second.body.csrfToken).not.toBe(first.body.csrfToken);
    expect((await send("/api/v1/sample", { headers: { Cookie: first.cookie! } })).status).toBe(401);
    expect((await send("/api/v1/sample", { headers: { Cookie: second.cookie! } })).status).toBe(200);
  });

  it("refuses a change made with the session cookie but without, or with a forged, CSRF token (403, nothing written)", async () => {
    const { cookie, body } = await signIn();
    const none = await send("/api/v1/sample", { method: "POST", ...json({ item: "a" }, { Cookie: cookie! }) });
    expect(none.status).toBe(403);
    expect(((await none.json()) as { error: { field: string } }).error.field).toBe(CSRF_HEADER);
    const forged = await send("/api/v1/sample", { method: "POST", ...json({ item: "b" }, { Cookie: cookie!, [CSRF_HEADER]: body.csrfToken.replace(/^./, (ch) => (ch === "A" ? "B" : "A")) }) });
    expect(forged.status).toBe(403);
    // Another session's token is no proof for this one.
    const other = await signIn();
    const crossed = await send("/api/v1/sample", { method: "POST", ...json({ item: "c" }, { Cookie: cookie!, [CSRF_HEADER]: other.body.csrfToken }) });
    expect(crossed.status).toBe(403);
    expect(s.writes).toEqual([]);
    const ok = await send("/api/v1/sample", { method: "POST", ...json({ item: "d" }, { Cookie: cookie!, [CSRF_HEADER]: body.csrfToken }) });
    expect(ok.status).toBe(201);
    expect(s.writes).toEqual(["d"]);
  });

  it("lets a viewer read but not operate (403)", async () => {
    const { id, session } = s.auth.sessions.create({ id: "github:mentor", role: "viewer", via: "oidc" });
    const cookie = `${SESSION_COOKIE}=${id}`;
    expect((await send("/api/v1/sample", { headers: { Cookie: cookie } })).status).toBe(200);
    const r = await send("/api/v1/sample", { method: "POST", ...json({ item: "x" }, { Cookie: cookie, [CSRF_HEADER]: session.csrf }) });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/github:mentor is a viewer/);
    expect((await send("/api/v1/tokens", { headers: { Cookie: cookie } })).status).toBe(403);
    expect(s.writes).toEqual([]);
  });

  it("ends a session after its idle time (401), slides it while used, and caps it at the absolute limit", async () => {
    const { cookie } = await signIn();
    const idle = s.auth.config.session.idleMinutes * 60_000;
    // Used every half idle period: still alive after more than one idle period.
    s.advance(idle / 2);
    expect((await send("/api/v1/sample", { headers: { Cookie: cookie! } })).status).toBe(200);
    s.advance(idle / 2 + 1000);
    expect((await send("/api/v1/sample", { headers: { Cookie: cookie! } })).status).toBe(200);
    // Unused for the idle time: gone.
    s.advance(idle + 1000);
    expect((await send("/api/v1/sample", { headers: { Cookie: cookie! } })).status).toBe(401);

    // However busy, a session ends at maxHours after sign-in.
    const busy = await signIn();
    const max = s.auth.config.session.maxHours * 3_600_000;
    for (let t = 0; t < max - idle / 2; t += idle / 2) {
      s.advance(idle / 2);
      expect((await send("/api/v1/sample", { headers: { Cookie: busy.cookie! } })).status).toBe(200);
    }
    s.advance(idle / 2);
    expect((await send("/api/v1/sample", { headers: { Cookie: busy.cookie! } })).status).toBe(401);
  });

  it("signs out: the session ends and the cookie is cleared", async () => {
    const { cookie, body } = await signIn();
    const out = await send("/api/v1/session", { method: "DELETE", headers: { Cookie: cookie!, [CSRF_HEADER]: body.csrfToken } });
    expect(out.status).toBe(200);
    expect(out.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))).toMatch(/Max-Age=0/);
    expect((await send("/api/v1/sample", { headers: { Cookie: cookie! } })).status).toBe(401);
  });

  it("API tokens: created once by an organizer, listed without secrets, scoped, revocable", async () => {
    const { cookie, body } = await signIn();
    const auth = { Cookie: cookie!, [CSRF_HEADER]: body.csrfToken };
    const make = async (scope: string) => {
      const r = await send("/api/v1/tokens", { method: "POST", ...json({ name: `${scope} script`, scope }, auth) });
      expect(r.status).toBe(201);
      return (await r.json()) as { id: string; token: string; scope: string };
    };
    const read = await make("read");
    const operate = await make("operate");
    expect(read.token).toMatch(/^thon_[A-Za-z0-9_-]{43}$/);

    const listed = await send("/api/v1/tokens", { headers: auth });
    const text = await listed.text();
    expect(text).not.toContain(read.token);
    expect(text).not.toContain(operate.token);
    expect(JSON.parse(text).tokens.map((t: { id: string }) => t.id).sort()).toEqual([read.id, operate.id].sort());
    // Only the hash is stored.
    const stored = s.store.db.prepare("SELECT * FROM api_tokens").all();
    expect(JSON.stringify(stored)).not.toContain(read.token);

    const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
    expect((await send("/api/v1/sample", { headers: bearer(read.token) })).status).toBe(200);
    const refused = await send("/api/v1/sample", { method: "POST", ...json({ item: "r" }, bearer(read.token)) });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/scoped read/);
    // Bearer requests need no CSRF token.
    expect((await send("/api/v1/sample", { method: "POST", ...json({ item: "o" }, bearer(operate.token)) })).status).toBe(201);
    expect(s.writes).toEqual(["o"]);
    // The audit log names the token (by id) as the actor.
    expect(s.auth.audit.list({ action: "sample.write" }).entries.map((e) => e.actor)).toEqual([`token:${operate.id}`]);
    // A token cannot mint tokens.
    expect((await send("/api/v1/tokens", { method: "POST", ...json({ name: "more", scope: "operate" }, bearer(operate.token)) })).status).toBe(403);

    const revoked = await send(`/api/v1/tokens/${operate.id}`, { method: "DELETE", headers: auth });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { revokedAt: string | null }).revokedAt).not.toBeNull();
    const after = await send("/api/v1/sample", { headers: bearer(operate.token) });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { message: string } }).error.message).toMatch(/unknown or revoked/);
    expect((await send("/api/v1/sample", { headers: bearer("thon_" + "x".repeat(43)) })).status).toBe(401);
    expect((await send("/api/v1/tokens/000000000000", { method: "DELETE", headers: auth })).status).toBe(404);
  });

  it("answers bad input with 400 naming the field, and changes nothing", async () => {
    const { cookie, body } = await signIn();
    const auth = { Cookie: cookie!, [CSRF_HEADER]: body.csrfToken };
    const cases: [string, RequestInit, string][] = [
      ["/api/v1/session", { method: "POST", ...json({}) }, "password"],
      ["/api/v1/session", { method: "POST", ...json({ password: 42 }) }, "password"],
      ["/api/v1/tokens", { method: "POST", ...json({ name: "x", scope: "admin" }, auth) }, "scope"],
      ["/api/v1/tokens", { method: "POST", ...json({ name: "", scope: "read" }, auth) }, "name"],
      ["/api/v1/tokens/nope", { method: "DELETE", headers: auth }, "id"],
      ["/api/v1/audit?limit=abc", { headers: auth }, "limit"],
      ["/api/v1/audit?since=yesterday", { headers: auth }, "since"],
      ["/api/v1/audit?result=maybe", { headers: auth }, "result"],
    ];
    for (const [path, init, field] of cases) {
      const r = await send(path, init);
      expect(r.status, path).toBe(400);
      const e = ((await r.json()) as { error: { field: string; message: string } }).error;
      expect(e.field, path).toBe(field);
      expect(e.message, path).toContain(field);
    }
    expect(s.auth.tokens.list()).toEqual([]);
  });

  it("rate-limits failed sign-ins per client with 429 and Retry-After; the right password is refused too while limited", async () => {
    for (let i = 0; i < 3; i++) expect((await signIn("wrong password " + i)).r.status).toBe(401);
    const limited = await signIn();
    expect(limited.r.status).toBe(429);
    const retry = Number(limited.r.headers.get("Retry-After"));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    s.advance(61_000);
    expect((await signIn()).r.status).toBe(200);
  });

  it("sends security headers with a strict CSP on every answer", async () => {
    for (const path of ["/healthz", "/api/v1/sample", "/api/v1/session"]) {
      const r = await send(path);
      const csp = r.headers.get("Content-Security-Policy")!;
      expect(csp, path).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
      expect(csp).not.toContain("unsafe-inline");
      expect(r.headers.get("X-Frame-Options")).toBe("DENY");
      expect(r.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(r.headers.get("Strict-Transport-Security")).toMatch(/max-age=/);
    }
  });
});

describe("sign-in rate limits by address", () => {
  let s: SampleApp;
  beforeAll(async () => {
    s = await sampleApp({ trustForwardedFor: true, config: { rateLimit: { perClient: 2, global: 5, windowSeconds: 60 } } });
  });
  afterAll(() => s.close());
  const attempt = (ip: string, password = "wrong wrong wrong") =>
    s.app.request("/api/v1/session", { method: "POST", headers: { "Content-Type": "application/json", "X-Real-IP": ip }, body: JSON.stringify({ password }) });

  it("counts failures per client address and every attempt globally", async () => {
    expect((await attempt("192.0.2.1")).status).toBe(401);
    expect((await attempt("192.0.2.1")).status).toBe(401);
    expect((await attempt("192.0.2.1")).status).toBe(429);
    // Another address is not held back by the first one's failures…
    expect((await attempt("192.0.2.2", ORGANIZER_PASSWORD)).status).toBe(200);
    expect((await attempt("192.0.2.3", ORGANIZER_PASSWORD)).status).toBe(200);
    expect((await attempt("192.0.2.4", ORGANIZER_PASSWORD)).status).toBe(200);
    // …until all clients together reach the global limit (5 attempts counted).
    const r = await attempt("192.0.2.5", ORGANIZER_PASSWORD);
    expect(r.status).toBe(429);
    expect(r.headers.get("Retry-After")).toMatch(/^\d+$/);
  });
});
