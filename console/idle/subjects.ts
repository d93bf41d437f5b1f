// Everyone's IdleSubject: the plan, THON's records and fresh signals, read a
// few participants at a time (each read is a docker inspect, a /healthz, a CPU
// sample of about a second and a walk of the workspace). Shared by the
// scheduler, the console's dry run and `thon idle`.
import type { ParticipantPlan } from "../../infra/plan.ts";
import type { IdleSubject, Signals } from "./decide.ts";
import type { ParkRecords } from "./records.ts";
import type { KeepAwakeStore } from "./sqliteRecords.ts";

/** What the idle parts need of a participant's plan (a ParticipantPlan fits); `node` too on a swarm, where /healthz is read through it. */
export type IdleParticipant = Pick<ParticipantPlan, "name" | "group" | "state" | "containerName" | "socketHostPath" | "endpointPath"> & Partial<Pick<ParticipantPlan, "node">>;

export interface SubjectSources {
  readonly records: ParkRecords;
  readonly keepAwake: KeepAwakeStore;
  /** Reads one participant's signals (e.g. `(p) => readSignals(docker, p, inputs)`). */
  readonly signals: (p: IdleParticipant) => Promise<Signals>;
  /** Reads at once at most. Default 4. */
  readonly concurrency?: number;
}

/** Maps `items` through `fn`, at most `limit` at a time, keeping the order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** One participant's subject; a signal read that fails counts as no reading (never as use). */
export async function subjectOf(p: IdleParticipant, src: SubjectSources): Promise<IdleSubject> {
  const signals = await src.signals(p).catch((): Signals => ({}));
  const parked = src.records.get(p.name);
  const keep = src.keepAwake.get(p.name);
  return {
    user: p.name,
    group: p.group,
    declaredState: p.state,
    ...(parked ? { parked: { at: parked.at, reason: parked.reason } } : {}),
    ...(keep ? { keepAwakeUntil: keep.until } : {}),
    signals,
  };
}

export function subjectsOf(participants: readonly IdleParticipant[], src: SubjectSources): Promise<IdleSubject[]> {
  return mapBounded(participants, src.concurrency ?? 4, (p) => subjectOf(p, src));
}
