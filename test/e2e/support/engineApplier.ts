// The console's Applier (console/apply/applier.ts) on the e2e engine stand-in
// (engine.ts): where the console would run `pulumi preview`/`up` through the
// Automation API, this evaluates the real program for the event file under
// Pulumi's mocks, applies the diff to the real Docker engine and shell, and
// reports what it does as engine events in the documented shape (resourcePre,
// resOutputs, summary; `sequence` monotonic). `replace` URNs are deleted and
// created again, as the engine's --replace does.
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import type { Applier, ApplyOptions, PreviewResult, UpResult } from "../../../console/apply/applier.ts";
import { evaluateEventFile } from "../../../infra/cli/plan.ts";
import { tlsStandIn } from "../../support/tlsStandIn.ts";
import { diffEvaluations } from "../../../infra/preview/diff.ts";
import type { Evaluation } from "../../../infra/preview/evaluate.ts";
import type { Engine } from "./engine.ts";

export class EngineStandInApplier implements Applier {
  /** Time spent in the engine stand-in (evaluation and Docker), ms, per call. */
  readonly timings: Array<{ kind: "preview" | "up"; evaluateMs: number; applyMs: number; started: number; ended: number }> = [];

  constructor(
    private readonly engine: Engine,
    private readonly eventFile: string,
    public current: Evaluation,
  ) {}

  private emitter(o: ApplyOptions) {
    let sequence = 0;
    return (e: Omit<EngineEvent, "sequence" | "timestamp">) => o.onEvent({ sequence: sequence++, timestamp: Math.floor(Date.now() / 1000), ...e } as EngineEvent);
  }

  async preview(o: ApplyOptions): Promise<PreviewResult> {
    const started = Date.now();
    const next = await evaluateEventFile(o.eventFile ?? this.eventFile, "dev", tlsStandIn);
    const evaluateMs = Date.now() - started;
    const emit = this.emitter(o);
    emit({ preludeEvent: { config: {} } });
    const counts = this.report(next, o, emit, true);
    this.timings.push({ kind: "preview", evaluateMs, applyMs: 0, started, ended: Date.now() });
    return { changes: counts };
  }

  async up(o: ApplyOptions): Promise<UpResult> {
    const started = Date.now();
    const next = await evaluateEventFile(this.eventFile, "dev", tlsStandIn);
    const evaluateMs = Date.now() - started;
    const emit = this.emitter(o);
    emit({ preludeEvent: { config: {} } });
    const counts = this.report(next, o, emit, false);
    const t = Date.now();
    await this.engine.apply(this.current, next);
    for (const urn of o.replace ?? []) {
      const r = next.resources.find((x) => x.urn === urn);
      if (!r) throw new Error(`--replace ${urn}: no such resource in the program`);
      await this.engine.delete(r, this.current);
      await this.engine.create(r, next);
      emit({ resOutputsEvent: { metadata: { op: "replace", urn, type: r.type, provider: "" }, planning: false } } as never);
    }
    this.current = next;
    const applyMs = Date.now() - t;
    emit({ summaryEvent: { maybeCorrupt: false, durationSeconds: Math.round((Date.now() - started) / 1000), resourceChanges: counts, policyPacks: {} } } as never);
    this.timings.push({ kind: "up", evaluateMs, applyMs, started, ended: Date.now() });
    return { changes: counts };
  }

  private report(next: Evaluation, o: ApplyOptions, emit: ReturnType<EngineStandInApplier["emitter"]>, planning: boolean): Record<string, number> {
    const diff = diffEvaluations(this.current, next);
    const counts: Record<string, number> = { ...diff.counts, replace: diff.counts.replace + (o.replace?.length ?? 0) };
    for (const c of diff.changes) emit({ resourcePreEvent: { metadata: { op: c.kind, urn: c.urn, type: c.type, provider: "", diffs: [...c.inputs] }, planning } } as never);
    for (const urn of o.replace ?? []) emit({ resourcePreEvent: { metadata: { op: "replace", urn, type: urn.split("::")[2]!.split("$").pop()!, provider: "" }, planning } } as never);
    if (planning) emit({ summaryEvent: { maybeCorrupt: false, durationSeconds: 0, resourceChanges: counts, policyPacks: {} } } as never);
    return counts;
  }
}
