// The console's operations, each defined once (see define.ts). Reads work on
// thon.yaml (what is declared) and Docker + code-server (what is live).
// Declarative changes edit thon.yaml and apply through the stack's queue;
// imperative ones (restart, logs) go to Docker and never contradict what
// thon.yaml declares.
import { z } from "zod";
import * as edit from "../../infra/cli/edit.ts";
import { groupName, participantName } from "../../infra/config/schema.ts";
import { NAME_PATTERN, NAME_RULE } from "../../infra/config/names.ts";
import type { ParticipantPlan } from "../../infra/plan.ts";
import type { DeclarativeChange } from "../apply/declarative.ts";
import { summary, type OperationRecord } from "../apply/queue.ts";
import { mapBounded } from "./bounded.ts";
import type { OpContext } from "./context.ts";
import { defineOp, type Operation } from "./define.ts";
import { OpError } from "./errors.ts";
import type { LiveStatus } from "./status.ts";
import { notConfigured } from "./services.ts";

// --- schemas -------------------------------------------------------------------

/** An existing participant or group (reserved names cannot exist, so the plain pattern). */
const existingName = z.string({ error: `must be a string (${NAME_RULE})` }).regex(NAME_PATTERN, { error: `must be ${NAME_RULE}` });

export const CONTAINER_STATES = ["running", "exited", "restarting", "oom-killed", "created", "paused", "dead", "missing", "host-down"] as const;
const boolParam = z.enum(["true", "false"], { error: 'must be "true" or "false"' }).transform((v) => v === "true");

export const declarativeOptions = {
  /** false: preview only (nothing changes); true: apply. */
  confirm: z.boolean({ error: "confirm must be true (apply) or false (preview only)" }).default(false),
  /** wait: queue behind a running operation; fail: 409 at once. */
  ifBusy: z.enum(["wait", "fail"], { error: 'ifBusy must be "wait" or "fail"' }).default("wait"),
  /** Answer when the operation finished instead of at once (202). */
  wait: z.boolean({ error: "wait must be a boolean" }).default(false),
};

export const listInput = z
  .object({
    q: z.string().max(64, { error: "q is at most 64 characters" }).optional(),
    group: existingName.optional(),
    declared: z.enum(["running", "stopped"], { error: 'declared must be "running" or "stopped"' }).optional(),
    state: z.enum(CONTAINER_STATES, { error: `state must be one of ${CONTAINER_STATES.join(", ")}` }).optional(),
    connected: boolParam.optional(),
    sort: z.enum(["name", "group", "state", "memory", "cpu", "lastHeartbeat"], { error: "sort must be name, group, state, memory, cpu or lastHeartbeat" }).default("name"),
    order: z.enum(["asc", "desc"], { error: 'order must be "asc" or "desc"' }).default("asc"),
    page: z.coerce.number({ error: "page must be a number from 1" }).int({ error: "page must be a whole number" }).min(1, { error: "page starts at 1" }).default(1),
    pageSize: z.coerce.number({ error: "pageSize must be a number" }).int({ error: "pageSize must be a whole number" }).min(1).max(500, { error: "pageSize is at most 500" }).default(50),
    live: boolParam.default(true),
  })
  .strict();

export const selection = z
  .object({
    names: z.array(existingName).min(1).max(1000).optional(),
    group: existingName.optional(),
    filter: listInput.pick({ q: true, group: true, declared: true, state: true, connected: true }).optional(),
  })
  .strict()
  .refine((s) => [s.names, s.group, s.filter].filter((x) => x !== undefined).length === 1, {
    error: "give exactly one of names (a list), group, or filter",
  });

// --- helpers -------------------------------------------------------------------

export interface ParticipantRow {
  readonly name: string;
  readonly group: string;
  readonly declared: "running" | "stopped";
  readonly url: string;
  readonly status: LiveStatus | null;
}

function row(p: ParticipantPlan, status: LiveStatus | undefined): ParticipantRow {
  return { name: p.name, group: p.group, declared: p.state, url: p.url, status: status ?? null };
}

type Filter = Pick<z.output<typeof listInput>, "q" | "group" | "declared" | "state" | "connected">;

function needsLive(f: Filter): boolean {
  return f.state !== undefined || f.connected !== undefined;
}

async function selectRows(ctx: OpContext, f: Filter, live: boolean): Promise<ParticipantRow[]> {
  const plan = ctx.project.plan();
  const q = f.q?.toLowerCase();
  const declared = plan.participants.filter(
    (p) => (!q || p.name.includes(q)) && (!f.group || p.group === f.group) && (!f.declared || p.state === f.declared),
  );
  if (f.group && !plan.participants.some((p) => p.group === f.group) && !ctx.project.event().groups.some((g) => g.name === f.group)) {
    throw new OpError("not_found", `there is no group "${f.group}"`, "check the name with GET /api/v1/groups", "group");
  }
  const statuses = live || needsLive(f) ? await ctx.status.refresh(plan.event, declared) : new Map<string, LiveStatus>();
  return declared
    .map((p) => row(p, statuses.get(p.name)))
    .filter((r) => (!f.state || r.status?.container.state === f.state) && (f.connected === undefined || r.status?.codeServer.connected === f.connected));
}

const sortKey: Record<string, (r: ParticipantRow) => string | number> = {
  name: (r) => r.name,
  group: (r) => `${r.group}\u0000${r.name}`,
  state: (r) => r.status?.container.state ?? "",
  memory: (r) => r.status?.memory?.percent ?? -1,
  cpu: (r) => r.status?.cpu?.percent ?? -1,
  lastHeartbeat: (r) => r.status?.codeServer.lastHeartbeat ?? "",
};

async function selectNames(ctx: OpContext, s: z.output<typeof selection>): Promise<string[]> {
  if (s.names) {
    const known = new Set(ctx.project.plan().participants.map((p) => p.name));
    const unknown = s.names.filter((n) => !known.has(n));
    if (unknown.length > 0) throw new OpError("not_found", `no such participant(s): ${unknown.join(", ")}`, "check the names with GET /api/v1/participants", "selection.names");
    return [...new Set(s.names)];
  }
  const rows = await selectRows(ctx, s.group ? { group: s.group } : s.filter!, false);
  if (rows.length === 0) throw new OpError("not_found", "the selection matches no participant", "widen the filter or check the group", s.group ? "selection.group" : "selection.filter");
  return rows.map((r) => r.name);
}

export interface Submitted {
  readonly operation: ReturnType<typeof summary>;
  /** Settles when the operation finished (the CLI and ?wait use it). */
  readonly done: Promise<OperationRecord>;
}

type DeclOptions = { confirm: boolean; ifBusy: "wait" | "fail"; wait: boolean };

async function submit(ctx: OpContext, change: DeclarativeChange, o: DeclOptions): Promise<Submitted> {
  const { record, done } = ctx.declarative.submit(change, { confirm: o.confirm, actor: ctx.principal.id, ifBusy: o.ifBusy });
  if (o.wait) await done;
  return { operation: summary(record), done };
}

function requireRunningDeclared(p: ParticipantPlan, what: string): void {
  if (p.state === "stopped") {
    throw new OpError("conflict", `${p.name} is stopped in thon.yaml; ${what} would contradict it`, `start them instead (POST /api/v1/participants/${p.name}/start)`, "name");
  }
}

async function containerId(ctx: OpContext, p: ParticipantPlan): Promise<string | null> {
  const listed = await ctx.docker.list(ctx.project.plan().event);
  return listed.find((c) => c.user === p.name)?.id ?? null;
}

// --- reads ---------------------------------------------------------------------------

export const eventGet = defineOp({
  name: "event.get",
  kind: "read",
  role: "viewer",
  summary: "The event: name, host, base URL, groups and participant counts",
  input: z.object({}).strict(),
  async run(ctx) {
    const event = ctx.project.event();
    const plan = ctx.project.plan();
    return {
      name: event.name,
      host: event.host,
      baseUrl: plan.baseUrl,
      caCertUrl: plan.caCertUrl,
      stack: ctx.project.stack,
      changes: ctx.project.changesMode(),
      groups: event.groups.length,
      participants: event.participants.length,
      running: event.participants.filter((p) => p.state === "running").length,
      image: event.sandbox.image,
      memoryMiB: event.sandbox.memory,
      lemonade: event.lemonade.enabled,
      gateway: event.gateway.enabled,
      operation: ctx.queue.busy ? summary(ctx.queue.busy) : null,
    };
  },
});

export const participantsList = defineOp({
  name: "participants.list",
  kind: "read",
  role: "viewer",
  summary: "Participants by name, with search, filters (group, declared and live state, connected), sort and paging; live status unless live=false",
  input: listInput,
  async run(ctx, input) {
    const rows = await selectRows(ctx, input, input.live || needsLive(input) || ["state", "memory", "cpu", "lastHeartbeat"].includes(input.sort));
    const key = sortKey[input.sort]!;
    rows.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      const c = x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : 1;
      return input.order === "asc" ? c : -c;
    });
    const start = (input.page - 1) * input.pageSize;
    return { total: rows.length, page: input.page, pageSize: input.pageSize, items: rows.slice(start, start + input.pageSize) };
  },
});

export const participantGet = defineOp({
  name: "participants.get",
  kind: "read",
  role: "viewer",
  summary: "One participant in full: group, declared state, URL, image, workspace, container, live status and recent log lines",
  input: z.object({ name: existingName, tail: z.coerce.number().int().min(0).max(1000, { error: "tail is at most 1000" }).default(50) }).strict(),
  async run(ctx, { name, tail }) {
    const p = ctx.project.participant(name);
    const event = ctx.project.event();
    const status = (await ctx.status.refresh(event.name, [p])).get(name) ?? null;
    const id = status?.container.id ?? null;
    const logs = id && tail > 0 ? await ctx.docker.logs(id, tail) : [];
    return {
      ...row(p, status ?? undefined),
      image: event.sandbox.image,
      memoryMiB: event.sandbox.memory,
      workspace: p.workspace,
      containerName: p.containerName,
      containerId: id,
      socket: p.socketHostPath,
      logs,
    };
  },
});

export const participantLogs = defineOp({
  name: "participants.logs",
  kind: "read",
  role: "viewer",
  summary: "A participant's recent log lines (follow them over SSE at /logs/stream)",
  input: z.object({ name: existingName, tail: z.coerce.number().int().min(1).max(5000, { error: "tail is at most 5000" }).default(200) }).strict(),
  async run(ctx, { name, tail }) {
    const p = ctx.project.participant(name);
    const id = await containerId(ctx, p);
    if (!id) throw new OpError("not_found", `${name} has no container`, "apply thon.yaml to create it", "name");
    return { name, containerId: id, lines: await ctx.docker.logs(id, tail) };
  },
});

export const groupsList = defineOp({
  name: "groups.list",
  kind: "read",
  role: "viewer",
  summary: "Groups with their participants and declared state",
  input: z.object({}).strict(),
  async run(ctx) {
    const plan = ctx.project.plan();
    return {
      items: ctx.project.event().groups.map((g) => {
        const members = plan.participants.filter((p) => p.group === g.name);
        return { name: g.name, users: g.users, running: members.filter((p) => p.state === "running").length, stopped: members.filter((p) => p.state === "stopped").length };
      }),
    };
  },
});

export const nodesList = defineOp({
  name: "nodes.list",
  kind: "read",
  role: "viewer",
  summary: "Swarm target: every node with its state, availability, participants and memory (assigned to running participants, and the node's); an empty list on a single host",
  input: z.object({}).strict(),
  async run(ctx) {
    const nodes = await ctx.status.nodes(ctx.project.plan().event);
    return { swarm: nodes !== null, items: nodes ?? [] };
  },
});

// --- declarative ---------------------------------------------------------------------

const decl = <S extends z.ZodRawShape>(shape: S) => z.object({ ...shape, ...declarativeOptions }).strict();

/** A declarative operation that is one thon.yaml edit of the participant or group `name` (previewed, then applied, by submit). */
const editOp = <I extends z.ZodType<DeclOptions & { name: string }>>(name: string, summary: string, input: I, change: (text: string, i: z.output<I>) => string) =>
  defineOp({
    name,
    kind: "declarative",
    role: "organizer",
    summary,
    input,
    run: (ctx, i) => submit(ctx, { action: name, target: i.name, edit: (t) => change(t, i) }, i),
  });

export const participantAdd = editOp("participants.add", "Add a participant to a group (created if missing)", decl({ name: participantName, group: groupName }), (t, i) => edit.addUser(t, i.name, i.group));

export const participantRemove = editOp("participants.remove", "Remove a participant; their workspace volume is kept", decl({ name: existingName }), (t, i) => edit.removeUser(t, i.name));

export const participantRename = editOp("participants.rename", "Rename a participant (a new sandbox and workspace under the new name; the old workspace is kept)", decl({ name: existingName, to: participantName }), (t, i) => edit.renameUser(t, i.name, i.to));

export const participantMove = editOp("participants.move", "Move a participant to another group; their sandbox keeps running", decl({ name: existingName, to: groupName }), (t, i) => edit.moveUser(t, i.name, i.to));

/** participants.start/stop and groups.start/stop: set `state` in thon.yaml for the one named. */
const stateOp = (of: "participants" | "groups", state: "running" | "stopped", summary: string, set: (text: string, name: string, state: "running" | "stopped") => string) =>
  editOp(`${of}.${state === "running" ? "start" : "stop"}`, summary, decl({ name: existingName }), (t, i) => set(t, i.name, state));
export const participantStart = stateOp("participants", "running", "Start a participant's sandbox (thon.yaml: running)", edit.setUserState);
export const participantStop = stateOp("participants", "stopped", "Stop a participant's sandbox (thon.yaml: stopped); the workspace is kept", edit.setUserState);

export const participantResetPassword = defineOp({
  name: "participants.reset-password",
  kind: "declarative",
  role: "organizer",
  summary: "Reset a participant's password: replace the password, then the container using it; the workspace is kept",
  input: decl({ name: existingName }),
  async run(ctx, i) {
    const p = ctx.project.participant(i.name);
    if (ctx.project.event().sandbox.auth !== "password") {
      throw new OpError("conflict", "sandboxes have no password (sandbox.auth: none)", "set sandbox.auth: password in thon.yaml first", "name");
    }
    return submit(ctx, { action: "participants.reset-password", target: i.name, replace: (proj) => { const u = proj.urns(p); return [u.password, u.container]; } }, i);
  },
});

export const participantRecreate = defineOp({
  name: "participants.recreate",
  kind: "declarative",
  role: "organizer",
  summary: "Recreate a participant's sandbox: replace the container; the workspace is kept",
  input: decl({ name: existingName }),
  async run(ctx, i) {
    const p = ctx.project.participant(i.name);
    return submit(ctx, { action: "participants.recreate", target: i.name, replace: (proj) => [proj.urns(p).container] }, i);
  },
});

export const groupAdd = editOp("groups.add", "Add an empty group", decl({ name: groupName }), (t, i) => edit.addGroup(t, i.name));

export const groupRemove = editOp("groups.remove", "Remove an empty group", decl({ name: existingName }), (t, i) => edit.removeGroup(t, i.name));

export const groupRename = editOp("groups.rename", "Rename a group; its participants' sandboxes are not touched", decl({ name: existingName, to: groupName }), (t, i) => edit.renameGroup(t, i.name, i.to));

export const groupStart = stateOp("groups", "running", "Start every sandbox of a group", edit.setGroupState);
export const groupStop = stateOp("groups", "stopped", "Stop every sandbox of a group; workspaces are kept", edit.setGroupState);

// --- imperative ------------------------------------------------------------------------

async function restartOne(ctx: OpContext, p: ParticipantPlan, id: string | undefined): Promise<{ name: string; ok: boolean; message: string }> {
  if (p.state === "stopped") return { name: p.name, ok: false, message: "stopped in thon.yaml; not restarted (start it instead)" };
  if (!id) return { name: p.name, ok: false, message: "no container; apply thon.yaml to create it" };
  try {
    await ctx.docker.restart(id, 10);
    return { name: p.name, ok: true, message: "restarted" };
  } catch (err) {
    return { name: p.name, ok: false, message: `Docker: ${(err as Error).message}` };
  }
}

export const participantRestart = defineOp({
  name: "participants.restart",
  kind: "imperative",
  role: "organizer",
  summary: "Restart a participant's container (Docker); the container, its settings and workspace stay",
  input: z.object({ name: existingName }).strict(),
  async run(ctx, { name }) {
    const p = ctx.project.participant(name);
    requireRunningDeclared(p, "a restart");
    const id = await containerId(ctx, p);
    if (!id) throw new OpError("not_found", `${name} has no container`, "apply thon.yaml to create it (or recreate it)", "name");
    ctx.audit.record({ actor: ctx.principal.id, action: "participants.restart", target: name, result: "started" });
    const r = await restartOne(ctx, p, id);
    ctx.audit.record({ actor: ctx.principal.id, action: "participants.restart", target: name, result: r.ok ? "ok" : "error", detail: r.message });
    if (!r.ok) throw new OpError("failed", r.message, "see the participant's logs");
    return r;
  },
});

// --- bulk ------------------------------------------------------------------------------

export const BULK_ACTIONS = ["restart", "stop", "start", "recreate", "reset-password"] as const;

export const participantsBulk = defineOp({
  name: "participants.bulk",
  kind: "imperative",
  role: "organizer",
  summary:
    "One action over a selection (a list, a group, or every participant matching a filter), with per-participant results. restart runs with bounded concurrency; stop/start are one thon.yaml edit and recreate/reset-password one update replacing all selected, each one queued operation",
  input: z.object({ action: z.enum(BULK_ACTIONS, { error: `action must be one of ${BULK_ACTIONS.join(", ")}` }), selection, ...declarativeOptions }).strict(),
  async run(ctx, i) {
    const names = await selectNames(ctx, i.selection);
    const plans = ctx.project.plan().participants.filter((p) => names.includes(p.name));
    if (i.action === "restart") {
      const listed = new Map((await ctx.docker.list(ctx.project.plan().event)).map((c) => [c.user, c.id]));
      const results = await mapBounded(plans, ctx.bulkConcurrency ?? 8, (p) => restartOne(ctx, p, listed.get(p.name)));
      ctx.audit.record({ actor: ctx.principal.id, action: "participants.bulk.restart", target: names.join(","), result: results.every((r) => r.ok) ? "ok" : "error", detail: JSON.stringify(results) });
      return { action: i.action, results, operation: null };
    }
    if (i.action === "stop" || i.action === "start") {
      const state = i.action === "stop" ? "stopped" : "running";
      const results = plans.map((p) => ({ name: p.name, ok: true, message: p.state === state ? `already ${state}` : `will be ${state}` }));
      const change: DeclarativeChange = {
        action: `participants.bulk.${i.action}`,
        target: names.join(","),
        edit: (t) => plans.filter((p) => p.state !== state).reduce((text, p) => edit.setUserState(text, p.name, state), t),
        extra: { results },
      };
      const s = await submit(ctx, change, i);
      return { action: i.action, results, ...s };
    }
    if (i.action === "reset-password" && ctx.project.event().sandbox.auth !== "password") {
      throw new OpError("conflict", "sandboxes have no password (sandbox.auth: none)", "set sandbox.auth: password in thon.yaml first", "action");
    }
    const results = plans.map((p) => ({ name: p.name, ok: true, message: i.action === "recreate" ? "container replaced" : "password and container replaced" }));
    const change: DeclarativeChange = {
      action: `participants.bulk.${i.action}`,
      target: names.join(","),
      replace: (proj) => plans.flatMap((p) => (i.action === "recreate" ? [proj.urns(p).container] : [proj.urns(p).password, proj.urns(p).container])),
      extra: { results },
    };
    return { action: i.action, results, ...(await submit(ctx, change, i)) };
  },
});

// --- operations, Lemonade, gateway -------------------------------------------------------

export const operationsList = defineOp({
  name: "operations.list",
  kind: "read",
  role: "viewer",
  summary: "Declarative operations of this console process, newest first",
  input: z.object({}).strict(),
  async run(ctx) {
    return { items: ctx.queue.list().map(summary) };
  },
});

export const operationGet = defineOp({
  name: "operations.get",
  kind: "read",
  role: "viewer",
  summary: "One operation: state, result or error",
  input: z.object({ id: z.uuid({ error: "id must be an operation id (a UUID)" }) }).strict(),
  async run(ctx, { id }) {
    const r = ctx.queue.get(id);
    if (!r) throw new OpError("not_found", `there is no operation ${id}`, "list them with GET /api/v1/operations (they are kept while the console runs)", "id");
    return summary(r);
  },
});

export const lemonadeGet = defineOp({
  name: "lemonade.get",
  kind: "read",
  role: "viewer",
  summary: "Lemonade: health, stats, system-stats, slots and models, each part on its own",
  input: z.object({}).strict(),
  async run(ctx) {
    if (!ctx.lemonade) return { health: notConfigured("Lemonade"), stats: notConfigured("Lemonade"), systemStats: notConfigured("Lemonade"), slots: notConfigured("Lemonade"), models: notConfigured("Lemonade") };
    return ctx.lemonade.overview();
  },
});

const modelName = z.string({ error: "model must be a string" }).min(1, { error: "model is required" }).max(200).regex(/^[A-Za-z0-9._:/-]+$/, { error: "model is letters, digits and . _ : / -" });

const lemonadeAction = (action: "load" | "unload") =>
  defineOp({
    name: `lemonade.${action}`,
    kind: "imperative",
    role: "organizer",
    summary: action === "load" ? "Load a model in Lemonade" : "Unload a model (all when none is given)",
    input: z.object(action === "load" ? { model: modelName } : { model: modelName.optional() }).strict(),
    async run(ctx, i: { model?: string }) {
      if (!ctx.lemonade) throw new OpError("unavailable", "Lemonade is not configured for this console", "enable lemonade in thon.yaml or pass --lemonade-url", "model");
      const r = action === "load" ? await ctx.lemonade.load(i.model!) : await ctx.lemonade.unload(i.model);
      ctx.audit.record({ actor: ctx.principal.id, action: `lemonade.${action}`, ...(i.model ? { target: i.model } : {}), result: r.ok ? "ok" : "error", ...(r.ok ? {} : { detail: r.error }) });
      if (!r.ok) throw new OpError(/HTTP 404/.test(r.error) ? "not_found" : "unavailable", r.error, "check the model name with GET /api/v1/lemonade, and that Lemonade runs", "model");
      return r.data;
    },
  });
export const lemonadeLoad = lemonadeAction("load");
export const lemonadeUnload = lemonadeAction("unload");

export const gatewayGet = defineOp({
  name: "gateway.get",
  kind: "read",
  role: "viewer",
  summary: "The AI gateway (APISIX): routes and consumers, credentials hidden",
  input: z.object({}).strict(),
  async run(ctx) {
    if (!ctx.gateway) return { routes: notConfigured("Gateway"), consumers: notConfigured("Gateway") };
    return ctx.gateway.overview();
  },
});

/** Every operation, by name: what the API and the CLI are built from. */
export const OPERATIONS: readonly Operation[] = [
  eventGet, participantsList, participantGet, participantLogs, groupsList, nodesList,
  participantAdd, participantRemove, participantRename, participantMove, participantStart, participantStop,
  participantResetPassword, participantRecreate, groupAdd, groupRemove, groupRename, groupStart, groupStop,
  participantRestart, participantsBulk, operationsList, operationGet, lemonadeGet, lemonadeLoad, lemonadeUnload, gatewayGet,
] as unknown as readonly Operation[];

/** Runs an operation with its input checked by its schema (the CLI's way in; the API validates in its routes). */
export async function runOp<O>(op: Operation<z.ZodType, O>, ctx: OpContext, raw: unknown): Promise<O> {
  const parsed = op.input.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = z.core.toDotPath(issue.path) || (issue.code === "unrecognized_keys" ? issue.keys.join(", ") : "");
    throw new OpError("bad_input", `${field ? `${field}: ` : ""}${issue.message}`, "fix the input as the message says", field, parsed.error.issues.map((x) => ({ field: z.core.toDotPath(x.path), message: x.message })));
  }
  return op.run(ctx, parsed.data);
}
