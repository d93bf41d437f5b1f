// The seam between the console's API (console/api) and sign-in (console/auth):
// the API asks only these questions of auth, so each side is tested alone and
// the app wires the real implementation in.
import type { MiddlewareHandler } from "hono";
import type { OpenAPIHono } from "@hono/zod-openapi";

export type Role = "organizer" | "viewer";

/** Who is calling: an organizer or viewer signed in, or a script's API token. */
export interface Principal {
  /** Stable identity: "password", "token:<id>", or the allowlist entry a provider sign-in matched ("github:octocat", "gitlab:alice", "ada@example.org"). */
  readonly id: string;
  readonly role: Role;
  /** "cli": a `thon` command run on the event host (id local:<user>); never a session or token. */
  readonly via: "password" | "oidc" | "token" | "cli";
  /** For API tokens: read (viewer) or operate (organizer). */
  readonly tokenScope?: "read" | "operate";
}

export interface ConsoleVariables {
  principal?: Principal;
}
export type ConsoleEnv = { Variables: ConsoleVariables };

export interface Auth {
  /** Reads the session cookie or bearer token and sets `principal`; a state-changing request on a cookie session without CSRF proof gets 403. */
  readonly authenticate: MiddlewareHandler<ConsoleEnv>;
  /** 401 without a principal, 403 when its role or token scope does not allow `role`. */
  require(role: Role): MiddlewareHandler<ConsoleEnv>;
  /** Sign-in routes, mounted at the root: /api/v1/session, /api/v1/tokens, /auth/oidc/... */
  readonly routes: OpenAPIHono<ConsoleEnv>;
}

/** One line of the audit log. Never holds a password or key. */
export interface AuditEntry {
  readonly actor: string;
  readonly action: string;
  readonly target?: string;
  readonly input?: unknown;
  /** The preview diff or thon.yaml diff a declarative operation applied. */
  readonly diff?: string;
  readonly result: "started" | "ok" | "error";
  readonly detail?: string;
}

export interface AuditLog {
  record(entry: AuditEntry): void;
}
