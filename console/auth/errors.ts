// The JSON error answer of sign-in routes and checks, the same shape as the
// console API's errors: a code, what happened, the fix, and the field if any.
import type { Context } from "hono";

export type AuthErrorCode = "bad_input" | "unauthenticated" | "forbidden" | "not_found" | "too_many" | "unavailable";

export interface AuthErrorBody {
  error: { code: AuthErrorCode; message: string; fix: string; field?: string };
}

const STATUS = {
  bad_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  too_many: 429,
  unavailable: 503,
} as const satisfies Record<AuthErrorCode, number>;

export function authError<K extends AuthErrorCode>(c: Context, code: K, message: string, fix: string, field?: string) {
  c.header("Cache-Control", "no-store");
  const body: AuthErrorBody = { error: { code, message, fix, ...(field ? { field } : {}) } };
  return c.json(body, STATUS[code] as (typeof STATUS)[K]);
}
