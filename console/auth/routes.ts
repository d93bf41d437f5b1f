// The sign-in routes: password session, OAuth2/OIDC redirects, API tokens and
// the audit log. JSON routes are declared with zod so they appear in the
// console's OpenAPI document.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { AUDIT_MAX_PAGE } from "./audit.ts";
import type { AuthContext } from "./auth.ts";
import { FLOW_COOKIE, SESSION_COOKIE } from "./auth.ts";
import { authError } from "./errors.ts";
import { finishFlow, startFlow } from "./oidc.ts";
import { storedPasswordHash, verifyPassword } from "./password.ts";
import type { ConsoleEnv, Principal } from "./types.ts";

const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), fix: z.string(), field: z.string().optional() }) })
  .openapi("Error");
const err = (description: string) => ({ description, content: { "application/json": { schema: errorSchema } } });
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });

const principalSchema = z
  .object({
    id: z.string().openapi({ example: "github:octocat" }),
    role: z.enum(["organizer", "viewer"]),
    via: z.enum(["password", "oidc", "token", "cli"]),
    tokenScope: z.enum(["read", "operate"]).optional(),
  })
  .openapi("Principal");
const sessionSchema = z
  .object({
    principal: principalSchema,
    /** Send as X-CSRF-Token on every change made with this session. */
    csrfToken: z.string().nullable(),
    expiresAt: z.string().nullable(),
  })
  .openapi("Session");
const signInOptionsSchema = z
  .object({
    error: errorSchema.shape.error,
    signIn: z.object({ password: z.boolean(), providers: z.array(z.object({ name: z.string(), label: z.string(), url: z.string() })) }),
  })
  .openapi("SignInOptions");
const tokenInfoSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scope: z.enum(["read", "operate"]),
    createdBy: z.string(),
    createdAt: z.string(),
    lastUsed: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi("ApiToken");
const auditEntrySchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    target: z.string().optional(),
    input: z.unknown().optional(),
    diff: z.string().optional(),
    result: z.enum(["started", "ok", "error"]),
    detail: z.string().optional(),
  })
  .openapi("AuditEntry");

const FLOW_TTL_MS = 10 * 60_000;

export function mountRoutes(app: OpenAPIHono<ConsoleEnv>, ctx: AuthContext): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "session", { type: "apiKey", in: "cookie", name: SESSION_COOKIE });
  app.openAPIRegistry.registerComponent("securitySchemes", "token", { type: "http", scheme: "bearer", description: "An API token (POST /api/v1/tokens)" });
  const signedIn: Record<string, string[]>[] = [{ session: [] }, { token: [] }];
  const redirectUri = (name: string) => `${ctx.publicUrl}/auth/oidc/${name}/callback`;

  /** 429 if this client or everyone together tried too often; else counts the attempt globally. */
  const limited = (c: Context) => {
    const address = ctx.clientAddress(c);
    const wait = Math.max(ctx.limits.perClient.retryAfter(address), ctx.limits.global.retryAfter("*"));
    if (wait > 0) {
      c.header("Retry-After", String(wait));
      ctx.logger.warn("sign-in rate limited", { client: address, retryAfterSeconds: wait });
      return authError(c, "too_many", `too many sign-in attempts; try again in ${wait} s`, "wait, then sign in with the right password");
    }
    ctx.limits.global.hit("*");
    return undefined;
  };
  const failed = (c: Context) => ctx.limits.perClient.hit(ctx.clientAddress(c));

  const signInOptions = () => ({
    password: ctx.config.password,
    providers: [...ctx.providers.values()].map((p) => ({ name: p.name, label: p.label, url: `${ctx.publicUrl}/auth/oidc/${p.name}/start` })),
  });

  const openSession = (c: Context, principal: Principal) => {
    const { id, session } = ctx.sessions.create(principal, getCookie(c, SESSION_COOKIE));
    ctx.setSessionCookie(c, id);
    return session;
  };

  // --- session -------------------------------------------------------------

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/session",
      tags: ["session"],
      summary: "Sign in with the organizer password",
      request: { body: { required: true, content: { "application/json": { schema: z.object({ password: z.string().min(1).max(1024) }).strict() } } } },
      responses: {
        200: json(sessionSchema, "Signed in; the session cookie is set (a new id at every sign-in)"),
        400: err("No password given"),
        401: err("Wrong password"),
        404: err("Password sign-in is switched off (console.signIn.password: false)"),
        429: err("Too many attempts; see Retry-After"),
      },
    }),
    async (c) => {
      if (!ctx.config.password) return authError(c, "not_found", "password sign-in is switched off", "sign in with a provider (GET /api/v1/session lists them)");
      const stop = limited(c);
      if (stop) return stop;
      const { password } = c.req.valid("json");
      const hash = storedPasswordHash(ctx.store);
      if (!hash || !(await verifyPassword(password, hash))) {
        failed(c);
        ctx.audit.record({ actor: `anonymous@${ctx.clientAddress(c)}`, action: "session.signIn", result: "error", detail: "wrong organizer password" });
        return authError(c, "unauthenticated", "wrong password", "type the organizer password again (thon console passwd sets a new one)", "password");
      }
      const principal: Principal = { id: "password", role: "organizer", via: "password" };
      const session = openSession(c, principal);
      ctx.audit.record({ actor: principal.id, action: "session.signIn", result: "ok", detail: `via password from ${ctx.clientAddress(c)}` });
      c.header("Cache-Control", "no-store");
      return c.json({ principal, csrfToken: session.csrf, expiresAt: new Date(session.expiresAt).toISOString() }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/session",
      tags: ["session"],
      summary: "Who is signed in, and the CSRF token for changes",
      security: signedIn,
      responses: {
        200: json(sessionSchema, "The caller"),
        401: json(signInOptionsSchema, "Not signed in: the ways to sign in"),
      },
    }),
    (c) => {
      c.header("Cache-Control", "no-store");
      const principal = c.get("principal");
      if (!principal) {
        return c.json(
          { error: { code: "unauthenticated", message: "not signed in", fix: "sign in with the organizer password or a provider below" }, signIn: signInOptions() },
          401,
        );
      }
      const id = principal.via === "token" ? undefined : getCookie(c, SESSION_COOKIE);
      const session = id ? ctx.sessions.find(id) : undefined;
      return c.json({ principal, csrfToken: session?.csrf ?? null, expiresAt: session ? new Date(session.expiresAt).toISOString() : null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/v1/session",
      tags: ["session"],
      summary: "Sign out",
      security: signedIn,
      middleware: [ctx.require("viewer")] as const,
      responses: { 200: json(z.object({ signedOut: z.boolean() }), "Signed out; the cookie is cleared"), 401: err("Not signed in"), 403: err("No CSRF token") },
    }),
    (c) => {
      const id = getCookie(c, SESSION_COOKIE);
      const principal = c.get("principal")!;
      if (id && principal.via !== "token") {
        ctx.sessions.end(id);
        ctx.audit.record({ actor: principal.id, action: "session.signOut", result: "ok" });
      }
      ctx.clearSessionCookie(c);
      return c.json({ signedOut: true }, 200);
    },
  );

  // --- API tokens ----------------------------------------------------------

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/tokens",
      tags: ["tokens"],
      summary: "List API tokens (never their secrets)",
      security: signedIn,
      middleware: [ctx.require("organizer")] as const,
      responses: { 200: json(z.object({ tokens: z.array(tokenInfoSchema) }), "Tokens, newest first"), 401: err("Not signed in"), 403: err("Not an organizer") },
    }),
    (c) => c.json({ tokens: ctx.tokens.list() }, 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/tokens",
      tags: ["tokens"],
      summary: "Create an API token; its secret is shown in this answer only",
      security: signedIn,
      middleware: [ctx.require("organizer")] as const,
      request: {
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z
                .object({
                  name: z.string().min(1).max(80).openapi({ example: "grafana export" }),
                  scope: z.enum(["read", "operate"], { error: 'scope must be "read" or "operate"' }),
                })
                .strict(),
            },
          },
        },
      },
      responses: {
        201: json(tokenInfoSchema.extend({ token: z.string() }), "The new token; keep `token` now, it cannot be shown again"),
        400: err("Bad name or scope"),
        401: err("Not signed in"),
        403: err("Not an organizer, or a token trying to make tokens"),
      },
    }),
    (c) => {
      const principal = c.get("principal")!;
      // A leaked token must not be able to mint more tokens.
      if (principal.via === "token") return authError(c, "forbidden", "API tokens cannot create tokens", "create it from a signed-in organizer session");
      const input = c.req.valid("json");
      const { token, info } = ctx.tokens.create({ ...input, createdBy: principal.id });
      ctx.audit.record({ actor: principal.id, action: "tokens.create", target: `token:${info.id}`, input, result: "ok" });
      c.header("Cache-Control", "no-store");
      return c.json({ ...info, token }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/v1/tokens/{id}",
      tags: ["tokens"],
      summary: "Revoke an API token",
      security: signedIn,
      middleware: [ctx.require("organizer")] as const,
      request: { params: z.object({ id: z.string().regex(/^[0-9a-f]{12}$/, { error: "id is the 12-character token id from GET /api/v1/tokens" }) }) },
      responses: { 200: json(tokenInfoSchema, "Revoked"), 400: err("Bad id"), 401: err("Not signed in"), 403: err("Not an organizer"), 404: err("No such token") },
    }),
    (c) => {
      const { id } = c.req.valid("param");
      const principal = c.get("principal")!;
      if (!ctx.tokens.revoke(id)) return authError(c, "not_found", `there is no API token "${id}"`, "list them with GET /api/v1/tokens", "id");
      ctx.audit.record({ actor: principal.id, action: "tokens.revoke", target: `token:${id}`, result: "ok" });
      return c.json(ctx.tokens.get(id)!, 200);
    },
  );

  // --- audit log -----------------------------------------------------------

  const instant = (name: string) =>
    z.iso.datetime({ offset: true, error: `${name} is a date-time such as 2026-11-28T09:00:00Z` }).optional();
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/audit",
      tags: ["audit"],
      summary: "The audit log, newest first, filtered by who, what and when",
      security: signedIn,
      middleware: [ctx.require("organizer")] as const,
      request: {
        query: z.object({
          actor: z.string().min(1).optional().openapi({ example: "github:octocat" }),
          action: z.string().min(1).optional().openapi({ description: 'Exact, or a prefix ending in "." or "*"', example: "participants.*" }),
          target: z.string().min(1).optional(),
          result: z.enum(["started", "ok", "error"], { error: 'result is "started", "ok" or "error"' }).optional(),
          since: instant("since"),
          until: instant("until"),
          before: z.coerce.number({ error: "before is the `next` id of the previous page" }).int().positive().optional(),
          limit: z.coerce.number({ error: `limit is a number from 1 to ${AUDIT_MAX_PAGE}` }).int().min(1).max(AUDIT_MAX_PAGE).optional(),
        }),
      },
      responses: {
        200: json(z.object({ entries: z.array(auditEntrySchema), next: z.number().int().optional() }), "One page of entries"),
        400: err("A bad filter"),
        401: err("Not signed in"),
        403: err("Not an organizer"),
      },
    }),
    (c) => {
      const q = c.req.valid("query");
      const page = ctx.audit.list({
        ...(q.actor !== undefined ? { actor: q.actor } : {}),
        ...(q.action !== undefined ? { action: q.action } : {}),
        ...(q.target !== undefined ? { target: q.target } : {}),
        ...(q.result !== undefined ? { result: q.result } : {}),
        ...(q.since !== undefined ? { since: Date.parse(q.since) } : {}),
        ...(q.until !== undefined ? { until: Date.parse(q.until) } : {}),
        ...(q.before !== undefined ? { before: q.before } : {}),
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
      });
      return c.json(page, 200);
    },
  );

  // --- OAuth2 / OIDC -------------------------------------------------------

  const flowCookie = { httpOnly: true, secure: true, sameSite: "Lax" as const, path: ctx.cookiePath };

  app.get("/auth/oidc/:provider/start", async (c) => {
    const provider = ctx.providers.get(c.req.param("provider"));
    if (!provider) return authError(c, "not_found", `no sign-in provider "${c.req.param("provider")}"`, "use one listed by GET /api/v1/session", "provider");
    const stop = limited(c);
    if (stop) return stop;
    try {
      const expires = ctx.now() + FLOW_TTL_MS;
      const { url, state } = await startFlow(provider, redirectUri(provider.name), (f) => {
        ctx.store.db.prepare("DELETE FROM auth_flows WHERE expires_at <= ?").run(ctx.now());
        ctx.store.db.prepare("INSERT INTO auth_flows (state, provider, verifier, nonce, expires_at) VALUES (?, ?, ?, ?, ?)").run(f.state, provider.name, f.verifier, f.nonce ?? null, expires);
      });
      // Binds the sign-in to this browser: a callback link sent by someone
      // else (login CSRF) has a state this browser never started.
      setCookie(c, FLOW_COOKIE, state, { ...flowCookie, maxAge: FLOW_TTL_MS / 1000 });
      return c.redirect(url.href, 302);
    } catch (error) {
      ctx.logger.error("sign-in provider not available", { provider: provider.name, error: ctx.redactor.error(error) });
      return authError(c, "unavailable", `sign-in with ${provider.label} is not available: ${ctx.redactor.error(error)}`, "check the provider's settings under console.signIn.providers and that its client secret is set; or sign in with the password");
    }
  });

  app.get("/auth/oidc/:provider/callback", async (c) => {
    const provider = ctx.providers.get(c.req.param("provider"));
    if (!provider) return authError(c, "not_found", `no sign-in provider "${c.req.param("provider")}"`, "use one listed by GET /api/v1/session", "provider");
    const stop = limited(c);
    if (stop) return stop;
    const state = c.req.query("state") ?? "";
    const bound = getCookie(c, FLOW_COOKIE);
    deleteCookie(c, FLOW_COOKIE, flowCookie);
    const flow = ctx.store.db.prepare("SELECT * FROM auth_flows WHERE state = ? AND provider = ?").get(state, provider.name) as
      | { state: string; verifier: string; nonce: string | null; expires_at: number }
      | undefined;
    // One use only, whatever happens next.
    if (flow) ctx.store.db.prepare("DELETE FROM auth_flows WHERE state = ?").run(state);
    if (!flow || flow.expires_at <= ctx.now() || bound !== state) {
      failed(c);
      ctx.audit.record({ actor: `anonymous@${ctx.clientAddress(c)}`, action: "session.signIn", result: "error", detail: `via ${provider.name}: unknown, expired or foreign state` });
      return authError(c, "bad_input", "this sign-in link is expired, was already used, or was started in another browser", "start the sign-in again from the console", "state");
    }
    const callbackUrl = new URL(redirectUri(provider.name));
    callbackUrl.search = new URL(c.req.url).search;
    let names: readonly string[];
    try {
      ({ names } = await finishFlow(provider, callbackUrl, flow));
    } catch (error) {
      failed(c);
      const why = ctx.redactor.error(error);
      ctx.audit.record({ actor: `anonymous@${ctx.clientAddress(c)}`, action: "session.signIn", result: "error", detail: `via ${provider.name}: ${why}` });
      ctx.logger.warn("sign-in failed", { provider: provider.name, error: why });
      return authError(c, "unauthenticated", `sign-in with ${provider.label} failed: ${why}`, "start the sign-in again; if it keeps failing, check the provider's settings");
    }
    const organizer = names.find((n) => ctx.config.organizers.includes(n));
    const viewer = names.find((n) => ctx.config.viewers.includes(n));
    const id = organizer ?? viewer;
    if (!id) {
      failed(c);
      ctx.audit.record({ actor: names[0] ?? "unknown", action: "session.signIn", result: "error", detail: `via ${provider.name}: not on the allowlist` });
      return authError(c, "forbidden", `${names[0]} is not allowed into the console`, "ask an organizer to add you to console.signIn.organizers or viewers in thon.yaml");
    }
    const principal: Principal = { id, role: organizer ? "organizer" : "viewer", via: "oidc" };
    openSession(c, principal);
    ctx.audit.record({ actor: id, action: "session.signIn", result: "ok", detail: `via ${provider.name} as ${principal.role}` });
    return c.redirect(`${ctx.publicUrl}/`, 302);
  });
}
