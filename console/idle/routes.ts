// The console's idle routes, one Hono sub-app (mounting: docs/idle.md):
//  - the organizers' API under /api/v1/idle: the dry run (who would be parked
//    and when, what each signal said), keep-awake-until, park now, wake;
//  - the participants' endpoints under the console's public path (/_thon):
//    POST /wake (the parked page's form), GET /wake/<user>/status, the
//    participant's own page /me, and the two static files they load.
// Passwords pass through WakeGate only: never logged, audited or echoed.
import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AuditLog, Auth, ConsoleEnv } from "../auth/types.ts";
import type { IdlePolicy } from "../../infra/config/schema.ts";
import { dryRun, type Signals } from "./decide.ts";
import type { IdleDocker } from "./docker.ts";
import { messagePage, mePage, signInPage, IDLE_CSS } from "./mePage.ts";
import { IdleError, parkParticipant } from "./park.ts";
import { ParticipantSessions, PARTICIPANT_COOKIE } from "./participantSessions.ts";
import type { ParkRecords } from "./records.ts";
import type { KeepAwakeStore } from "./sqliteRecords.ts";
import { subjectOf, subjectsOf, type IdleParticipant } from "./subjects.ts";
import { WakeGate } from "./wakeGate.ts";
import { WAKE_SCRIPT } from "./wakeScript.ts";
import { WakeService, type WakeState } from "./wakeService.ts";

export interface ParticipantUsage {
  /** Tokens allowed in `window`; null: no budget. */
  readonly budget: number | null;
  readonly used: number;
  /** The budget's window in words ("today", "per hour", "the event"). */
  readonly window: string;
}

export interface IdleRoutesDeps {
  readonly auth: Auth;
  readonly audit: AuditLog;
  readonly docker: IdleDocker;
  /** THON's park records (SqliteParkRecords on the console store). */
  readonly records: ParkRecords;
  /** Keep-awake-until (SqliteParkRecords#keepAwake). */
  readonly keepAwake: KeepAwakeStore;
  /** The plan's participants, read per request (the plan changes on deploy). */
  readonly participants: () => readonly IdleParticipant[];
  /** `event.idle`, read per request. */
  readonly policy: () => IdlePolicy;
  /** Reads one participant's signals (`(p) => readSignals(docker, p, inputs)`). */
  readonly signals: (p: IdleParticipant) => Promise<Signals>;
  /** The sandbox passwords from the `participants` stack output (secret), read when needed, never kept. */
  readonly getPasswords: () => Promise<ReadonlyMap<string, string>>;
  /** From the stack outputs: `participants[user].apiKey` and `llm.baseUrl`. */
  readonly credentialsFor: (user: string) => Promise<{ readonly apiKey?: string; readonly baseUrl?: string }>;
  /** The participant's LLM token budget and use, or null when unknown. */
  readonly usageFor: (user: string) => Promise<ParticipantUsage | null>;
  /** The CA certificate's URL ("/ca.crt"); undefined when the event uses a publicly trusted certificate. */
  readonly caCertUrl?: string;
  /** The console's path as browsers see it (nginx's location). Default "/_thon". */
  readonly publicPrefix?: string;
  /** Where the participant routes sit in this sub-app: publicPrefix (default) when nginx passes the path unchanged, "" when it strips it. */
  readonly mountPrefix?: string;
  /** The client's address for rate limiting. Default: nginx's X-Real-IP, else "unknown". */
  readonly clientAddress?: (c: Context) => string;
  /** Shared with the scheduler and other callers; built from policy() when absent. */
  readonly wakes?: WakeService;
  readonly gate?: WakeGate;
  readonly sessions?: ParticipantSessions;
  /** Cookies without Secure: only for tests over plain HTTP on loopback. */
  readonly insecureCookies?: boolean;
  readonly now?: () => Date;
}

const err = (code: string, message: string, fix: string, field?: string) => ({ error: { code, message, fix, ...(field ? { field } : {}) } });
const USER = /^[a-z0-9_-]{1,64}$/;

/** The organizers' idle API and the participants' wake and /me routes. */
export function idleRoutes(deps: IdleRoutesDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const now = deps.now ?? (() => new Date());
  const prefix = deps.publicPrefix ?? "/_thon";
  const mount = deps.mountPrefix ?? prefix;
  const find = (user: string) => deps.participants().find((p) => p.name === user);
  const wakes =
    deps.wakes ??
    new WakeService({ docker: deps.docker, records: deps.records, target: find, concurrency: deps.policy().wakeConcurrency, timeoutSeconds: deps.policy().wakeTimeout });
  const gate = deps.gate ?? new WakeGate({ getPasswords: deps.getPasswords });
  const sessions = deps.sessions ?? new ParticipantSessions();
  const client = deps.clientAddress ?? ((c: Context) => c.req.header("x-real-ip") ?? "unknown");

  // ---- organizers: /api/v1/idle ------------------------------------------------
  const api = new Hono<ConsoleEnv>();
  api.use("*", deps.auth.authenticate);
  const actor = (c: Context<ConsoleEnv>) => c.get("principal")?.id ?? "unknown";
  const known = (c: Context<ConsoleEnv>) => {
    const user = c.req.param("user") ?? "";
    return find(user) ? user : undefined;
  };
  const unknown = (c: Context, user: string | undefined) => c.json(err("not_found", `no participant "${user}"`, "use a name from GET /api/v1/idle", "user"), 404);

  api.get("/", deps.auth.require("viewer"), async (c) => {
    const policy = deps.policy();
    const at = now();
    const subjects = await subjectsOf(deps.participants(), { records: deps.records, keepAwake: deps.keepAwake, signals: deps.signals });
    const { all, due } = dryRun(subjects, policy, at);
    return c.json({ asOf: at.toISOString(), policy, due: due.map((a) => a.user), participants: all.map((a) => ({ ...a, keepAwakeUntil: deps.keepAwake.get(a.user)?.until.toISOString() ?? null, wake: wakes.state(a.user) ?? null })) });
  });

  api.get("/:user", deps.auth.require("viewer"), async (c) => {
    const user = known(c);
    if (!user) return unknown(c, c.req.param("user"));
    const subject = await subjectOf(find(user)!, { records: deps.records, keepAwake: deps.keepAwake, signals: deps.signals });
    const [a] = dryRun([subject], deps.policy(), now()).all;
    return c.json({ ...a, keepAwakeUntil: deps.keepAwake.get(user)?.until.toISOString() ?? null, wake: wakes.state(user) ?? null });
  });

  api.put("/:user/keep-awake", deps.auth.require("organizer"), async (c) => {
    const user = known(c);
    if (!user) return unknown(c, c.req.param("user"));
    const body = (await c.req.json().catch(() => null)) as { until?: unknown } | null;
    const until = typeof body?.until === "string" ? new Date(body.until) : undefined;
    if (!until || Number.isNaN(until.getTime()) || !/^\d{4}-\d\d-\d\dT/.test(String(body?.until))) {
      return c.json(err("bad_input", "until must be a date and time (ISO 8601), such as 2026-11-28T18:00:00Z", 'send {"until": "<ISO time>"}', "until"), 400);
    }
    if (until <= now()) return c.json(err("bad_input", "until is in the past", "give a time in the future, or DELETE to clear", "until"), 400);
    deps.keepAwake.set({ user, until, setBy: actor(c), setAt: now() });
    deps.audit.record({ actor: actor(c), action: "idle.keep-awake", target: user, input: { until: until.toISOString() }, result: "ok" });
    return c.json({ user, keepAwakeUntil: until.toISOString() });
  });

  api.delete("/:user/keep-awake", deps.auth.require("organizer"), (c) => {
    const user = known(c);
    if (!user) return unknown(c, c.req.param("user"));
    deps.keepAwake.clear(user);
    deps.audit.record({ actor: actor(c), action: "idle.keep-awake.clear", target: user, result: "ok" });
    return c.json({ user, keepAwakeUntil: null });
  });

  api.post("/:user/park", deps.auth.require("organizer"), async (c) => {
    const user = known(c);
    if (!user) return unknown(c, c.req.param("user"));
    const body = (await c.req.json().catch(() => ({}))) as { force?: unknown };
    try {
      const r = await parkParticipant(deps.docker, find(user)!, deps.records, `parked by ${actor(c)}`, { unlessConnected: body.force !== true, now });
      deps.audit.record({ actor: actor(c), action: "idle.park", target: user, result: "ok" });
      return c.json({ user, parkedAt: r.at.toISOString(), containerId: r.containerId });
    } catch (e) {
      deps.audit.record({ actor: actor(c), action: "idle.park", target: user, result: "error", detail: e instanceof Error ? e.message : String(e) });
      if (e instanceof IdleError) return c.json(err(e.code, e.message, e.code === "connected" ? 'send {"force": true} to park anyway' : "see the message"), 409);
      throw e;
    }
  });

  api.post("/:user/wake", deps.auth.require("organizer"), (c) => {
    const user = known(c);
    if (!user) return unknown(c, c.req.param("user"));
    if (find(user)!.state === "stopped") return c.json(err("organizer-stopped", `${user}: stopped by the organizer (state: stopped)`, "set state: running in thon.yaml and apply"), 409);
    const { state } = wakes.start(user);
    deps.audit.record({ actor: actor(c), action: "idle.wake", target: user, result: "started" });
    return c.json({ user, wake: state }, 202);
  });
  app.route("/api/v1/idle", api);

  // ---- participants: <prefix>/wake, <prefix>/me -------------------------------
  const p = new Hono<ConsoleEnv>();
  p.use("*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Content-Type-Options", "nosniff");
  });

  p.get("/idle/wake.js", (c) => c.body(WAKE_SCRIPT, 200, { "Content-Type": "text/javascript; charset=utf-8" }));
  p.get("/idle/idle.css", (c) => c.body(IDLE_CSS, 200, { "Content-Type": "text/css; charset=utf-8" }));

  /** The form's or JSON body as strings; anything else is dropped. */
  const fields = async (c: Context): Promise<Record<string, string>> => {
    const type = c.req.header("content-type") ?? "";
    let raw: Record<string, unknown> = {};
    if (type.includes("application/json")) raw = ((await c.req.json().catch(() => ({}))) ?? {}) as Record<string, unknown>;
    else if (type.includes("form")) raw = (await c.req.parseBody().catch(() => ({}))) as Record<string, unknown>;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) if (typeof v === "string") out[k] = v;
    return out;
  };
  const wantsJson = (c: Context) => (c.req.header("accept") ?? "").includes("application/json") || (c.req.header("content-type") ?? "").includes("application/json");
  /** The participant whose endpoint `path` is under ("/alice/x" → alice). */
  const fromPath = (path: string) => deps.participants().find((q) => path.startsWith(q.endpointPath) || path === q.endpointPath.slice(0, -1))?.name;

  const wake = async (c: Context<ConsoleEnv>, named?: string) => {
    const f = await fields(c);
    const user = named ?? (f.user ? f.user : f.path ? fromPath(f.path) : undefined);
    const json = wantsJson(c);
    const refuse = (status: 400 | 401 | 409 | 429, code: string, message: string, fix: string, field?: string) =>
      json ? c.json(err(code, message, fix, field), status) : c.html(messagePage(prefix, "Not woken", `${message[0]!.toUpperCase()}${message.slice(1).replace(/\.$/, "")}.${status === 409 ? "" : " Go back and try again."}`), status);
    if (!user || !USER.test(user)) return refuse(400, "bad_input", "which participant? the name is missing or not a participant name", "open the page from your own sandbox address, or type your name", "user");
    if (!f.password) return refuse(400, "bad_input", "the sandbox password is missing", "type your sandbox password", "password");
    const result = await gate.check(user, f.password, client(c));
    if (!result.ok) {
      if (result.reason === "rate-limited") {
        c.header("Retry-After", String(result.retryAfterSeconds));
        return refuse(429, "too_many", `too many wrong passwords; try again in ${result.retryAfterSeconds} s`, "wait, or ask an organizer");
      }
      return refuse(401, "wrong_password", "wrong participant name or sandbox password", "use the sandbox password you were given (the one code-server asks for)", "password");
    }
    const target = find(user);
    if (!target) return refuse(401, "wrong_password", "wrong participant name or sandbox password", "use the sandbox password you were given", "password");
    if (target.state === "stopped") {
      deps.audit.record({ actor: `participant:${user}`, action: "idle.wake", target: user, result: "error", detail: "organizer-stopped" });
      return refuse(409, "organizer-stopped", "Your sandbox was stopped by the organizer; it cannot be woken from here. Ask an organizer.", "ask an organizer to set it running again");
    }
    const { ticket, state } = wakes.start(user);
    deps.audit.record({ actor: `participant:${user}`, action: "idle.wake", target: user, result: "started" });
    const statusUrl = `${prefix}/wake/${user}/status?ticket=${encodeURIComponent(ticket)}`;
    if (json) return c.json({ user, statusUrl, workbench: target.endpointPath, ...state }, 202);
    return c.redirect(statusUrl, 303);
  };
  p.post("/wake", (c) => wake(c));
  p.post("/wake/:user", (c) => wake(c, c.req.param("user")));

  p.get("/wake/:user/status", (c) => {
    const user = c.req.param("user");
    const state: WakeState | undefined = wakes.follow(user, c.req.query("ticket") ?? "");
    const target = find(user);
    if (!state || !target) {
      return wantsJson(c) ? c.json(err("not_found", "no wake to follow here", "post the wake form again"), 404) : c.html(messagePage(prefix, "No wake under way", "Post the wake form again."), 404);
    }
    if (wantsJson(c)) return c.json({ user, workbench: target.endpointPath, ...state });
    if (state.state === "ready") return c.redirect(target.endpointPath, 303);
    const text = state.state === "queued" ? `Waiting to start: ${state.ahead} ahead of you.` : state.state === "starting" ? "Starting your sandbox..." : state.message;
    return c.html(messagePage(prefix, state.state === "failed" ? "The wake failed" : "Waking your sandbox", text, state.state === "failed" ? {} : { refreshTo: c.req.url }));
  });

  // /me: the participant's own page, behind their own session.
  const cookiePath = `${prefix}/me`;
  const session = (c: Context) => sessions.get(getCookie(c, PARTICIPANT_COOKIE));
  // A sign-in posted from another site (login CSRF) is refused; browsers send Origin on POST.
  const sameOrigin = (c: Context) => {
    const origin = c.req.header("origin");
    if (!origin) return true;
    const host = c.req.header("x-forwarded-host") ?? c.req.header("host");
    try {
      return new URL(origin).host === host;
    } catch {
      return false;
    }
  };

  const meView = async (user: string, csrf: string, message?: string) => {
    const target = find(user)!;
    const [subject, usage, creds] = await Promise.all([
      subjectOf(target, { records: deps.records, keepAwake: deps.keepAwake, signals: deps.signals }),
      deps.usageFor(user).catch(() => null),
      deps.credentialsFor(user).catch(() => ({}) as { apiKey?: string; baseUrl?: string }),
    ]);
    const a = dryRun([subject], deps.policy(), now()).all[0]!;
    const words: Record<string, string> = {
      active: "running, in use",
      "connected-idle": "running, a tab is open",
      gone: "running, nobody connected",
      starting: "running, just started",
      exempt: "running (never parked)",
      "organizer-stopped": "stopped by the organizer",
      parked: "parked (stopped while unused; your files are kept)",
      down: "not running",
    };
    const parkNote = a.decision.action === "park-at" ? `parks at ${a.decision.at.toISOString().slice(11, 16)} UTC if unused` : undefined;
    const canRestart = a.status !== "organizer-stopped" && a.status !== "down";
    return mePage({
      user,
      csrf,
      prefix,
      workbench: target.endpointPath,
      status: words[a.status] ?? a.status,
      ...(parkNote ? { parkNote } : {}),
      canRestart,
      ...(canRestart ? {} : { restartNote: a.status === "organizer-stopped" ? "Stopped by the organizer: ask them to start it." : "Not running, and not parked by THON: ask an organizer." }),
      usage,
      ...(creds.apiKey ? { apiKey: creds.apiKey } : {}),
      ...(creds.baseUrl ? { baseUrl: creds.baseUrl } : {}),
      ...(deps.caCertUrl ? { caCertUrl: deps.caCertUrl } : {}),
      ...(message ? { message } : {}),
    });
  };

  p.get("/me", async (c) => {
    const s = session(c);
    if (!s || !find(s.user)) return c.html(signInPage(prefix));
    return c.html(await meView(s.user, s.csrf, c.req.query("done") === "restart" ? "Restarted." : undefined));
  });

  p.post("/me/session", async (c) => {
    if (!sameOrigin(c)) return c.html(signInPage(prefix, "This sign-in came from another site; open this page directly."), 403);
    const f = await fields(c);
    const user = f.user ?? "";
    if (!USER.test(user) || !f.password) return c.html(signInPage(prefix, "Type your participant name and your sandbox password."), 400);
    const result = await gate.check(user, f.password, client(c));
    if (!result.ok || !find(user)) {
      if (!result.ok && result.reason === "rate-limited") {
        c.header("Retry-After", String(result.retryAfterSeconds));
        return c.html(signInPage(prefix, `Too many wrong passwords; try again in ${result.retryAfterSeconds} s.`), 429);
      }
      return c.html(signInPage(prefix, "Wrong participant name or sandbox password."), 401);
    }
    const { token } = sessions.create(user);
    setCookie(c, PARTICIPANT_COOKIE, token, { path: cookiePath, httpOnly: true, secure: !deps.insecureCookies, sameSite: "Lax", maxAge: 12 * 3600 });
    return c.redirect(`${prefix}/me`, 303);
  });

  /** The session of a POST with its CSRF token, or the refusal. */
  const posted = async (c: Context) => {
    const s = session(c);
    if (!s) return { refusal: c.html(signInPage(prefix, "Sign in first."), 401) };
    const f = await fields(c);
    if (!ParticipantSessions.csrfOk(s, f.csrf) || !sameOrigin(c)) return { refusal: c.text("This form expired or came from another site; reload the page.", 403) };
    return { s };
  };

  p.post("/me/signout", async (c) => {
    const r = await posted(c);
    if (r.refusal) return r.refusal;
    sessions.end(getCookie(c, PARTICIPANT_COOKIE));
    deleteCookie(c, PARTICIPANT_COOKIE, { path: cookiePath, secure: !deps.insecureCookies });
    return c.redirect(`${prefix}/me`, 303);
  });

  // Only ever the session's own sandbox: the user comes from the session, never from the request.
  p.post("/me/restart", async (c) => {
    const r = await posted(c);
    if (r.refusal) return r.refusal;
    const user = r.s.user;
    const target = find(user);
    if (!target) return c.text("You are no longer a participant of this event.", 404);
    if (target.state === "stopped") return c.html(await meView(user, r.s.csrf, "Stopped by the organizer: ask them to start it."), 409);
    const container = await deps.docker.inspect(target.containerName);
    if (container && !container.running && deps.records.get(user)?.containerId === container.id) {
      // Parked: a restart is a wake, through the queue like any other.
      wakes.start(user);
    } else if (container?.running) {
      await deps.docker.stop(target.containerName, 10);
      await deps.docker.start(target.containerName);
    } else {
      return c.html(await meView(user, r.s.csrf, "Your sandbox is not running and THON did not park it: ask an organizer."), 409);
    }
    deps.audit.record({ actor: `participant:${user}`, action: "idle.restart", target: user, result: "ok" });
    return c.redirect(`${prefix}/me?done=restart`, 303);
  });

  app.route(mount || "/", p);
  return app;
}
