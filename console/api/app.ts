// The console's HTTP app: REST under /api/v1, built from the operations
// (console/ops) so the request schemas, the validation and the OpenAPI 3.1
// document at /api/openapi.json are the same zod schemas; a docs page at
// /api/docs (swagger-ui, served from this process); /healthz open to all.
// Sign-in comes in through the Auth seam (console/auth/types.ts).
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { streamSSE } from "hono/streaming";
import type { AuditLog, Auth, ConsoleEnv } from "../auth/types.ts";
import type { OpContext, OpServices } from "../ops/context.ts";
import type { Operation } from "../ops/define.ts";
import { OpError } from "../ops/errors.ts";
import * as ops from "../ops/operations.ts";
import type { Submitted } from "../ops/operations.ts";
import { summary } from "../apply/queue.ts";
import { docsRoutes } from "./docs.ts";
import type { PagesOptions } from "../pages/deps.ts";
import { mountPages } from "../pages/routes.ts";
import { errorBody, errorResponse, ErrorSchema, validationError } from "./errors.ts";

export interface ConsoleAppOptions {
  readonly auth: Auth;
  readonly audit: AuditLog;
  readonly ops: Omit<OpServices, "audit">;
  /** The pages at `/` (console/pages); their optional parts (credentials, usage, audit list, health checks). */
  readonly pages?: PagesOptions;
}

type AnyObject = z.ZodObject<z.ZodRawShape>;

const ERRORS = {
  400: "Bad input: the body names the field and the fix",
  401: "Not signed in",
  403: "Signed in, but the role or token scope does not allow this (or a missing CSRF proof)",
  404: "No such participant, group or operation",
  409: "Conflicts with thon.yaml or with an update already running",
  422: "The change would leave thon.yaml invalid; nothing was written",
  429: "Too many operations are queued",
} as const;

const errorResponses = (codes: readonly (keyof typeof ERRORS)[]) =>
  Object.fromEntries(codes.map((s) => [s, { description: ERRORS[s], content: { "application/json": { schema: ErrorSchema } } }]));

const Anything = z.record(z.string(), z.unknown()).openapi("Result");

interface Binding {
  readonly op: Operation;
  readonly method: "get" | "post";
  readonly path: string;
  readonly params?: readonly string[];
  readonly tag: string;
}

export function createConsoleApp(options: ConsoleAppOptions): OpenAPIHono<ConsoleEnv> {
  const { auth } = options;
  const services: OpServices = { ...options.ops, audit: options.audit };
  const app = new OpenAPIHono<ConsoleEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return validationError(c, result.error as unknown as z.ZodError, result.target);
      return undefined;
    },
  });
  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) => c.json(errorBody("not_found", `no route ${c.req.method} ${c.req.path}`, "see /api/docs for the API's paths"), 404));
  app.use("*", secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", "data:"], frameAncestors: ["'none'"] } }));

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.use("/api/*", auth.authenticate);
  app.route("/", auth.routes);
  mountPages(app, { ...options.pages, auth, services });

  const ctxOf = (c: Context<ConsoleEnv>): OpContext => {
    const principal = c.get("principal");
    if (!principal) throw new OpError("unauthenticated", "sign in first", "POST /api/v1/session, or send an API token as a bearer token");
    return { ...services, principal };
  };

  const bind = ({ op, method, path, params = [], tag }: Binding) => {
    const schema = op.input as unknown as AnyObject;
    const keys = Object.fromEntries(params.map((p) => [p, true as const]));
    const rest = params.length > 0 ? schema.omit(keys) : schema;
    const hasRest = Object.keys(rest.shape).length > 0;
    const declarative = op.kind === "declarative" || op.name === "participants.bulk";
    const route = createRoute({
      method,
      path: path.replace(/:(\w+)/g, "{$1}"),
      tags: [tag],
      operationId: op.name,
      summary: op.summary,
      description: `Operation \`${op.name}\` (${op.kind}); role: ${op.role}.`,
      middleware: [auth.require(op.role)] as MiddlewareHandler[],
      request: {
        ...(params.length > 0 ? { params: schema.pick(keys) } : {}),
        ...(method === "get" ? { query: rest } : {}),
        ...(hasRest && method === "post" ? { body: { content: { "application/json": { schema: rest } }, required: true } } : {}),
      },
      responses: {
        200: { description: declarative ? "The operation finished (with wait: true)" : "OK", content: { "application/json": { schema: Anything } } },
        ...(declarative ? { 202: { description: "Queued: follow it at /api/v1/operations/{id}/events", content: { "application/json": { schema: Anything } } } } : {}),
        ...errorResponses([400, 401, 403, 404, 409, 422, 429]),
      },
    });
    app.openapi(route, (async (c: Context<ConsoleEnv>) => {
      const v = c.req as unknown as { valid(t: string): Record<string, unknown> | undefined };
      const input = { ...(params.length > 0 ? v.valid("param") : {}), ...(method === "get" ? v.valid("query") : hasRest ? v.valid("json") : {}) };
      const out = (await op.run(ctxOf(c), input)) as unknown;
      if (declarative && isSubmitted(out)) {
        const { done: _done, ...body } = out;
        const record = input.wait === true ? await out.done : undefined;
        if (record && record.state === "failed") return errorResponse(c, opErrorOf(record.error!));
        const operation = record ? summary(record) : out.operation;
        c.header("Location", `/api/v1/operations/${operation.id}`);
        const result = record && typeof record.result === "object" && record.result !== null ? (record.result as Record<string, unknown>) : {};
        return c.json({ ...body, ...result, operation }, record ? 200 : 202);
      }
      return c.json(out as Record<string, unknown>, 200);
    }) as never);
  };

  const P = "/api/v1/participants";
  const G = "/api/v1/groups";
  const bindings: Binding[] = [
    { op: ops.eventGet, method: "get", path: "/api/v1/event", tag: "event" },
    { op: ops.participantsList, method: "get", path: P, tag: "participants" },
    { op: ops.participantAdd, method: "post", path: P, tag: "participants" },
    { op: ops.participantsBulk, method: "post", path: `${P}/bulk`, tag: "participants" },
    { op: ops.participantGet, method: "get", path: `${P}/:name`, params: ["name"], tag: "participants" },
    { op: ops.participantLogs, method: "get", path: `${P}/:name/logs`, params: ["name"], tag: "participants" },
    { op: ops.participantRemove, method: "post", path: `${P}/:name/remove`, params: ["name"], tag: "participants" },
    { op: ops.participantRename, method: "post", path: `${P}/:name/rename`, params: ["name"], tag: "participants" },
    { op: ops.participantMove, method: "post", path: `${P}/:name/move`, params: ["name"], tag: "participants" },
    { op: ops.participantStop, method: "post", path: `${P}/:name/stop`, params: ["name"], tag: "participants" },
    { op: ops.participantStart, method: "post", path: `${P}/:name/start`, params: ["name"], tag: "participants" },
    { op: ops.participantResetPassword, method: "post", path: `${P}/:name/reset-password`, params: ["name"], tag: "participants" },
    { op: ops.participantRecreate, method: "post", path: `${P}/:name/recreate`, params: ["name"], tag: "participants" },
    { op: ops.participantRestart, method: "post", path: `${P}/:name/restart`, params: ["name"], tag: "participants" },
    { op: ops.groupsList, method: "get", path: G, tag: "groups" },
    { op: ops.nodesList, method: "get", path: "/api/v1/nodes", tag: "nodes" },
    { op: ops.groupAdd, method: "post", path: G, tag: "groups" },
    { op: ops.groupRemove, method: "post", path: `${G}/:name/remove`, params: ["name"], tag: "groups" },
    { op: ops.groupRename, method: "post", path: `${G}/:name/rename`, params: ["name"], tag: "groups" },
    { op: ops.groupStop, method: "post", path: `${G}/:name/stop`, params: ["name"], tag: "groups" },
    { op: ops.groupStart, method: "post", path: `${G}/:name/start`, params: ["name"], tag: "groups" },
    { op: ops.operationsList, method: "get", path: "/api/v1/operations", tag: "operations" },
    { op: ops.operationGet, method: "get", path: "/api/v1/operations/:id", params: ["id"], tag: "operations" },
    { op: ops.lemonadeGet, method: "get", path: "/api/v1/lemonade", tag: "lemonade" },
    { op: ops.lemonadeLoad, method: "post", path: "/api/v1/lemonade/load", tag: "lemonade" },
    { op: ops.lemonadeUnload, method: "post", path: "/api/v1/lemonade/unload", tag: "lemonade" },
    { op: ops.gatewayGet, method: "get", path: "/api/v1/gateway", tag: "gateway" },
  ];
  for (const b of bindings) bind(b);

  // --- streams (Server-Sent Events) ---------------------------------------------------

  const sseResponse = { 200: { description: "text/event-stream", content: { "text/event-stream": { schema: z.string() } } }, ...errorResponses([400, 401, 403, 404]) };

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/operations/{id}/events",
      tags: ["operations"],
      operationId: "operations.events",
      summary: "An operation's progress: the engine's events (SSE id = the engine's sequence; Last-Event-ID resumes), then `result`",
      middleware: [auth.require("viewer")] as MiddlewareHandler[],
      request: { params: z.object({ id: z.uuid({ error: "id must be an operation id (a UUID)" }) }), headers: z.object({ "last-event-id": z.string().regex(/^-?\d+$/, { error: "Last-Event-ID must be a number (an event's id)" }).optional() }) },
      responses: sseResponse,
    }),
    ((c: Context<ConsoleEnv>) => {
      const { id } = (c.req as unknown as { valid(t: "param"): { id: string } }).valid("param");
      if (!services.queue.get(id)) throw new OpError("not_found", `there is no operation ${id}`, "list them with GET /api/v1/operations", "id");
      const last = c.req.header("last-event-id");
      return streamSSE(c, async (stream) => {
        const abort = new AbortController();
        stream.onAbort(() => abort.abort());
        for await (const item of services.queue.stream(id, last === undefined ? undefined : Number(last), abort.signal)) {
          await stream.writeSSE({ id: String(item.id), event: item.event, data: JSON.stringify(item.data) });
        }
      });
    }) as never,
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/participants/{name}/logs/stream",
      tags: ["participants"],
      operationId: "participants.logs.follow",
      summary: "Follow a participant's log (SSE, one `line` event per log line)",
      middleware: [auth.require("viewer")] as MiddlewareHandler[],
      request: {
        params: (ops.participantLogs.input as unknown as AnyObject).pick({ name: true }),
        query: z.object({ tail: z.coerce.number().int().min(0).max(1000, { error: "tail is at most 1000" }).default(20) }).strict(),
      },
      responses: sseResponse,
    }),
    (async (c: Context<ConsoleEnv>) => {
      const v = c.req as unknown as { valid(t: "param"): { name: string }; valid(t: "query"): { tail: number } };
      const { name } = v.valid("param");
      const { tail } = v.valid("query");
      const ctx = ctxOf(c);
      const p = ctx.project.participant(name);
      const listed = await ctx.docker.list(ctx.project.plan().event);
      const id = listed.find((x) => x.user === p.name)?.id;
      if (!id) throw new OpError("not_found", `${name} has no container`, "apply thon.yaml to create it", "name");
      return streamSSE(c, async (stream) => {
        const abort = new AbortController();
        stream.onAbort(() => abort.abort());
        let n = 0;
        for await (const line of ctx.docker.follow(id, tail, abort.signal)) await stream.writeSSE({ id: String(n++), event: "line", data: line });
      });
    }) as never,
  );

  docsRoutes(app, auth);
  return app;
}

function isSubmitted(x: unknown): x is Submitted & Record<string, unknown> {
  return typeof x === "object" && x !== null && "done" in x && "operation" in x;
}

function opErrorOf(e: { code: string; message: string; fix: string; field?: string; data?: Record<string, unknown> }): OpError {
  return new OpError(e.code as ConstructorParameters<typeof OpError>[0], e.message, e.fix, e.field, [], e.data);
}

/** The OpenAPI 3.1 document, as /api/openapi.json serves it. */
export function openApiDocument(app: OpenAPIHono<ConsoleEnv>) {
  return app.getOpenAPI31Document(OPENAPI_INFO);
}

export const OPENAPI_INFO = {
  openapi: "3.1.0",
  info: { title: "THON console API", version: "1", description: "The organizer console of THON as code: participants, groups, operations, Lemonade and the AI gateway. Every operation is also a `thon` subcommand." },
} as const;
