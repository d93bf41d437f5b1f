// The pages, mounted on the console's app at `/` (behind nginx: the
// console's reserved path). An anonymous visitor gets the sign-in form;
// signed in, `/` is the participants table. Actions go to the REST API
// (console/api) from app.js with the session's CSRF token, so a viewer's
// missing buttons and the API's 403 are the same rule.
import { swarmTargetOf } from "../../infra/config/swarmTarget.ts";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { html } from "hono/html";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { Auth, ConsoleEnv, Principal } from "../auth/types.ts";
import { errorResponse } from "../api/errors.ts";
import type { OpServices } from "../ops/context.ts";
import { OpError } from "../ops/errors.ts";
import * as ops from "../ops/operations.ts";
import { runOp } from "../ops/operations.ts";
import { defineOp } from "../ops/define.ts";
import { summary } from "../apply/queue.ts";
import { planEvent } from "../../infra/plan.ts";
import { declarativeOptions } from "../ops/operations.ts";
import { usageChart, usageCsv, usageReport } from "../usage/report.ts";
import type { PagesOptions } from "./deps.ts";
import { eventPage, problemsFragment, validateText } from "./event.ts";
import { budgetsOf, gatewayPage } from "./gateway.ts";
import { groupsPage } from "./groups.ts";
import { defaultChecks, runChecks } from "./healthChecks.ts";
import { shell, isOrganizer, type Html } from "./layout.ts";
import { LiveHub } from "./live.ts";
import { llmPage } from "./llm.ts";
import { activityPage, activityTable, cardsPage, healthPage, signInPage } from "./misc.ts";
import { participantPage, statusBlock, type ParticipantView } from "./participant.ts";
import { participantRow, participantsPage } from "./participants.ts";

const require = createRequire(import.meta.url);
const STATIC_DIR = join(import.meta.dirname, "static");

/** Files the pages load, read once: this console's own, and htmx from node_modules (vendored, no CDN). */
function staticFiles(): Map<string, { body: string; type: string }> {
  const htmx = join(dirname(require.resolve("htmx.org/package.json")), "dist", "htmx.min.js");
  return new Map([
    ["app.js", { body: readFileSync(join(STATIC_DIR, "app.js"), "utf8"), type: "text/javascript; charset=utf-8" }],
    ["app.css", { body: readFileSync(join(STATIC_DIR, "app.css"), "utf8"), type: "text/css; charset=utf-8" }],
    ["htmx.min.js", { body: readFileSync(htmx, "utf8"), type: "text/javascript; charset=utf-8" }],
  ]);
}

/** The full thon.yaml replaced by the Event page's editor: previewed, then applied like any declarative change. */
export const eventEdit = defineOp({
  name: "event.edit",
  kind: "declarative",
  role: "organizer",
  summary: "Replace thon.yaml with an edited text (validated whole; preview, then apply)",
  input: z.object({ text: z.string({ error: "text must be the whole thon.yaml" }).min(1, { error: "text is empty" }).max(2_000_000, { error: "text is at most 2 MB" }), ...declarativeOptions }).strict(),
  async run(ctx, i) {
    const { record, done } = ctx.declarative.submit({ action: "event.edit", edit: () => i.text }, { confirm: i.confirm, actor: ctx.principal.id, ifBusy: i.ifBusy });
    if (i.wait) await done;
    return { operation: summary(record), done };
  },
});

export interface MountPagesOptions extends PagesOptions {
  readonly auth: Auth;
  readonly services: OpServices;
}

export function mountPages(app: OpenAPIHono<ConsoleEnv>, o: MountPagesOptions): { hub: LiveHub } {
  const { auth, services } = o;
  const files = staticFiles();
  const hub = new LiveHub(services, o.liveIntervalMs ?? 1000);
  const checks = o.healthChecks ?? defaultChecks();
  const passwords = () => o.credentials !== undefined && services.project.event().sandbox.auth === "password";

  for (const path of ["/", "/participants/*", "/groups", "/event", "/llm", "/gateway", "/activity", "/health", "/cards", "/pages/*"]) app.use(path, auth.authenticate);

  app.get("/static/:file", (c) => {
    const f = files.get(c.req.param("file"));
    if (!f) return c.text("not found", 404);
    return c.body(f.body, 200, { "Content-Type": f.type, "Cache-Control": "no-cache" });
  });

  const who = (c: Context<ConsoleEnv>) => c.get("principal");
  const ctxOf = (p: Principal) => ({ ...services, principal: p });
  const eventName = () => {
    try {
      return services.project.event().name;
    } catch {
      return undefined;
    }
  };
  const page = (c: Context<ConsoleEnv>, title: string, active: string, body: Html, bodyData?: Record<string, string>) =>
    c.html(shell({ title, active, principal: who(c), ...(eventName() ? { event: eventName()! } : {}), ...(bodyData ? { bodyData } : {}) }, body));
  /** Pages other than `/` send an anonymous visitor to the sign-in form. */
  const signedIn = (c: Context<ConsoleEnv>): Principal | Response => who(c) ?? c.redirect("/", 303);
  const guard = <T>(fn: (c: Context<ConsoleEnv>, p: Principal) => T) => async (c: Context<ConsoleEnv>) => {
    const p = signedIn(c);
    if (p instanceof Response) return p;
    try {
      return await fn(c, p);
    } catch (err) {
      if (err instanceof OpError && err.code === "invalid_config") return page(c, "thon.yaml is not valid", "", pageError(err));
      if (err instanceof OpError && err.code === "not_found") return c.html(shell({ title: "Not found", active: "", principal: p }, pageError(err)), 404);
      throw err;
    }
  };

  // --- pages ------------------------------------------------------------------------

  app.get("/", async (c) => {
    const p = who(c);
    if (!p) return c.html(shell({ title: "Sign in", active: "/", principal: undefined }, signInPage()));
    // thon.yaml is read once for the whole page (a 300-participant file takes tens of ms to validate).
    const event = services.project.event();
    const plan = planEvent(event);
    const statuses = await hub.statuses();
    const rows = plan.participants.map((x) => ({ name: x.name, group: x.group, declared: x.state, url: x.url, status: statuses.get(x.name) ?? null }));
    hub.seen(rows);
    const q = c.req.query();
    const body = participantsPage({ rows, groups: event.groups.map((g) => g.name), organizer: isOrganizer(p), passwords: o.credentials !== undefined && event.sandbox.auth === "password", nodes: swarmTargetOf(event) !== undefined, query: { ...(q.q ? { q: q.q } : {}), ...(q.group ? { group: q.group } : {}), ...(q.status ? { status: q.status } : {}) } });
    return c.html(shell({ title: "Participants", active: "/", principal: p, event: event.name, bodyData: { live: "rows" } }, body));
  });

  app.get(
    "/participants/:name",
    guard(async (c, p) => {
      const v = (await runOp(ops.participantGet, ctxOf(p), { name: c.req.param("name"), tail: "200" })) as unknown as ParticipantView;
      return page(c, v.name, "/", participantPage(v, { organizer: isOrganizer(p), passwords: passwords(), groups: services.project.event().groups.map((g) => g.name) }), { live: "status", name: v.name });
    }),
  );

  app.get(
    "/groups",
    guard(async (c, p) => {
      const g = await runOp(ops.groupsList, ctxOf(p), {});
      return page(c, "Groups", "/groups", groupsPage(g.items, { organizer: isOrganizer(p) }));
    }),
  );

  app.get(
    "/event",
    guard((c, p) => page(c, "Event", "/event", eventPage({ text: services.project.readText(), eventFile: services.project.eventFile, mode: safeMode(services), organizer: isOrganizer(p) }))),
  );

  app.get(
    "/llm",
    guard(async (c, p) => page(c, "LLM (Lemonade)", "/llm", llmPage(await runOp(ops.lemonadeGet, ctxOf(p), {}), isOrganizer(p)))),
  );

  const usage = async () => {
    if (!o.usage) return null;
    const series = await o.usage.store.series();
    const gw = services.gateway ? await services.gateway.overview() : null;
    const budgets = gw ? budgetsOf(gw.consumers, gw.routes) : new Map();
    const plan = services.project.plan();
    const groupOf = (consumer: string) => plan.participants.find((x) => x.name === consumer)?.group ?? (services.project.event().groups.some((g) => g.name === consumer) ? consumer : "(other)");
    return { series, budgets, gw, groupOf, report: usageReport(series, groupOf, budgets) };
  };

  app.get(
    "/gateway",
    guard(async (c, p) => {
      const g = (await runOp(ops.gatewayGet, ctxOf(p), {})) as { routes: Parameters<typeof budgetsOf>[1]; consumers: Parameters<typeof budgetsOf>[0] };
      const u = await usage();
      const col = o.usage?.collector;
      return page(
        c,
        "Gateway (APISIX)",
        "/gateway",
        gatewayPage({
          routes: g.routes,
          consumers: g.consumers,
          budgets: budgetsOf(g.consumers, g.routes),
          report: u?.report ?? null,
          chart: u ? usageChart(u.series, u.groupOf) : "",
          scrape: col ? { url: col.url, lastError: col.lastError, lastScrape: col.lastScrape } : null,
        }),
      );
    }),
  );

  app.get(
    "/pages/gateway/usage.csv",
    guard(async (c) => {
      const u = await usage();
      if (!u) throw new OpError("not_found", "usage collection is not configured", "run the console with the gateway enabled");
      return c.body(usageCsv(u.report), 200, { "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": `attachment; filename="token-usage.csv"` });
    }),
  );

  const auditFilter = z.object({
    who: z.string().max(200).optional(),
    what: z.string().max(200).optional(),
    since: z.string().max(40).optional(),
    until: z.string().max(40).optional(),
    partial: z.string().optional(),
  });
  app.get(
    "/activity",
    guard(async (c) => {
      const raw = auditFilter.safeParse(c.req.query());
      const f = raw.success ? raw.data : {};
      const filter = {
        ...(f.who ? { who: f.who } : {}),
        ...(f.what ? { what: f.what } : {}),
        ...(f.since ? { since: toIso(f.since) } : {}),
        ...(f.until ? { until: toIso(f.until, true) } : {}),
        limit: 500,
      };
      const rows = o.auditList ? await o.auditList(filter) : null;
      if (c.req.query("partial")) return c.html(rows ? activityTable(rows) : "");
      return page(c, "Activity", "/activity", activityPage(rows, filter));
    }),
  );

  app.get(
    "/health",
    guard(async (c) => page(c, "Health", "/health", healthPage(await runChecks(checks, services)))),
  );

  app.get(
    "/cards",
    guard(async (c, p) => {
      if (!isOrganizer(p)) throw new OpError("forbidden", "only organizers see passwords", "ask an organizer");
      if (!o.credentials) throw new OpError("not_found", "credentials are not readable from this console", "use thon credentials --html");
      const names = (c.req.query("names") ?? "").split(",").filter(Boolean);
      const creds = await o.credentials.read();
      services.audit.record({ actor: p.id, action: "participants.credentials.print", target: names.join(","), result: "ok" });
      return page(c, "Credential cards", "/", cardsPage(creds, names));
    }),
  );

  // --- fragments and streams --------------------------------------------------------

  app.post("/pages/event/validate", auth.require("viewer") as MiddlewareHandler, async (c) => {
    const form = await c.req.parseBody();
    const text = typeof form.text === "string" ? form.text : "";
    return c.html(problemsFragment(validateText(text, services.project.eventFile)));
  });

  app.get("/pages/live", auth.require("viewer") as MiddlewareHandler, (c) => {
    const p = (c as Context<ConsoleEnv>).get("principal")!;
    const rowOptions = { organizer: isOrganizer(p), passwords: passwords(), nodes: swarmTargetOf(services.project.event()) !== undefined };
    return streamSSE(c, async (stream) => {
      let n = 0;
      const queue: string[] = [];
      let wake: (() => void) | undefined;
      const off = hub.subscribe(({ rows }) => {
        for (const r of rows) queue.push(JSON.stringify({ name: r.name, row: String(participantRow(r, rowOptions)), status: String(statusBlock(r)) }));
        wake?.();
      });
      const closed = new Promise<void>((res) => stream.onAbort(() => res()));
      try {
        await stream.writeSSE({ event: "ready", data: "{}" });
        for (;;) {
          while (queue.length > 0) await stream.writeSSE({ id: String(n++), event: "row", data: queue.shift()! });
          const more = new Promise<void>((res) => (wake = res));
          if ((await Promise.race([more.then(() => "more"), closed.then(() => "closed")])) === "closed") break;
        }
      } finally {
        off();
      }
    });
  });

  // --- API additions the pages use ---------------------------------------------------

  const json = (fn: (c: Context<ConsoleEnv>, p: Principal) => Promise<unknown>) => async (c: Context<ConsoleEnv>) => {
    try {
      return c.json((await fn(c, c.get("principal")!)) as Record<string, unknown>);
    } catch (err) {
      return errorResponse(c, err);
    }
  };

  app.post(
    "/api/v1/event/validate",
    auth.require("viewer") as MiddlewareHandler,
    json(async (c) => {
      const body = (await c.req.json().catch(() => null)) as { text?: unknown } | null;
      if (!body || typeof body.text !== "string") throw new OpError("bad_input", "text: must be the thon.yaml text", 'send {"text": "..."}', "text");
      return validateText(body.text, services.project.eventFile);
    }),
  );

  app.get("/api/v1/event/file", auth.require("viewer") as MiddlewareHandler, json(async () => ({ file: services.project.eventFile, text: services.project.readText(), changes: safeMode(services) })));

  // As the API's declarative routes: 202 with the operation, or with wait: true the result (or its error).
  app.post("/api/v1/event/file", auth.require("organizer") as MiddlewareHandler, async (c: Context<ConsoleEnv>) => {
    try {
      const body = (await c.req.json().catch(() => null)) as { wait?: unknown } | null;
      const { done, operation } = await runOp(eventEdit, ctxOf(c.get("principal")!), body);
      c.header("Location", `/api/v1/operations/${operation.id}`);
      if (body?.wait !== true) return c.json({ operation }, 202);
      const record = await done;
      if (record.state === "failed") {
        const e = record.error!;
        throw new OpError(e.code as ConstructorParameters<typeof OpError>[0], e.message, e.fix, e.field, [], e.data);
      }
      return c.json({ ...(record.result as Record<string, unknown>), operation: summary(record) }, 200);
    } catch (err) {
      return errorResponse(c, err);
    }
  });

  /** The password (and API key) of one participant, read from the stack's outputs; organizers only, audited. */
  const participantCredentials = defineOp({
    name: "participants.credentials",
    kind: "read",
    role: "organizer",
    summary: "A participant's password and API key, from the stack's outputs (audited)",
    input: z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: "name must be a participant name" }) }).strict(),
    async run(ctx, { name }) {
      ctx.project.participant(name);
      if (!o.credentials) throw new OpError("unavailable", "credentials are not readable from this console", "run thon credentials on the host");
      const creds = await o.credentials.read();
      const row = creds.rows.find((r) => r.name === name);
      if (!row) throw new OpError("not_found", `${name} has no credentials in the stack's outputs yet`, "apply thon.yaml first (pulumi up)", "name");
      ctx.audit.record({ actor: ctx.principal.id, action: "participants.credentials", target: name, result: "ok" });
      return { name, password: row.password ?? null, apiKey: row.apiKey ?? null, url: row.url };
    },
  });
  app.get("/api/v1/participants/:name/credentials", auth.require("organizer") as MiddlewareHandler, json((c, p) => runOp(participantCredentials, ctxOf(p), { name: c.req.param("name") })));

  /** The pages' actions poke the live loop so their effect shows at once. */
  app.use("/api/v1/*", async (c, next) => {
    await next();
    if (c.req.method === "POST" && c.res.status < 400) {
      hub.poke();
      setTimeout(() => hub.poke(), 300).unref();
    }
  });

  return { hub };
}

function safeMode(s: OpServices): "apply" | "propose" {
  try {
    return s.project.changesMode();
  } catch {
    return "apply";
  }
}

function toIso(v: string, end = false): string {
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
  if (Number.isNaN(d.getTime())) return v;
  return new Date(d.getTime() + (end && v.length <= 16 ? 59_999 : 0)).toISOString();
}

/** An operation's error as a page's content: the message, the fix, and each problem with its field. */
function pageError(err: OpError): Html {
  return html`<div class="notice fail" role="alert"><p>${err.message}</p><p><strong>Fix:</strong> ${err.fix}</p>${err.details.length ? html`<ul>${err.details.map((d) => html`<li><code>${d.field ?? ""}</code> ${d.message}</li>`)}</ul>` : ""}</div>`;
}
