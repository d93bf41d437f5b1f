// The wake button posts the participant's sandbox password. It is checked
// against the stack's own record (the `participants` stack output, secret),
// compared in constant time, limited per participant and per client address,
// and never written to a log, an error or a record: nothing here keeps it
// beyond the comparison.
//
// The limiter is hand-written: it counts failures only, under two keys at
// once, and must also refuse before the comparison; hono-rate-limiter (not
// installed) counts requests per key of one request and does neither.
import { createHash, timingSafeEqual } from "node:crypto";

export interface WakeGateOptions {
  /** The participants' passwords from the stack output (read when needed; the gate keeps no copy). */
  readonly getPasswords: () => Promise<ReadonlyMap<string, string>>;
  /** Failed attempts allowed per participant within `windowSeconds`. Default 5. */
  readonly perUser?: number;
  /** Failed attempts allowed per client address within `windowSeconds`. Default 20. */
  readonly perClient?: number;
  /** Default 900 (15 minutes). */
  readonly windowSeconds?: number;
  readonly now?: () => number;
}

export type GateResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: "wrong-password" }
  | { readonly ok: false; readonly reason: "rate-limited"; readonly retryAfterSeconds: number };

// Digests make the two sides equal in length, as timingSafeEqual needs, without leaking the length.
const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

export class WakeGate {
  private readonly failures = new Map<string, number[]>();
  private readonly perUser: number;
  private readonly perClient: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: WakeGateOptions) {
    this.perUser = opts.perUser ?? 5;
    this.perClient = opts.perClient ?? 20;
    this.windowMs = (opts.windowSeconds ?? 900) * 1000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * May `client` wake `user` with `password`? Only `user`'s own password
   * opens `user`'s sandbox; an unknown user looks exactly like a wrong password.
   */
  async check(user: string, password: string, client: string): Promise<GateResult> {
    const keys = [`user:${user}`, `client:${client}`];
    const limited = this.retryAfter(keys[0]!, this.perUser) ?? this.retryAfter(keys[1]!, this.perClient);
    if (limited !== undefined) return { ok: false, reason: "rate-limited", retryAfterSeconds: limited };
    const expected = (await this.opts.getPasswords()).get(user);
    // Compare against something even for an unknown user, so timing tells nothing.
    const match = timingSafeEqual(digest(password), digest(expected ?? "\u0000no such participant\u0000")) && expected !== undefined;
    if (match) return { ok: true };
    const t = this.now();
    for (const k of keys) this.failures.set(k, [...this.recent(k), t]);
    return { ok: false, reason: "wrong-password" };
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    const kept = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (kept.length === 0) this.failures.delete(key);
    return kept;
  }

  /** Seconds until `key` may try again, or undefined if it may now. */
  private retryAfter(key: string, limit: number): number | undefined {
    const recent = this.recent(key);
    if (recent.length < limit) return undefined;
    return Math.max(1, Math.ceil((recent[recent.length - limit]! + this.windowMs - this.now()) / 1000));
  }
}
