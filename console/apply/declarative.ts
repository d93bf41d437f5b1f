// A declarative operation: edit thon.yaml (comments kept), validate, preview
// the diff, and on confirmation apply, all inside the stack's queue. The edit
// is checked once when submitted (so bad input is a 4xx at once, nothing
// queued) and again on its turn, against the file as it is then.
import { rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { EditError } from "../../infra/cli/edit.ts";
import { parseThonFile, ThonConfigError } from "../../infra/config/load.ts";
import type { AuditLog } from "../auth/types.ts";
import { OpError } from "../ops/errors.ts";
import { configError, type Project } from "../ops/project.ts";
import { unifiedDiff } from "../ops/textDiff.ts";
import { PulumiMissingError, StackBusyError, type Applier, type ChangeCounts } from "./applier.ts";
import type { OperationQueue, OperationRecord } from "./queue.ts";

export interface DeclarativeChange {
  readonly action: string;
  readonly target?: string;
  /** The thon.yaml edit; none for pure replaces. */
  readonly edit?: (text: string) => string;
  /** URNs to replace, given the project (reset password, recreate). */
  readonly replace?: (project: Project) => string[];
  /** Extra result fields (per-participant results of a bulk change). */
  readonly extra?: Record<string, unknown>;
}

export interface SubmitOptions {
  readonly confirm: boolean;
  readonly actor: string;
  readonly ifBusy?: "wait" | "fail";
}

export interface DeclarativeResult {
  /** propose: nothing applied, commit the diff; preview: nothing applied yet; applied. */
  readonly mode: "propose" | "preview" | "applied";
  readonly thonYamlDiff: string;
  readonly replace: readonly string[];
  readonly changes: ChangeCounts | null;
  readonly [k: string]: unknown;
}

/** What the program would change, computed offline (infra/mock), when Pulumi cannot run. */
export type OfflinePreview = (beforeFile: string, afterFile: string) => Promise<string>;

export interface DeclarativeDeps {
  readonly project: Project;
  readonly applier: Applier;
  readonly queue: OperationQueue;
  readonly audit: AuditLog;
  readonly offlinePreview?: OfflinePreview;
}

export function editError(err: EditError): OpError {
  // edit.ts's own "Fix: …" speaks of CLI flags (--create-group); the console gives its own fix.
  const m = err.message.replace(/\. Fix: [\s\S]*$/, "");
  if (/^there is no/.test(m)) return new OpError("not_found", m, "check the name (GET /api/v1/participants or /api/v1/groups)", "name");
  if (/already/.test(m)) return new OpError("conflict", m, "pick another name, or leave it as it is", "to");
  if (/still has/.test(m)) return new OpError("conflict", m, "move or remove its participants first", "name");
  return new OpError("invalid_config", m, "fix thon.yaml by hand so it parses, then retry");
}

/** Applies the edit and validates the whole file; throws OpError (404/409/422), writes nothing. */
export function checkedEdit(project: Project, change: DeclarativeChange): { before: string; after: string } {
  const before = project.readText();
  let after = before;
  try {
    if (change.edit) after = change.edit(before);
    parseThonFile(after, project.eventFile);
  } catch (err) {
    if (err instanceof EditError) throw editError(err);
    if (err instanceof ThonConfigError) throw configError(err);
    throw err;
  }
  return { before, after };
}

export class DeclarativeRunner {
  constructor(private readonly deps: DeclarativeDeps) {}

  submit(change: DeclarativeChange, options: SubmitOptions): { record: OperationRecord; done: Promise<OperationRecord> } {
    checkedEdit(this.deps.project, change); // 4xx now, before anything is queued
    return this.deps.queue.enqueue(
      { action: change.action, ...(change.target ? { target: change.target } : {}), actor: options.actor, run: (emit) => this.run(change, options, emit) },
      options.ifBusy ? { ifBusy: options.ifBusy } : {},
    );
  }

  private async run(change: DeclarativeChange, options: SubmitOptions, emit: Parameters<Applier["up"]>[0]["onEvent"]): Promise<DeclarativeResult> {
    const { project, applier, audit } = this.deps;
    const { before, after } = checkedEdit(project, change);
    const thonYamlDiff = unifiedDiff(before, after, basename(project.eventFile));
    const replace = change.replace?.(project) ?? [];
    const base = { thonYamlDiff, replace, ...(change.extra ?? {}) };
    const entry = { actor: options.actor, action: change.action, ...(change.target ? { target: change.target } : {}), diff: thonYamlDiff || replace.map((u) => `replace ${u}`).join("\n") };

    if (project.changesMode() === "propose") {
      audit.record({ ...entry, result: "ok", detail: "proposed (console.changes: propose): nothing applied" });
      return { mode: "propose", changes: null, ...base };
    }

    const candidate = join(dirname(project.eventFile), `.${basename(project.eventFile)}.candidate.yaml`);
    const edited = after !== before;
    try {
      if (!options.confirm) {
        if (edited) writeFileSync(candidate, after);
        const r = await applier.preview({ ...(edited ? { eventFile: candidate } : {}), replace, onEvent: emit });
        return { mode: "preview", changes: r.changes, ...base };
      }
      audit.record({ ...entry, result: "started" });
      if (edited) project.writeText(after);
      try {
        const r = await applier.up({ replace, onEvent: emit });
        audit.record({ ...entry, result: "ok", detail: JSON.stringify(r.changes) });
        return { mode: "applied", changes: r.changes, ...base };
      } catch (err) {
        // Nothing ran: take the edit back so thon.yaml says what the stack has.
        if (edited && (err instanceof PulumiMissingError || err instanceof StackBusyError)) project.writeText(before);
        audit.record({ ...entry, result: "error", detail: (err as Error).message });
        throw err;
      }
    } catch (err) {
      if (err instanceof StackBusyError) throw new OpError("conflict", err.message, "wait for the other update to finish, then retry", undefined, [], base);
      if (err instanceof PulumiMissingError) {
        let offline = "";
        if (this.deps.offlinePreview && edited) {
          writeFileSync(candidate, after);
          offline = await this.deps.offlinePreview(project.eventFile, candidate).catch((e: Error) => `(the offline preview failed too: ${e.message})`);
        }
        throw new OpError("unavailable", `${err.message}. Nothing was applied; this is the change it would have applied.`, "install the Pulumi CLI, or set console.changes: propose and commit the thon.yaml diff", undefined, [], {
          ...base,
          offlinePreview: offline || replace.map((u) => `+- ${u}`).join("\n"),
        });
      }
      throw err;
    } finally {
      rmSync(candidate, { force: true });
    }
  }
}

/** The offline preview behind PulumiMissingError: the program under mocks for both files, diffed (infra/cli/plan.ts). */
export const mockPreview: OfflinePreview = async (beforeFile, afterFile) => {
  const { evaluateEventFile, diffEvaluations, formatDiff } = await import("../../infra/cli/plan.ts");
  const before = await evaluateEventFile(beforeFile);
  const after = await evaluateEventFile(afterFile);
  return formatDiff(diffEvaluations(before, after));
};
