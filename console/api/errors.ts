// One JSON error shape for every answer that is not a success:
//   { "error": { "code", "message", "field"?, "fix", "details"? } }
// The field names the input (query parameter, body field, thon.yaml path)
// and the fix says what to do; 400/401/403/404/409/422/429 as they mean.
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { OpError, STATUS_OF, type OpErrorCode } from "../ops/errors.ts";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "bad_input" }),
      message: z.string().openapi({ example: "page: page starts at 1" }),
      field: z.string().optional().openapi({ example: "page" }),
      fix: z.string(),
      details: z.array(z.object({ field: z.string().optional(), message: z.string() })).optional(),
      data: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .openapi("Error");

export type ErrorBody = z.infer<typeof ErrorSchema>;

export function errorBody(code: OpErrorCode | string, message: string, fix: string, field?: string, details?: readonly { field?: string; message: string }[], data?: Record<string, unknown>): ErrorBody {
  return {
    error: {
      code,
      message,
      ...(field ? { field } : {}),
      fix,
      ...(details && details.length > 0 ? { details: [...details] } : {}),
      ...(data ? { data } : {}),
    },
  };
}

/** The 400 for input the schema rejects: the first problem's field leads, all are listed. */
export function validationError(c: Context, error: z.ZodError, where: "query" | "param" | "json" | string): Response {
  const issues = error.issues.map((i) => {
    const field = i.code === "unrecognized_keys" ? i.keys.join(", ") : z.core.toDotPath(i.path);
    const message = i.code === "unrecognized_keys" ? `unknown ${where === "query" ? "query parameter" : "field"}${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => `"${k}"`).join(", ")}` : i.message;
    return { field, message };
  });
  const first = issues[0]!;
  const fix = error.issues[0]!.code === "unrecognized_keys" ? "remove it; the OpenAPI document at /api/openapi.json lists the parameters" : "send a value as the message says";
  return c.json(errorBody("bad_input", `${first.field ? `${first.field}: ` : ""}${first.message}`, fix, first.field || where, issues), 400);
}

export function errorResponse(c: Context, err: unknown): Response {
  if (err instanceof OpError) {
    return c.json(errorBody(err.code, err.message, err.fix, err.field, err.details, err.data), err.status as ContentfulStatusCode);
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    const code = (Object.entries(STATUS_OF).find(([, s]) => s === status)?.[0] ?? "failed") as OpErrorCode;
    const malformed = status === 400 && /JSON/i.test(err.message);
    return c.json(
      errorBody(code, malformed ? "the body is not valid JSON" : err.message || `HTTP ${status}`, malformed ? 'send a JSON object with Content-Type: application/json, e.g. {"confirm": false}' : "see the message", malformed ? "body" : undefined),
      status as ContentfulStatusCode,
    );
  }
  // Never echo an unexpected error's text: it may hold a path or a secret. The log has it.
  console.error("console: unexpected error", err);
  return c.json(errorBody("failed", "the console failed to answer this request", "see the console's log (journalctl -u thon-console)"), 500);
}
