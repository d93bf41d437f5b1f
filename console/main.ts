// The console put together: the data folder's store, sign-in and the audit
// log (console/auth, console/store), the operations' services (console/ops)
// and the HTTP app (console/api). `thon console`, the CLI's own verbs and the
// tests of the whole open it here, so all three run the same composition.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OpenAPIHono } from "@hono/zod-openapi";
import { createAuth, ensureOrganizerPassword, Redactor, securityHeaders, SqliteAuditLog, type ConsoleAuth, type ConsoleEnv, type PasswordSource } from "./auth/index.ts";
import { openStore, type ConsoleStore } from "./store/index.ts";
import { createConsoleApp, openApiDocument } from "./api/app.ts";
import type { Applier } from "./apply/applier.ts";
import type { OpServices } from "./ops/context.ts";
import type { SandboxDocker } from "./ops/docker.ts";
import { Project } from "./ops/project.ts";
import { consoleServices, defaultListen } from "./server.ts";
import { productionPages } from "./pages/production.ts";
import { IdleScheduler, idleRoutes, readSignals, SqliteParkRecords } from "./idle/index.ts";
import { sandboxBackend } from "./ops/backend.ts";
import { sqliteAuditList, sqliteUsageStore } from "./pages/storeBindings.ts";
import { lastLlmCallAt, participantUsage } from "./idle/participantUsage.ts";

import { nginxLayout } from "../infra/render/nginx/layout.ts";
import { parseThonFile } from "../infra/config/load.ts";
import { baseUrl } from "../infra/plan.ts";

/** The path the event's nginx gives the console on its HTTPS entry (infra/render/nginx). */
export const CONSOLE_PATH = "/_thon/";

export interface OpenConsoleOptions {
  readonly projectDir: string;
  readonly dataDir: string;
  readonly stack: string;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Reached through the event's nginx at /_thon/ (the cookie is scoped there,
   * X-Real-IP is believed, the public URL is the event's). Default: thon.yaml
   * has a `console:` section (so nginx has the location).
   */
  readonly behindProxy?: boolean;
  /** The console's address as the browser sees it; default from the event's base URL (or http://localhost). */
  readonly publicUrl?: string;
  /** Stand-ins for tests; default: dockerd and the Automation API. */
  readonly docker?: SandboxDocker;
  readonly applier?: Applier;
  /** Reads a Pulumi stack secret (thon:<key>); default: the Automation API, or the `pulumi` CLI. */
  readonly stackSecret?: (key: string) => Promise<string | undefined>;
  /** Auth clock, for tests of expiry. */
  readonly now?: () => number;
}

export interface OpenConsole {
  /** The whole app: security headers, /healthz, sign-in, the API. */
  readonly app: OpenAPIHono<ConsoleEnv>;
  /** The API app alone (its OpenAPI document). */
  readonly api: OpenAPIHono<ConsoleEnv>;
  readonly auth: ConsoleAuth;
  readonly store: ConsoleStore;
  readonly services: OpServices;
  /** How the organizer password was set on this start; "generated" carries the one to show once. */
  readonly password: PasswordSource;
  /** Parks idle sandboxes when thon.yaml's idle.enabled is on; `thon console` starts it. */
  readonly scheduler: IdleScheduler;
  close(): void;
}

/** The thon.yaml the stack names, parsed: its console section and the event's base URL. */
function consoleSection(projectDir: string, stack: string) {
  const project = new Project({ projectDir, stack });
  const file = parseThonFile(readFileSync(project.eventFile, "utf8"), project.eventFile);
  return { project, section: file.console, baseUrl: baseUrl(project.event()) };
}

/**
 * Where `thon console` listens without --listen: with a `console:` section,
 * the socket the event's nginx proxies /_thon/ to (in proxy.socketDir, which
 * nginx's group may enter); else a socket in the data folder.
 */
export function defaultConsoleListen(projectDir: string, stack: string): string {
  const { section, project } = consoleSection(projectDir, stack);
  return section ? `unix:${nginxLayout(project.event()).consoleSocket}` : defaultListen(projectDir);
}

export async function openConsole(o: OpenConsoleOptions): Promise<OpenConsole> {
  const env = o.env ?? process.env;
  const { section, baseUrl: root } = consoleSection(o.projectDir, o.stack);
  const behindProxy = o.behindProxy ?? section !== undefined;
  const store = openStore(o.dataDir);
  try {
    const password = await ensureOrganizerPassword(store, env);
    const auth = createAuth({
      store,
      ...(section?.signIn ? { config: section.signIn } : {}),
      publicUrl: o.publicUrl ?? (behindProxy ? `${root}${CONSOLE_PATH.slice(1, -1)}` : "http://localhost"),
      cookiePath: behindProxy ? CONSOLE_PATH : "/",
      trustForwardedFor: behindProxy,
      secrets: { env, stackSecret: o.stackSecret ?? ((key) => readStackSecret(o.projectDir, o.stack, key, env)) },
      ...(o.now ? { now: o.now } : {}),
    });
    const services = consoleServices({ projectDir: o.projectDir, stack: o.stack, audit: auth.audit, env, ...(o.docker ? { docker: o.docker } : {}), ...(o.applier ? { applier: o.applier } : {}) });
    const { audit: _audit, ...ops } = services;
    // The pages: credentials through the Pulumi CLI, token usage scraped into the store, the audit log's list.
    const usageStore = sqliteUsageStore(store);
    const pages = productionPages({ stack: o.stack, projectDir: o.projectDir, usageStore, gateway: consoleSection(o.projectDir, o.stack).project.event().gateway.enabled, env });
    const api = createConsoleApp({ auth, audit: auth.audit, ops, pages: { ...pages.pages, auditList: sqliteAuditList(auth.audit) } });
    // Idle parking (docs/idle.md): the organizers' /api/v1/idle, the participants' /wake and /me
    // (nginx strips /_thon/, so they sit at the root here), and the scheduler that parks.
    const project = consoleSection(o.projectDir, o.stack).project;
    const idle = sandboxBackend(project.event(), env).idle;
    const records = new SqliteParkRecords(store.db);
    const credentials = pages.pages.credentials!;
    const idleDeps = {
      docker: idle,
      records,
      keepAwake: records.keepAwake,
      participants: () => project.plan().participants,
      policy: () => project.event().idle,
      // The LLM signal from the stored gateway counters (per-user consumers only).
      signals: async (p: Parameters<typeof readSignals>[1] & { name: string }) => {
        const at = lastLlmCallAt(project.plan(), await usageStore.series(), p.name);
        return readSignals(idle, p, at ? { lastLlmCallAt: at } : {});
      },
    };
    const idleApp = idleRoutes({
      ...idleDeps,
      auth,
      audit: auth.audit,
      getPasswords: async () => new Map((await credentials.read()).rows.flatMap((r) => (r.password ? [[r.name, r.password] as const] : []))),
      credentialsFor: async (user) => {
        const row = (await credentials.read()).rows.find((r) => r.name === user);
        const llm = project.plan().llm;
        return { ...(row?.apiKey ? { apiKey: row.apiKey } : {}), ...(llm ? { baseUrl: llm.outputs.baseUrl } : {}) };
      },
      usageFor: async (user) => participantUsage(project.plan(), await usageStore.series(), user, Date.now()),
      ...(project.event().tls.mode !== "provided" ? { caCertUrl: "/ca.crt" } : {}),
      mountPrefix: behindProxy ? "" : CONSOLE_PATH.slice(0, -1),
    });
    const scheduler = new IdleScheduler({ ...idleDeps, audit: auth.audit });
    // Sign-in's headers (strict CSP with a nonce for pages) on every answer; they run last, so they win.
    const app = new OpenAPIHono<ConsoleEnv>();
    app.use(securityHeaders());
    app.route("/", idleApp);
    app.route("/", api);
    return { app, api, auth, store, services, password, scheduler, close: () => (void scheduler.stop(), pages.stop(), store.close()) };
  } catch (err) {
    store.close();
    throw err;
  }
}

/** The store and audit log alone, for the CLI's verbs (no sign-in, no password made). */
export function openAudit(dataDir: string): { store: ConsoleStore; audit: SqliteAuditLog } {
  const store = openStore(dataDir);
  return { store, audit: new SqliteAuditLog(store, new Redactor(), Date.now) };
}

/**
 * A Pulumi stack secret (`thon:<key>`) for a provider's client secret, read
 * through the Automation API (`stack.getConfig`, which runs the Pulumi CLI).
 * Where the CLI is missing, the error says so and names the environment
 * variable way instead.
 */
export async function readStackSecret(projectDir: string, stack: string, key: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const auto = await import("@pulumi/pulumi/automation/index.js");
  let pulumiCommand;
  try {
    pulumiCommand = await auto.PulumiCommand.get();
  } catch (err) {
    const first = (err as Error).message.split("\n")[0]!;
    const why = /ENOENT|code: -2\b/.test(first) ? "no pulumi on PATH" : first;
    throw new Error(
      `the stack secret thon:${key} cannot be read: the Pulumi CLI is not installed here (${why}). Fix: install it (https://www.pulumi.com/docs/install/), or give the client secret in the environment ({ env: NAME } in console.signIn)`,
    );
  }
  const envVars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && /^PULUMI_/.test(e[0])));
  const s = await auto.LocalWorkspace.selectStack({ stackName: stack, workDir: projectDir }, { pulumiCommand, envVars });
  try {
    return (await s.getConfig(`thon:${key}`)).value;
  } catch (err) {
    if (/not found|missing/i.test((err as Error).message)) return undefined;
    throw err;
  }
}

/** The OpenAPI document of the whole console (sign-in's routes too), without a project: the routes alone decide it. */
export async function consoleOpenApiDocument() {
  const dir = mkdtempSync(join(tmpdir(), "thon-openapi-"));
  const store = openStore(dir);
  try {
    const auth = createAuth({ store, publicUrl: "http://localhost", logger: { info() {}, warn() {}, error() {} } });
    return openApiDocument(createConsoleApp({ auth, audit: auth.audit, ops: {} as never }));
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
