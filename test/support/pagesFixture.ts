// The console's pages against the real console server on loopback, with
// stand-ins where a server cannot run here: a cookie-session Auth that keeps
// the seam's contract (POST /api/v1/session sets the cookie, GET returns who
// you are and a CSRF token, state-changing cookie requests need
// X-CSRF-Token), an audit log that lists, an in-memory UsageStore, a Docker
// stand-in whose containers change state over time, an applier stand-in
// that makes the stack follow thon.yaml on `up`, and credentials.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { OpenAPIHono } from "@hono/zod-openapi";
import { createAdaptorServer, type ServerType } from "@hono/node-server";
import type { MiddlewareHandler } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import type { AuditEntry, AuditLog, Auth, ConsoleEnv, Principal, Role } from "../../console/auth/types.ts";
import { createConsoleApp } from "../../console/api/app.ts";
import type { ApplyOptions, UpResult } from "../../console/apply/applier.ts";
import { DeclarativeRunner } from "../../console/apply/declarative.ts";
import { OperationQueue } from "../../console/apply/queue.ts";
import type { ContainerFacts } from "../../console/ops/docker.ts";
import { Project } from "../../console/ops/project.ts";
import { GatewayClient, LemonadeClient } from "../../console/ops/services.ts";
import { StatusService } from "../../console/ops/status.ts";
import type { AuditFilter, AuditRecord, CredentialsReader, PagesOptions } from "../../console/pages/deps.ts";
import type { HealthCheck } from "../../console/pages/healthChecks.ts";
import type { UsageSnapshot, UsageStore } from "../../console/usage/store.ts";
import type { StackCredentials } from "../../infra/cli/credentials.ts";
import { ApplierStandIn, DockerStandIn, makeProject, type Fixture } from "./consoleFixture.ts";

const COOKIE = "thon_test_session";
const err = (code: string, message: string, fix: string) => ({ error: { code, message, fix } });

/** A test-only cookie-session Auth: one password per role. */
export function sessionAuth(passwords: Record<Role, string>): Auth {
  const sessions = new Map<string, { principal: Principal; csrf: string }>();
  const authenticate: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    const s = sessions.get(getCookie(c, COOKIE) ?? "");
    if (s) {
      const safe = c.req.method === "GET" || c.req.method === "HEAD";
      if (!safe && c.req.header("x-csrf-token") !== s.csrf && !(c.req.path === "/api/v1/session" && c.req.method === "POST")) {
        return c.json(err("forbidden", "missing or wrong CSRF token", "send the token from GET /api/v1/session as X-CSRF-Token"), 403);
      }
      c.set("principal", s.principal);
    }
    await next();
  };
  const routes = new OpenAPIHono<ConsoleEnv>();
  routes.post("/api/v1/session", async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { password?: unknown };
    const role = (Object.keys(passwords) as Role[]).find((r) => passwords[r] === body.password);
    if (!role) return c.json(err("unauthenticated", "wrong password", "try again"), 401);
    const id = randomBytes(16).toString("hex");
    const csrf = randomBytes(16).toString("hex");
    sessions.set(id, { principal: { id: `password:${role}`, role, via: "password" }, csrf });
    setCookie(c, COOKIE, id, { httpOnly: true, sameSite: "Strict", path: "/" });
    return c.json({ principal: sessions.get(id)!.principal, csrfToken: csrf });
  });
  routes.get("/api/v1/session", (c) => {
    const s = sessions.get(getCookie(c, COOKIE) ?? "");
    if (!s) return c.json(err("unauthenticated", "sign in first", "POST /api/v1/session"), 401);
    return c.json({ principal: s.principal, csrfToken: s.csrf });
  });
  routes.delete("/api/v1/session", (c) => {
    sessions.delete(getCookie(c, COOKIE) ?? "");
    deleteCookie(c, COOKIE, { path: "/" });
    return c.json({ ok: true });
  });
  return {
    authenticate,
    require(role: Role): MiddlewareHandler<ConsoleEnv> {
      return async (c, next) => {
        const p = c.get("principal");
        if (!p) return c.json(err("unauthenticated", "sign in first", "POST /api/v1/session"), 401);
        if (role === "organizer" && p.role !== "organizer") return c.json(err("forbidden", `${p.id} may only read`, "ask an organizer"), 403);
        await next();
      };
    },
    routes,
  };
}

/** An audit log that keeps entries with their time and lists them as the console's store does. */
export class ListableAudit implements AuditLog {
  readonly entries: AuditRecord[] = [];
  constructor(private readonly now: () => number = Date.now) {}
  record(entry: AuditEntry): void {
    this.entries.push({ ...entry, at: new Date(this.now()).toISOString() });
  }
  list = (f: AuditFilter): AuditRecord[] =>
    this.entries
      .filter((e) => (!f.who || e.actor.includes(f.who)) && (!f.what || e.action.includes(f.what)) && (!f.since || e.at >= f.since) && (!f.until || e.at <= f.until))
      .reverse()
      .slice(0, f.limit ?? 500);
}

export class MemoryUsageStore implements UsageStore {
  readonly snapshots: UsageSnapshot[] = [];
  append(s: UsageSnapshot): void {
    this.snapshots.push(s);
  }
  series(since?: number): UsageSnapshot[] {
    return this.snapshots.filter((s) => since === undefined || s.at >= since);
  }
}

/** Docker whose restart takes time: "restarting" for `restartMs`, then running again, as the Engine does. */
export class StatefulDocker extends DockerStandIn {
  restartMs = 600;
  set(user: string, facts: Partial<ContainerFacts>): void {
    const c = this.containers.get(`id-${user}`);
    if (!c) throw new Error(`no container for ${user}`);
    Object.assign(c.facts, facts);
    (c.listing as { state: string }).state = c.facts.status;
  }
  /** As the Engine: tail=0 follows new lines only. */
  override async *follow(id: string, tail: number, signal: AbortSignal): AsyncIterable<string> {
    for (const l of tail > 0 ? (this.containers.get(id)?.logs ?? []).slice(-tail) : []) yield l;
    yield "followed line";
    await new Promise<void>((res) => signal.addEventListener("abort", () => res(), { once: true }));
  }
  override async restart(id: string): Promise<void> {
    await super.restart(id);
    const user = this.containers.get(id)!.listing.user;
    this.set(user, { status: "restarting", running: false, restarting: true });
    await new Promise((r) => setTimeout(r, this.restartMs));
    const c = this.containers.get(id)!;
    this.set(user, { status: "running", running: true, restarting: false, restartCount: c.facts.restartCount, startedAt: new Date(Date.now() - 120_000).toISOString() });
  }
}

/** The applier stand-in, and on `up` the containers follow thon.yaml (created, stopped, started). */
export class SyncingApplier extends ApplierStandIn {
  constructor(
    private readonly project: Project,
    private readonly docker: StatefulDocker,
  ) {
    super();
  }
  override async up(o: ApplyOptions): Promise<UpResult> {
    const r = await super.up(o);
    // Only what the engine would change: new containers, stopped ones, and ones thon.yaml starts again (a crashed one stays crashed).
    for (const p of this.project.plan().participants) {
      const c = this.docker.containers.get(`id-${p.name}`);
      if (!c) this.docker.add(p.name, { startedAt: new Date(Date.now() - 120_000).toISOString() }, sampleOf(0.2));
      else if (p.state === "stopped" && c.facts.running) this.docker.set(p.name, { status: "exited", running: false, exitCode: 0 });
      else if (p.state === "running" && c.facts.status === "exited" && c.facts.exitCode === 0 && !c.facts.oomKilled) this.docker.set(p.name, { status: "running", running: true });
    }
    return r;
  }
}

export const sampleOf = (fraction: number) => ({ memoryUsed: Math.round(fraction * 1024 ** 3), memoryLimit: 1024 ** 3, cpuTotal: 1, systemCpu: 1, onlineCpus: 2 });

/** thon.yaml with `n` participants in groups of 30 (team-01, …), passwords on. */
export function bigThonYaml(n: number, extra = ""): string {
  const groups: string[] = [];
  for (let g = 0; g * 30 < n; g++) {
    const users = Array.from({ length: Math.min(30, n - g * 30) }, (_, i) => `p${String(g * 30 + i + 1).padStart(3, "0")}`);
    groups.push(`  team-${String(g + 1).padStart(2, "0")}:\n    users: [${users.join(", ")}]`);
  }
  return `# a big event\nevent:\n  name: big\n  host: 127.0.0.1\n\nsandbox:\n  memory: 1GiB\n  auth: password\n\nproxy:\n  socketDir: SOCKETS\n${extra}\ngroups:\n${groups.join("\n")}\n`;
}

export class CredentialsStandIn implements CredentialsReader {
  reads = 0;
  constructor(private readonly project: Project) {}
  async read(): Promise<StackCredentials> {
    this.reads++;
    const plan = this.project.plan();
    return {
      eventName: plan.event,
      caCertUrl: plan.caCertUrl ?? undefined,
      rows: plan.participants.map((p) => ({ name: p.name, group: p.group, state: p.state, url: p.url, password: `pw-${p.name}-Xy7` })),
    };
  }
}

/** code-server's /healthz on a participant's socket, answering "alive" with a fresh heartbeat (a browser connected). */
export async function fakeHealthz(socketPath: string): Promise<Server> {
  mkdirSync(join(socketPath, ".."), { recursive: true });
  rmSync(socketPath, { force: true });
  const s = createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ status: "alive", lastHeartbeat: Date.now() - 5000 }));
  });
  await new Promise<void>((r) => s.listen(socketPath, () => r()));
  return s;
}

export interface PagesServer {
  readonly url: string;
  readonly fixture: Fixture;
  readonly project: Project;
  readonly docker: StatefulDocker;
  readonly applier: SyncingApplier;
  readonly audit: ListableAudit;
  readonly usage: MemoryUsageStore;
  readonly credentials: CredentialsStandIn;
  close(): Promise<void>;
}

export const PASSWORDS = { organizer: "organizer-pass-1", viewer: "viewer-pass-2" } as const;

export async function startPagesServer(o: { text: string; lemonade?: string; gateway?: string; pages?: Partial<PagesOptions>; healthChecks?: HealthCheck[]; populate?: (d: StatefulDocker, p: Project, sockets: string) => Promise<Server[]> | Server[] | void }): Promise<PagesServer> {
  const fixture = makeProject(o.text);
  const project = new Project({ projectDir: fixture.dir, stack: "dev" });
  const docker = new StatefulDocker();
  const applier = new SyncingApplier(project, docker);
  const queue = new OperationQueue("dev");
  const audit = new ListableAudit();
  const usage = new MemoryUsageStore();
  const credentials = new CredentialsStandIn(project);
  const declarative = new DeclarativeRunner({ project, applier, queue, audit });
  const healthz = (await o.populate?.(docker, project, fixture.sockets)) ?? [];
  const app = createConsoleApp({
    auth: sessionAuth(PASSWORDS),
    audit,
    ops: {
      project,
      docker,
      status: new StatusService(docker, { healthzTimeoutMs: 300 }),
      queue,
      declarative,
      ...(o.lemonade ? { lemonade: new LemonadeClient(o.lemonade) } : {}),
      ...(o.gateway ? { gateway: new GatewayClient(o.gateway) } : {}),
    },
    pages: { credentials, usage: { store: usage }, auditList: audit.list, liveIntervalMs: 150, healthChecks: o.healthChecks ?? [], ...o.pages },
  });
  const server: ServerType = createAdaptorServer({ fetch: app.fetch });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    fixture,
    project,
    docker,
    applier,
    audit,
    usage,
    credentials,
    close: async () => {
      (server as unknown as { closeAllConnections(): void }).closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all(healthz.map((s) => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())))));
      fixture.cleanup();
    },
  };
}

/** 300 participants in every state the table shows: mostly running, some OOM-killed, crashed, restarting, stopped, missing, a few connected. */
export async function populate300(d: StatefulDocker, p: Project): Promise<Server[]> {
  const plan = p.plan();
  const servers: Server[] = [];
  for (const [i, x] of plan.participants.entries()) {
    if (i % 50 === 7) continue; // no container yet
    const base = sampleOf(((i * 37) % 95) / 100);
    if (i % 50 === 3) d.add(x.name, { status: "exited", running: false, oomKilled: true, exitCode: 137, restartCount: 1 }, base);
    else if (i % 50 === 5) d.add(x.name, { status: "exited", running: false, exitCode: 1 }, base);
    else if (i % 50 === 9) d.add(x.name, { status: "restarting", running: false, restarting: true, restartCount: 4, exitCode: 2 }, base);
    else if (i % 50 === 11) d.add(x.name, { status: "exited", running: false, exitCode: 0 }, base);
    else d.add(x.name, { startedAt: "2026-11-28T10:00:00Z" }, base);
  }
  for (const x of plan.participants.slice(0, 3)) servers.push(await fakeHealthz(x.socketHostPath));
  return servers;
}
