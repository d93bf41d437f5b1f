// The console's side of the `thon` command (commander): `thon console` and
// the per-participant verbs the operations layer adds to `thon users`. Each
// verb runs an operation from console/ops as the local organizer, like the
// REST API does for a signed-in one.
import { writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import { spawnSync } from "node:child_process";
import type { Command } from "commander";
import type { Principal } from "./auth/types.ts";
import { setOrganizerPassword } from "./auth/password.ts";
import type { Applier, EngineEvent } from "./apply/applier.ts";
import type { OpContext } from "./ops/context.ts";
import type { SandboxDocker } from "./ops/docker.ts";
import { OpError } from "./ops/errors.ts";
import * as ops from "./ops/operations.ts";
import { consoleOpenApiDocument, defaultConsoleListen, openAudit, openConsole, type OpenConsole, type OpenConsoleOptions } from "./main.ts";
import { consoleServices, DEFAULT_DATA_DIR, parseListen, renderConsoleUnit, serveApp } from "./server.ts";
import { projectDir as findProjectDir } from "../infra/cli/main.ts";
import { drainNode, moveParticipant, MoveRefused, planMove } from "./ops/nodeMove.ts";
import { formatDrain, formatMove, formatNodes, moveDepsFor } from "./ops/nodeCommands.ts";

export interface ConsoleCliDeps {
  /** Opens the whole console (console/main.ts); tests pass stand-ins for Docker and the applier through it. */
  readonly open?: (options: OpenConsoleOptions) => Promise<OpenConsole>;
  /** Stand-ins for the CLI's own verbs (tests); default: dockerd and the Automation API. */
  readonly docker?: SandboxDocker;
  readonly applier?: Applier;
  readonly env?: NodeJS.ProcessEnv;
  /** `thon console passwd`'s new password; default: stdin's first line, or a prompt without echo on a terminal. */
  readonly readPassword?: () => Promise<string>;
  readonly out?: (text: string) => void;
  readonly err?: (text: string) => void;
  readonly cwd?: string;
  /** Where --install writes the unit (default /etc/systemd/system). */
  readonly unitDir?: string;
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

  const env = deps.env ?? process.env;
  const opened: Array<{ close(): void }> = [];
  // A shell on the event host is the organizer (sudo/ssh decide who gets one).
  const localPrincipal = (): Principal => ({ id: `local:${userInfo().username}`, role: "organizer", via: "cli" });

  const localContext = async (cmd: Command): Promise<OpContext> => {
    const projectDir = findProjectDir(cwd);
    const { store, audit } = openAudit(dataOf(projectDir, undefined));
    opened.push(store);
    const services = consoleServices({ projectDir, stack: stackOf(cmd), audit, env, ...(deps.docker ? { docker: deps.docker } : {}), ...(deps.applier ? { applier: deps.applier } : {}) });
    return { ...services, principal: localPrincipal() };
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
    } finally {
      for (const o of opened.splice(0)) o.close();
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
        const projectDir = findProjectDir(cwd);
        const dataDir = dataOf(projectDir, o.data);
        const listen = o.listen ?? defaultConsoleListen(projectDir, stackOf(cmd));
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
        const opening = deps.open ?? openConsole;
        const c = await opening({ projectDir, dataDir, stack: stackOf(cmd), env, ...(parsed.kind === "tcp" ? { behindProxy: false } : {}), ...(deps.docker ? { docker: deps.docker } : {}), ...(deps.applier ? { applier: deps.applier } : {}) });
        if (c.password.source === "generated") {
          // Shown this once (docs/console-auth.md); only its hash is kept.
          out(`\nThe organizer password (shown once; change it with \`thon console passwd\`):\n\n    ${c.password.password}\n\n`);
        }
        const running = await serveApp(parsed, c.app);
        c.scheduler.start(); // parks idle sandboxes only while thon.yaml's idle.enabled is on
        out(`thon console listening on ${running.address}\n`);
        const stop = () => void running.close().then(() => (c.close(), process.exit(0)));
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      }),
    );

  consoleCmd
    .command("openapi")
    .description("print the console's OpenAPI 3.1 document")
    .action(async () => {
      out(JSON.stringify(await consoleOpenApiDocument(), null, 2) + "\n");
    });

  consoleCmd
    .command("passwd")
    .description("set the organizer password (read from stdin, or asked for without echo); signs out its sessions")
    .option("--data <dir>", `the console's data folder (default: ${DEFAULT_DATA_DIR} in the project)`)
    .action(async (o: { data?: string }, cmd: Command) =>
      run(cmd, async () => {
        // `thon console` has --data too: commander gives it to whichever command it parses first.
        const dataDir = dataOf(findProjectDir(cwd), o.data ?? (cmd.optsWithGlobals() as { data?: string }).data);
        const password = await (deps.readPassword ?? (() => readNewPassword(err)))();
        const { store, audit } = openAudit(dataDir);
        opened.push(store);
        const actor = localPrincipal().id;
        try {
          const r = await setOrganizerPassword(store, password);
          audit.record({ actor, action: "console.passwd", result: "ok", detail: `${r.endedSessions} password session(s) signed out` });
          out(`organizer password set in ${store.file}; ${r.endedSessions} password session(s) signed out\n`);
        } catch (e) {
          audit.record({ actor, action: "console.passwd", result: "error", detail: (e as Error).message });
          throw new OpError("bad_input", (e as Error).message.replace(/\. Fix: .*$/, ""), "choose a password of at least 12 characters (a passphrase of a few words is fine)", "password");
        }
      }),
    );

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

  // --- swarm nodes ---------------------------------------------------------------------------
  /** A refused move: the reason and the field, exit 1; nothing was changed. */
  const refused = (e: unknown): never => {
    if (e instanceof MoveRefused) throw new OpError("conflict", e.message, "nothing was changed; fix what the message names and run it again", e.field);
    throw e;
  };

  users
    .command("move-node")
    .description("swarm: move a participant to another node, carrying their home and workspace (or refuse, changing nothing)")
    .argument("<name>", "participant")
    .requiredOption("--to <node>", "the node to move them to (a name of target.nodes)")
    .option("--yes", "move (without it: say what would happen)", false)
    .option("--stack <name>", "the Pulumi stack", "dev")
    .action(async (name: string, o: { to: string; yes: boolean }, cmd: Command) =>
      run(cmd, async () => {
        const ctx = await localContext(cmd);
        const moveDeps = await moveDepsFor(ctx, env, "users.move-node", name);
        if (!o.yes) {
          const plan = (() => { try { return planMove(moveDeps, name, o.to); } catch (e) { return refused(e); } })();
          out(`would move ${name} from ${plan.from} to ${o.to}: stop their service, copy ${plan.volumes.join(", ")} to ${o.to} and verify, record ${o.to} in thon.placement.yaml, apply
run again with --yes to move
`);
          return;
        }
        ctx.audit.record({ actor: ctx.principal.id, action: "users.move-node", target: name, result: "started", detail: `to ${o.to}` });
        const r = await moveParticipant(moveDeps, name, o.to).catch(refused);
        ctx.audit.record({ actor: ctx.principal.id, action: "users.move-node", target: name, result: "ok", detail: `${r.from} -> ${r.to}` });
        out(formatMove(r));
      }),
    );

  const nodes = program
    .command("nodes")
    .description("swarm: the nodes with their state, participants and memory")
    .option("--stack <name>", "the Pulumi stack", "dev")
    .action(async (_o: unknown, cmd: Command) =>
      run(cmd, async () => {
        const ctx = await localContext(cmd);
        const list = await ctx.status.nodes(ctx.project.plan().event);
        if (list === null) throw new OpError("conflict", "this event runs on one host (no swarm target): no nodes to list", "see thon users / the console for the sandboxes", "target.kind");
        out(formatNodes(list));
      }),
    );

  nodes
    .command("drain")
    .description("swarm: move every participant off a node (for maintenance), each to the node with the most free memory, carrying their workspace")
    .argument("<node>", "the node to empty")
    .option("--yes", "move (without it: say who is on it)", false)
    .option("--stack <name>", "the Pulumi stack", "dev")
    .action(async (node: string, o: { yes: boolean }, cmd: Command) =>
      run(cmd, async () => {
        const ctx = await localContext(cmd);
        const moveDeps = await moveDepsFor(ctx, env, "nodes.drain", node);
        if (!o.yes) {
          const here = Object.entries(moveDeps.assignment).filter(([, n]) => n === node).map(([u]) => u).sort();
          out(`${node} holds ${here.length} participant(s): ${here.join(", ") || "none"}
run again with --yes to move them
`);
          return;
        }
        ctx.audit.record({ actor: ctx.principal.id, action: "nodes.drain", target: node, result: "started" });
        const r = await drainNode(moveDeps, node).catch(refused);
        ctx.audit.record({ actor: ctx.principal.id, action: "nodes.drain", target: node, result: r.refused.length === 0 ? "ok" : "error", detail: formatDrain(r) });
        out(formatDrain(r));
        if (r.refused.length > 0) process.exitCode = 1;
      }),
    );
}

class CliExit extends Error {}

/**
 * The new organizer password: the first line of stdin when it is not a
 * terminal (scripts: `printf %s "$PW" | thon console passwd`), else asked for
 * twice with the echo off. Never printed.
 */
async function readNewPassword(err: (t: string) => void): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = "";
    for await (const chunk of process.stdin) text += String(chunk);
    return text.split(/\r?\n/)[0] ?? "";
  }
  // readline writes what is typed to its output; a muted output hides it.
  let muted = false;
  const output = new Writable({ write: (chunk, _enc, done) => (muted || process.stderr.write(chunk), done()) });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  const ask = async (q: string) => {
    err(q);
    muted = true;
    const a = await rl.question("");
    muted = false;
    err("\n");
    return a;
  };
  try {
    const first = await ask("New organizer password: ");
    if ((await ask("Again: ")) !== first) throw new OpError("bad_input", "the two passwords differ", "run thon console passwd again and type the same password twice", "password");
    return first;
  } finally {
    rl.close();
  }
}
