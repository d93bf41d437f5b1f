// Sign-in rate limits: a sliding window of attempt times per key. Hand-written
// (30 lines) because hono-rate-limiter is not among the installed packages
// and the rule here is specific: failures count per client, every attempt
// counts globally (each costs a 32 MiB scrypt).

export interface Window {
  readonly attempts: number;
  readonly windowMs: number;
}

export class SlidingWindow {
  readonly #hits = new Map<string, number[]>();
  constructor(
    readonly limit: Window,
    private readonly now: () => number,
  ) {}

  /** Seconds until `key` may try again, or 0 if it may now. */
  retryAfter(key: string): number {
    const hits = this.#live(key);
    if (hits.length < this.limit.attempts) return 0;
    return Math.max(1, Math.ceil((hits[0]! + this.limit.windowMs - this.now()) / 1000));
  }

  hit(key: string): void {
    const hits = this.#live(key);
    hits.push(this.now());
    this.#hits.set(key, hits);
    // Bound memory under a spray of addresses: forget the stalest key.
    if (this.#hits.size > 10_000) this.#hits.delete(this.#hits.keys().next().value!);
  }

  #live(key: string): number[] {
    const since = this.now() - this.limit.windowMs;
    const hits = (this.#hits.get(key) ?? []).filter((t) => t > since);
    if (hits.length) this.#hits.set(key, hits);
    else this.#hits.delete(key);
    return hits;
  }
}
