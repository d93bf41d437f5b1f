// The console's side of the `thon` command (commander): `thon console` and
// the per-participant verbs the operations layer adds to `thon users`. Each
// verb runs an operation from console/ops as the local organizer, like the
// REST API does for a signed-in one.
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import type { Command } from "commander";
import type { AuditEntry, AuditLog, Auth, Principal } from "./auth/types.ts";
import { createConsoleApp, openApiDocument } from "./api/app.ts";
import type { EngineEvent } from "./apply/applier.ts";
import type { OpContext } from "./ops/context.ts";
import { OpError } from "./ops/errors.ts";
import * as ops from "./ops/operations.ts";
import type { PagesOptions } from "./pages/deps.ts";
import { productionPages } from "./pages/production.ts";
import { Project } from "./ops/project.ts";
import { consoleServices, DEFAULT_DATA_DIR, defaultListen, parseListen, renderConsoleUnit, startConsole } from "./server.ts";

export interface ConsoleCliDeps {
  /** Sign-in and audit storage for the console's data folder (console/auth, console/store); the lead wires them in. */
  readonly makeAuth?: (dataDir: string, projectDir: string) => Promise<{ auth: Auth; audit: AuditLog }> | { auth: Auth; audit: AuditLog };
  readonly out?: (text: string) => void;
  readonly err?: (text: string) => void;
  readonly cwd?: string;
  /** Where --install writes the unit (default /etc/systemd/system). */
  readonly unitDir?: string;
}

/** Until console/store is wired in: the audit as JSON lines in the data folder. */
class FileAudit implements AuditLog {
  constructor(private readonly file: string) {}
  record(entry: AuditEntry): void {
    appendFileSync(this.file, JSON.stringify({ at: new Date().toISOString(), ...entry }) + "\n");
  }
}

/** An Auth that lets nobody in: `thon console` without sign-in wired answers /healthz only. */
const closedAuth = async (): Promise<Auth> => {
  const { OpenAPIHono } = await import("@hono/zod-openapi");
  return {
    authenticate: async (_c, next) => next(),
    require: () => async (c) => c.json({ error: { code: "unauthenticated", message: "sign-in is not set up in this build", fix: "wire console/auth into the console" } }, 401),
    routes: new OpenAPIHono(),
  };
};

function projectOf(cwd: string): string {
  // The nearest folder with Pulumi.yaml, as Pulumi (and infra/cli) find it.
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "Pulumi.yaml"))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}

function engineLine(e: EngineEvent): string | undefined {
  if (e.resourcePreEvent) return `  ${e.resourcePreEvent.metadata.op} ${e.resourcePreEvent.metadata.urn.split("::").pop()}`;
  if (e.resOpFailedEvent) return `  failed ${e.resOpFailedEvent.metadata.urn.split("::").pop()}`;
  if (e.diagnosticEvent && e.diagnosticEvent.severity !== "info") return `  ${e.diagnosticEvent.severity}: ${e.diagnosticEvent.message.trim()}`;
  if (e.summaryEvent) return `  done in ${e.summaryEvent.durationSeconds} s: ${JSON.stringify(e.summaryEvent.resourceChanges)}`;
  return undefined;
}

export function registerConsoleCommands(program: Command, deps: ConsoleCliDeps = {}): void {
  const out = deps.out ?? ((t: string) => process.stdout.write(t));
  const err = deps.err ?? ((t: string) => process.stderr.write(t));
  const cwd = deps.cwd ?? process.cwd();
  const stackOf = (cmd: Command): string => (cmd.optsWithGlobals() as { stack?: string }).stack ?? "dev";
  const dataOf = (projectDir: string, data: string | undefined) => resolve(cwd, data ?? join(projectDir, DEFAULT_DATA_DIR));

  const fail = (e: unknown): never => {
    if (e instanceof OpError) {
      err(`thon: ${e.message}\n  fix: ${e.fix}\n`);
      for (const [k, v] of Object.entries(e.data ?? {})) if (typeof v === "string" && v) err(`\n${k}:\n${v}\n`);
      process.exitCode = e.status === 400 ? 2 : 1;
    } else {
      err(`thon: ${(e as Error).message}\n`);
      process.exitCode = 1;
    }
    throw new CliExit();
  };

  const localContext = async (cmd: Command): Promise<OpContext> => {
    const projectDir = projectOf(cwd);
    const dataDir = dataOf(projectDir, undefined);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const audit = deps.makeAuth ? (await deps.makeAuth(dataDir, projectDir)).audit : new FileAudit(join(dataDir, "audit.jsonl"));
    // A shell on the event host is the organizer (sudo/ssh decide who gets one).
    const principal: Principal = { id: `local:${userInfo().username}`, role: "organizer", via: "password" };
    return { ...consoleServices({ projectDir, stack: stackOf(cmd), auth: await closedAuth(), audit }), principal };
  };

  const run = async (cmd: Command, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      if (e instanceof CliExit) return;
      try {
        fail(e);
      } catch {
        /* exit code set */
      }
    }
  };

  // --- thon console ------------------------------------------------------------------
  const consoleCmd = program
    .command("console")
    .description("run the organizer console (REST API and pages) on a unix socket or loopback")
    .option("--listen <address>", "host:port on loopback, or unix:<path> (default: unix socket in the data folder)")
    .option("--data <dir>", `the console's data folder (default: ${DEFAULT_DATA_DIR} in the project)`)
    .option("--install", "write and enable a systemd unit that runs it", false)
    .option("--stack <name>", "the Pulumi stack", "dev")
    .action(async (o: { listen?: string; data?: string; install: boolean }, cmd: Command) =>
      run(cmd, async () => {
        const projectDir = projectOf(cwd);
        const dataDir = dataOf(projectDir, o.data);
        const listen = o.listen ?? defaultListen(projectDir);
        const parsed = parseListen(listen, cwd);
        if (o.install) {
          const unit = renderConsoleUnit({ user: userInfo().username, projectDir, node: process.execPath, thon: join(projectDir, "bin", "thon.mjs"), listen: parsed.kind === "unix" ? `unix:${parsed.path}` : listen, dataDir, stack: stackOf(cmd) });
          const unitDir = deps.unitDir ?? "/etc/systemd/system";
          const file = join(unitDir, "thon-console.service");
          writeFileSync(file, unit);
          const verify = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
          if (verify.status !== 0) throw new OpError("failed", `systemd-analyze verify ${file} failed:\n${verify.stderr}`, "report this as a bug in THON");
          if (!deps.unitDir) {
            const enable = spawnSync("systemctl", ["enable", "--now", "thon-console.service"], { encoding: "utf8" });
            if (enable.status !== 0) throw new OpError("failed", `systemctl enable --now thon-console failed: ${enable.stderr.trim()}`, "run it as root (sudo thon console --install)");
          }
          out(`wrote ${file}${deps.unitDir ? "" : " and started thon-console.service"}\n`);
          return;
        }
        mkdirSync(dataDir, { recursive: true, mode: 0o700 });
        const made = deps.makeAuth ? await deps.makeAuth(dataDir, projectDir) : { auth: await closedAuth(), audit: new FileAudit(join(dataDir, "audit.jsonl")) };
        if (!deps.makeAuth) err("thon console: sign-in is not wired into this build; only /healthz will answer\n");
        // The pages: credentials through the Pulumi CLI; makeAuth may add the audit list and the usage store (console/store).
        const extra = (made as { pages?: PagesOptions }).pages;
        const pages = productionPages({ stack: stackOf(cmd), projectDir, usageStore: extra?.usage?.store, gateway: new Project({ projectDir, stack: stackOf(cmd) }).event().gateway.enabled });
        const running = await startConsole(parsed, { projectDir, stack: stackOf(cmd), ...made, pages: { ...extra, ...pages.pages } });
        out(`thon console listening on ${running.address}\n`);
        const stop = () => void running.close().then(() => process.exit(0));
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      }),
    );

  consoleCmd
    .command("openapi")
    .description("print the console's OpenAPI 3.1 document")
    .action(async () => {
      const auth = await closedAuth();
      // The document depends on the routes only: no project or Docker is touched.
      const app = createConsoleApp({ auth, audit: { record: () => undefined }, ops: {} as never });
      out(JSON.stringify(openApiDocument(app), null, 2) + "\n");
    });

  // --- thon users <verb> ------------------------------------------------------------------
  const users = program.commands.find((c) => c.name() === "users") ?? program.command("users").description("participants in thon.yaml and their sandboxes");

  const bulkVerb = (verb: "restart" | "recreate" | "reset-password", description: string) =>
    users
      .command(verb)
      .description(description)
      .argument("[names...]", "participants")
      .option("--group <group>", "every participant of a group")
      .option("--yes", "apply (without it: preview only)", false)
      .option("--stack <name>", "the Pulumi stack", "dev")
      .action(async (names: string[], o: { group?: string; yes: boolean }, cmd: Command) =>
        run(cmd, async () => {
          const ctx = await localContext(cmd);
          const selection = names.length > 0 ? { names } : o.group ? { group: o.group } : undefined;
          if (!selection) throw new OpError("bad_input", `thon users ${verb}: name participants or give --group`, `thon users ${verb} alice bob, or thon users ${verb} --group alpha`, "names");
          const r = (await ops.runOp(ops.participantsBulk, ctx, { action: verb, selection, confirm: o.yes, wait: true })) as Record<string, any>;
          for (const x of r.results as Array<{ name: string; ok: boolean; message: string }>) out(`${x.ok ? "ok  " : "FAIL"} ${x.name}: ${x.message}\n`);
          if (r.operation) {
            const id = r.operation.id as string;
            for await (const item of ctx.queue.stream(id, undefined)) {
              if (item.event === "engine") {
                const line = engineLine(item.data as EngineEvent);
                if (line) out(line + "\n");
              }
            }
            const rec = ctx.queue.get(id)!;
            if (rec.error) fail(new OpError(rec.error.code as never, rec.error.message, rec.error.fix, rec.error.field, [], rec.error.data));
            const res = rec.result as { mode: string };
            out(res.mode === "preview" ? `preview only; run again with --yes to ${verb}\n` : res.mode === "propose" ? "console.changes is propose: nothing applied\n" : "applied\n");
          }
          if (!(r.results as Array<{ ok: boolean }>).every((x) => x.ok)) process.exitCode = 1;
        }),
      );
  bulkVerb("restart", "restart sandboxes (Docker; the container and workspace stay)");
  bulkVerb("recreate", "recreate sandboxes: replace the container, keep the workspace");
  bulkVerb("reset-password", "give participants a new password: replace it, then the container; keep the workspace");

  users
    .command("logs")
    .description("a participant's recent log lines, or follow them")
    .argument("<name>", "participant")
    .option("--tail <n>", "lines", "200")
    .option("-f, --follow", "keep following", false)
    .option("--stack <name>", "the Pulumi stack", "dev")
    .action(async (name: string, o: { tail: string; follow: boolean }, cmd: Command) =>
      run(cmd, async () => {
        const ctx = await localContext(cmd);
        const r = await ops.runOp(ops.participantLogs, ctx, { name, tail: o.tail });
        if (!o.follow) {
          for (const l of r.lines) out(l + "\n");
          return;
        }
        const abort = new AbortController();
        process.once("SIGINT", () => abort.abort());
        for await (const l of ctx.docker.follow(r.containerId, Number(o.tail), abort.signal)) out(l + "\n");
      }),
    );
}

class CliExit extends Error {}
