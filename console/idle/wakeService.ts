// The console's side of a wake: a WakeQueue in front of wakeParticipant, the
// state each participant's wake is in (for the status the parked page
// follows), and the tickets that let only the one who gave the password
// follow it. One per console process; the routes and the scheduler share it.
import { randomBytes } from "node:crypto";
import type { IdleDocker } from "./docker.ts";
import { IdleError, wakeParticipant, type IdleTarget, type WakeResult } from "./park.ts";
import type { ParkRecords } from "./records.ts";
import { WakeQueue } from "./wakeQueue.ts";

export type WakeState =
  | { readonly state: "queued"; readonly ahead: number }
  | { readonly state: "starting" }
  | { readonly state: "ready"; readonly readyMs: number }
  | { readonly state: "failed"; readonly code: string; readonly message: string };

export interface WakeServiceOptions {
  readonly docker: IdleDocker;
  readonly records: ParkRecords;
  /** The participant's plan, or undefined for an unknown name. */
  readonly target: (user: string) => IdleTarget | undefined;
  /** idle.wakeConcurrency. */
  readonly concurrency: number;
  /** idle.wakeTimeout, seconds. */
  readonly timeoutSeconds: number;
  readonly pollMs?: number;
  /** How long a finished wake's state and its tickets are kept (ms). Default 10 minutes. */
  readonly keepMs?: number;
  readonly now?: () => number;
}

export class WakeService {
  private readonly queue: WakeQueue<WakeResult>;
  private readonly states = new Map<string, { state: WakeState; at: number }>();
  private readonly tickets = new Map<string, { user: string; expires: number }>();
  private readonly now: () => number;
  private readonly keepMs: number;

  constructor(private readonly opts: WakeServiceOptions) {
    this.now = opts.now ?? Date.now;
    this.keepMs = opts.keepMs ?? 10 * 60_000;
    this.queue = new WakeQueue({
      concurrency: opts.concurrency,
      wake: async (user) => {
        this.states.set(user, { state: { state: "starting" }, at: this.now() });
        const target = opts.target(user);
        if (!target) throw new IdleError("no-container", user, `${user}: not a participant`);
        return wakeParticipant(opts.docker, target, opts.records, { timeoutSeconds: opts.timeoutSeconds, ...(opts.pollMs ? { pollMs: opts.pollMs } : {}) });
      },
    });
  }

  /** Queues `user`'s wake (or joins the one under way) and returns a ticket to follow it. The caller has checked the password. */
  start(user: string): { ticket: string; state: WakeState } {
    this.prune();
    const current = this.state(user)?.state;
    if (current !== "queued" && current !== "starting") {
      this.states.set(user, { state: { state: "queued", ahead: 0 }, at: this.now() });
      this.queue.request(user).then(
        (r) => this.states.set(user, { state: { state: "ready", readyMs: r.readyMs }, at: this.now() }),
        (err: unknown) =>
          this.states.set(user, {
            state: err instanceof IdleError ? { state: "failed", code: err.code, message: err.message } : { state: "failed", code: "error", message: `${user}: the wake failed; ask an organizer` },
            at: this.now(),
          }),
      );
    }
    const ticket = randomBytes(24).toString("base64url");
    this.tickets.set(ticket, { user, expires: this.now() + this.keepMs });
    return { ticket, state: this.state(user)! };
  }

  /** The wake state of `user` for the holder of `ticket`; undefined for a wrong, expired or other participant's ticket. */
  follow(user: string, ticket: string): WakeState | undefined {
    const t = this.tickets.get(ticket);
    if (!t || t.user !== user || t.expires <= this.now()) return undefined;
    return this.state(user);
  }

  /** The wake state of `user` (organizer view), or undefined if none is known. */
  state(user: string): WakeState | undefined {
    const ahead = this.queue.position(user);
    if (ahead !== undefined) return { state: "queued", ahead };
    return this.states.get(user)?.state;
  }

  get stats(): { readonly waiting: number; readonly running: number } {
    return this.queue.stats;
  }

  private prune(): void {
    const now = this.now();
    for (const [k, t] of this.tickets) if (t.expires <= now) this.tickets.delete(k);
    for (const [u, s] of this.states) if (s.state.state !== "queued" && s.state.state !== "starting" && s.at + this.keepMs <= now) this.states.delete(u);
  }
}
