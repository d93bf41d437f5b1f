// A test-only Auth for the console API (the real one is console/auth, built
// and tested on its own): the principal comes from the X-Test-Principal
// header ("organizer" or "viewer"; "token-read" for a read-scoped API token).
// require() answers 401 without a principal and 403 when the role falls short,
// with the console's JSON error shape, as the real Auth must.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { AuditEntry, AuditLog, Auth, ConsoleEnv, Principal, Role } from "../../console/auth/types.ts";

const PRINCIPALS: Record<string, Principal> = {
  organizer: { id: "test:organizer", role: "organizer", via: "password" },
  viewer: { id: "test:viewer", role: "viewer", via: "oidc" },
  "token-read": { id: "token:t1", role: "viewer", via: "token", tokenScope: "read" },
};

const err = (code: string, message: string, fix: string) => ({ error: { code, message, fix } });

export function headerAuth(): Auth {
  const authenticate: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    const p = PRINCIPALS[c.req.header("x-test-principal") ?? ""];
    if (p) c.set("principal", p);
    await next();
  };
  return {
    authenticate,
    require(role: Role): MiddlewareHandler<ConsoleEnv> {
      return async (c, next) => {
        const p = c.get("principal");
        if (!p) return c.json(err("unauthenticated", "sign in first", "POST /api/v1/session or send a bearer token"), 401);
        if (role === "organizer" && p.role !== "organizer") return c.json(err("forbidden", `${p.id} may only read`, "ask an organizer"), 403);
        await next();
      };
    },
    routes: new OpenAPIHono<ConsoleEnv>(),
  };
}

export class MemoryAudit implements AuditLog {
  readonly entries: AuditEntry[] = [];
  record(entry: AuditEntry): void {
    this.entries.push(entry);
  }
}
