// The console's sign-in, behind the `Auth` seam (types.ts): who is calling
// (session cookie or API token), may they (role, token scope, CSRF), and the
// routes that sign in and out, manage tokens and read the audit log.
import { timingSafeEqual } from "node:crypto";
import { getConnInfo } from "@hono/node-server/conninfo";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { ConsoleStore } from "../store/index.ts";
import { SqliteAuditLog } from "./audit.ts";
import { signInSchema, type SignInConfig, type SignInInput } from "../../infra/config/signIn.ts";
import { authError } from "./errors.ts";
import { providersFrom, type Provider, type SecretSources } from "./oidc.ts";
import { Redactor, redactingLogger, type Logger } from "./redact.ts";
import { SlidingWindow } from "./rateLimit.ts";
import { mountRoutes } from "./routes.ts";
import { SessionStore } from "./sessions.ts";
import { TokenStore } from "./tokens.ts";
import type { Auth, ConsoleEnv, Principal, Role } from "./types.ts";

export const SESSION_COOKIE = "thon_console_session";
export const FLOW_COOKIE = "thon_console_signin";
export const CSRF_HEADER = "X-CSRF-Token";

export interface AuthOptions {
  readonly store: ConsoleStore;
  /** `console.signIn` from thon.yaml (parsed here if given raw). */
  readonly config?: SignInInput | SignInConfig;
  /** The console's address as the browser sees it, e.g. https://thon.example.org/_thon (OIDC callbacks and redirects). */
  readonly publicUrl: string;
  /** Path the session cookie is sent to (the console's reserved path behind nginx, so participants' sandboxes never see it). Default "/". */
  readonly cookiePath?: string;
  /** Believe X-Real-IP / X-Forwarded-For for the client address (only behind the event's nginx). */
  readonly trustForwardedFor?: boolean;
  readonly secrets?: SecretSources;
  readonly redactor?: Redactor;
  readonly logger?: Logger;
  /** Clock (epoch ms), for tests of expiry and rate limits. */
  readonly now?: () => number;
}

export interface ConsoleAuth extends Auth {
  readonly audit: SqliteAuditLog;
  readonly sessions: SessionStore;
  readonly tokens: TokenStore;
  readonly redactor: Redactor;
  readonly logger: Logger;
  readonly config: SignInConfig;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const SIGN_IN_PATH = "/api/v1/session";

/** @internal shared by the routes */
export interface AuthContext {
  readonly store: ConsoleStore;
  readonly config: SignInConfig;
  readonly sessions: SessionStore;
  readonly tokens: TokenStore;
  readonly audit: SqliteAuditLog;
  readonly redactor: Redactor;
  readonly logger: Logger;
  readonly providers: Map<string, Provider>;
  readonly limits: { perClient: SlidingWindow; global: SlidingWindow };
  readonly publicUrl: string;
  readonly cookiePath: string;
  readonly now: () => number;
  clientAddress(c: Context): string;
  setSessionCookie(c: Context, id: string): void;
  clearSessionCookie(c: Context): void;
  require(role: Role): MiddlewareHandler<ConsoleEnv>;
}

export function createAuth(options: AuthOptions): ConsoleAuth {
  const now = options.now ?? Date.now;
  const config = signInSchema.parse(options.config ?? {});
  const redactor = options.redactor ?? new Redactor();
  const logger = options.logger ?? redactingLogger(redactor);
  const sessions = new SessionStore(options.store, { idleMs: config.session.idleMinutes * 60_000, absoluteMs: config.session.maxHours * 3_600_000 }, now);
  const tokens = new TokenStore(options.store, now);
  const audit = new SqliteAuditLog(options.store, redactor, now);
  // Rows a previous run left behind: sessions and unfinished sign-ins that have expired.
  sessions.purge();
  options.store.db.prepare("DELETE FROM auth_flows WHERE expires_at <= ?").run(now());
  const cookiePath = options.cookiePath ?? "/";
  const publicUrl = options.publicUrl.replace(/\/+$/, "");
  const windowMs = config.rateLimit.windowSeconds * 1000;

  const clientAddress = (c: Context): string => {
    if (options.trustForwardedFor) {
      const real = c.req.header("X-Real-IP")?.trim();
      // nginx appends the address it saw: the last entry is the one to believe.
      const forwarded = c.req.header("X-Forwarded-For")?.split(",").pop()?.trim();
      if (real || forwarded) return (real || forwarded)!;
    }
    try {
      return getConnInfo(c).remote.address ?? "local";
    } catch {
      return "local"; // in-process requests and unix sockets carry no address
    }
  };

  const require = (role: Role): MiddlewareHandler<ConsoleEnv> =>
    async (c, next) => {
      const principal = c.get("principal");
      if (!principal) return authError(c, "unauthenticated", "not signed in, or the session has ended", `sign in (POST ${SIGN_IN_PATH}) or send an API token as Authorization: Bearer <token>`);
      if (role === "organizer" && principal.role !== "organizer") {
        return principal.via === "token"
          ? authError(c, "forbidden", "this API token is scoped read; the operation needs an operate token", "have an organizer create a token with scope operate")
          : authError(c, "forbidden", `${principal.id} is a viewer; this needs an organizer`, "ask an organizer to do it, or to list you under console.signIn.organizers");
      }
      await next();
    };

  const ctx: AuthContext = {
    store: options.store,
    config,
    sessions,
    tokens,
    audit,
    redactor,
    logger,
    providers: providersFrom(config, options.secrets ?? {}),
    limits: {
      perClient: new SlidingWindow({ attempts: config.rateLimit.perClient, windowMs }, now),
      global: new SlidingWindow({ attempts: config.rateLimit.global, windowMs }, now),
    },
    publicUrl,
    cookiePath,
    now,
    clientAddress,
    setSessionCookie: (c, id) =>
      setCookie(c, SESSION_COOKIE, id, {
        httpOnly: true,
        secure: true,
        sameSite: "Lax",
        path: cookiePath,
        // The cookie lives as long as the session could; the server decides sooner.
        maxAge: config.session.maxHours * 3600,
      }),
    clearSessionCookie: (c) => deleteCookie(c, SESSION_COOKIE, { path: cookiePath, secure: true, httpOnly: true, sameSite: "Lax" }),
    require,
  };

  const authenticate: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    const header = c.req.header("Authorization");
    if (header !== undefined) {
      // A script's token: no cookie involved, so no CSRF check either.
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const info = match ? tokens.verify(match[1]!) : undefined;
      if (!info) return authError(c, "unauthenticated", "the API token is unknown or revoked", "create a new token (POST /api/v1/tokens from a signed-in session) and send it as Authorization: Bearer <token>");
      const principal: Principal = { id: `token:${info.id}`, role: info.scope === "operate" ? "organizer" : "viewer", via: "token", tokenScope: info.scope };
      c.set("principal", principal);
      return next();
    }
    const id = getCookie(c, SESSION_COOKIE);
    const session = id ? sessions.find(id) : undefined;
    if (session) {
      const signingIn = c.req.method === "POST" && c.req.path === SIGN_IN_PATH;
      if (!SAFE_METHODS.has(c.req.method) && !signingIn && !sameSecret(c.req.header(CSRF_HEADER), session.csrf)) {
        return authError(c, "forbidden", `a change from a browser session needs the ${CSRF_HEADER} header`, `send the csrfToken from GET ${SIGN_IN_PATH} as ${CSRF_HEADER}`, CSRF_HEADER);
      }
      c.set("principal", session.principal);
    }
    return next();
  };

  const routes = new OpenAPIHono<ConsoleEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        const field = issue?.path.map(String).join(".") || undefined;
        return authError(c, "bad_input", `${field ?? "the request"}: ${redactor.text(issue?.message ?? "invalid")}`, "correct that field and send again", field);
      }
    },
  });
  mountRoutes(routes, ctx);

  return { authenticate, require, routes, audit, sessions, tokens, redactor, logger, config };
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
