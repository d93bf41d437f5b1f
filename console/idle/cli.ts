// `thon idle`: what idle parking would do now (the dry run), and, with
// --yes, parking those due now from a shell on the event host. The console's
// scheduler does the same every minute; this is for looking before enabling
// it, and for an organizer who wants the room now.
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { AuditLog } from "../auth/types.ts";
import type { IdlePolicy } from "../../infra/config/schema.ts";
import { dryRun, type Signals } from "./decide.ts";
import type { IdleDocker } from "./docker.ts";
import { parkParticipant } from "./park.ts";
import type { ParkRecords } from "./records.ts";
import { idleReport } from "./report.ts";
import type { KeepAwakeStore } from "./sqliteRecords.ts";
import { subjectsOf, type IdleParticipant } from "./subjects.ts";
import { projectDir as findProjectDir } from "../../infra/cli/main.ts";

/** What `thon idle` reads and acts on; the default opens the project, Docker and the console store. */
export interface IdleCliContext {
  readonly participants: readonly IdleParticipant[];
  readonly policy: IdlePolicy;
  readonly docker: IdleDocker;
  readonly records: ParkRecords;
  readonly keepAwake: KeepAwakeStore;
  readonly signals: (p: IdleParticipant) => Promise<Signals>;
  readonly audit: AuditLog;
  close?(): void;
}

export interface IdleCliDeps {
  readonly out?: (text: string) => void;
  readonly err?: (text: string) => void;
  readonly now?: () => Date;
  readonly load?: (o: { stack: string; data?: string }) => Promise<IdleCliContext>;
}

/** The real context: thon.yaml's plan, dockerd on its default socket, the console's store in the data folder. */
async function loadLocal(o: { stack: string; data?: string }): Promise<IdleCliContext> {
  const [{ sandboxBackend }, { Project }, { readSignals }, { openStore }, { SqliteParkRecords }, { SqliteAuditLog }, { Redactor }, { DEFAULT_DATA_DIR }] = await Promise.all([
    import("../ops/backend.ts"),
    import("../ops/project.ts"),
    import("./signals.ts"),
    import("../store/store.ts"),
    import("./sqliteRecords.ts"),
    import("../auth/audit.ts"),
    import("../auth/redact.ts"),
    import("../server.ts"),
  ]);
  const projectDir = findProjectDir(process.cwd());
  const project = new Project({ projectDir, stack: o.stack });
  const docker = sandboxBackend(project.event()).idle;
  const store = openStore(resolve(o.data ?? join(projectDir, DEFAULT_DATA_DIR)));
  const records = new SqliteParkRecords(store.db);
  return {
    participants: project.plan().participants,
    policy: project.event().idle,
    docker,
    records,
    keepAwake: records.keepAwake,
    signals: (p) => readSignals(docker, p),
    audit: new SqliteAuditLog(store, new Redactor(), Date.now),
    close: () => store.close(),
  };
}

export function registerIdleCommands(program: Command, deps: IdleCliDeps = {}): void {
  const out = deps.out ?? ((t: string) => process.stdout.write(t));
  const err = deps.err ?? ((t: string) => process.stderr.write(t));
  const now = deps.now ?? (() => new Date());
  program
    .command("idle")
    .description("show which idle sandboxes would be parked and when (and why not the others); with --yes, park those due now")
    .option("--dry-run", "only show what would happen", false)
    .option("--json", "print the assessments as JSON", false)
    .option("--yes", "park those due now (without --dry-run)", false)
    .option("--stack <name>", "the Pulumi stack", "dev")
    .option("--data <dir>", "the console's data folder (park records, keep-awake)")
    .action(async (o: { dryRun: boolean; json: boolean; yes: boolean; stack: string; data?: string }) => {
      let ctx: IdleCliContext | undefined;
      try {
        ctx = await (deps.load ?? loadLocal)({ stack: o.stack, ...(o.data ? { data: o.data } : {}) });
        const at = now();
        const subjects = await subjectsOf(ctx.participants, { records: ctx.records, keepAwake: ctx.keepAwake, signals: ctx.signals });
        const { all, due } = dryRun(subjects, ctx.policy, at);
        const parkNow = due.filter((a) => a.decision.action === "park-now");
        if (o.json) out(JSON.stringify({ asOf: at.toISOString(), policy: ctx.policy, due: due.map((a) => a.user), participants: all }, null, 2) + "\n");
        else out(idleReport(all, ctx.policy, at));
        if (o.dryRun || parkNow.length === 0) return;
        if (!ctx.policy.enabled) {
          err(`\nthon idle: idle parking is off (idle.enabled: false); nothing parked.\n  fix: set idle.enabled: true in thon.yaml, or look only with --dry-run\n`);
          process.exitCode = 1;
          return;
        }
        if (!o.yes) {
          err(`\nthon idle: ${parkNow.length} would be parked now (${parkNow.map((a) => a.user).join(", ")}); nothing parked.\n  fix: run thon idle --yes to park them, or thon idle --dry-run to only look\n`);
          process.exitCode = 1;
          return;
        }
        const actor = `local:${userInfo().username}`;
        out("\n");
        for (const a of parkNow) {
          const plan = ctx.participants.find((p) => p.name === a.user)!;
          const reason = `idle: ${a.decision.why} (thon idle by ${actor})`;
          try {
            await parkParticipant(ctx.docker, plan, ctx.records, reason, { unlessConnected: a.status !== "connected-idle", now });
            ctx.audit.record({ actor, action: "idle.park", target: a.user, detail: reason, result: "ok" });
            out(`parked ${a.user}\n`);
          } catch (e) {
            const message = e instanceof Error ? e.message : String(e);
            ctx.audit.record({ actor, action: "idle.park", target: a.user, detail: message, result: "error" });
            err(`not parked: ${message}\n`);
            process.exitCode = 1;
          }
        }
      } catch (e) {
        err(`thon idle: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
      } finally {
        ctx?.close?.();
      }
    });
}
