// The idle loop: every interval (default 60 s) it reads everyone's signals
// (a few at a time), assesses them and parks those due now. What it never
// parks is decided in `assess` (organizer-stopped, exempt, kept awake,
// starting, connected without parkConnectedAfter) and checked again by
// parkParticipant against Docker at the moment of the park. Each park, and
// each failed one, goes to the audit log as actor "thon:idle".
import type { AuditLog } from "../auth/types.ts";
import type { IdlePolicy } from "../../infra/config/schema.ts";
import { dryRun, type Assessment, type Signals } from "./decide.ts";
import type { IdleDocker } from "./docker.ts";
import { parkParticipant } from "./park.ts";
import type { ParkRecords } from "./records.ts";
import type { KeepAwakeStore } from "./sqliteRecords.ts";
import { subjectsOf, type IdleParticipant } from "./subjects.ts";

/** The timers the loop uses; tests pass a fake clock. */
export interface SchedulerClock {
  now(): Date;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: SchedulerClock = {
  now: () => new Date(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface IdleSchedulerOptions {
  readonly participants: () => readonly IdleParticipant[];
  /** `event.idle`, read every round (a deploy may change it). */
  readonly policy: () => IdlePolicy;
  readonly docker: IdleDocker;
  readonly records: ParkRecords;
  readonly keepAwake: KeepAwakeStore;
  readonly signals: (p: IdleParticipant) => Promise<Signals>;
  readonly audit: AuditLog;
  /** Seconds between rounds. Default 60. */
  readonly intervalSeconds?: number;
  /** Participants read at once. Default 4. */
  readonly concurrency?: number;
  readonly clock?: SchedulerClock;
  /** A round that failed as a whole (the plan or Docker unreadable); default: ignored until the next round. */
  readonly onError?: (err: unknown) => void;
}

export interface RoundResult {
  readonly at: Date;
  readonly assessed: number;
  readonly parked: readonly string[];
  readonly failed: readonly { readonly user: string; readonly message: string }[];
}

export class IdleScheduler {
  private timer: unknown;
  private running: Promise<RoundResult> | undefined;
  private stopped = true;
  private readonly clock: SchedulerClock;
  private readonly intervalMs: number;

  constructor(private readonly opts: IdleSchedulerOptions) {
    this.clock = opts.clock ?? systemClock;
    const s = opts.intervalSeconds ?? 60;
    if (!(s > 0)) throw new Error(`idle scheduler: intervalSeconds must be above 0, got ${s}`);
    this.intervalMs = s * 1000;
  }

  /** Starts the loop; the first round runs one interval from now. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  /** Stops the loop and waits for a round under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** The round under way, if any (tests await it). */
  get current(): Promise<RoundResult> | undefined {
    return this.running;
  }

  /** One round now; a round already under way is joined, never doubled. */
  round(): Promise<RoundResult> {
    this.running ??= this.runRound().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.round()
        .catch((err: unknown) => this.opts.onError?.(err))
        .finally(() => this.schedule());
    }, this.intervalMs);
  }

  private async runRound(): Promise<RoundResult> {
    const at = this.clock.now();
    const policy = this.opts.policy();
    const participants = this.opts.participants();
    if (!policy.enabled) return { at, assessed: 0, parked: [], failed: [] };
    const subjects = await subjectsOf(participants, { records: this.opts.records, keepAwake: this.opts.keepAwake, signals: this.opts.signals, concurrency: this.opts.concurrency ?? 4 });
    const { due } = dryRun(subjects, policy, at);
    const parked: string[] = [];
    const failed: { user: string; message: string }[] = [];
    for (const a of due.filter((d): d is Assessment & { decision: { action: "park-now"; why: string } } => d.decision.action === "park-now")) {
      const plan = participants.find((p) => p.name === a.user)!;
      const reason = `idle: ${a.decision.why}`;
      try {
        // A connected-idle park is the policy's parkConnectedAfter; any other park backs off from a tab that connected since the read.
        await parkParticipant(this.opts.docker, plan, this.opts.records, reason, { unlessConnected: a.status !== "connected-idle", now: () => this.clock.now() });
        parked.push(a.user);
        this.opts.audit.record({ actor: "thon:idle", action: "idle.park", target: a.user, detail: reason, result: "ok" });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        failed.push({ user: a.user, message });
        this.opts.audit.record({ actor: "thon:idle", action: "idle.park", target: a.user, detail: message, result: "error" });
      }
    }
    return { at, assessed: subjects.length, parked, failed };
  }
}
