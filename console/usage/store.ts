// Token usage snapshots: the raw values of APISIX's LLM token counters at one
// moment. APISIX keeps them in a shared dict, so a restart sets them back to
// zero; totals are therefore computed from the stored series (totals.ts),
// never from one reading. The console binds this interface to its SQLite
// store; tests use an in-memory one (test/support).

/** One counter reading for one consumer and model, summed over routes and nodes. */
export interface UsageSample {
  readonly consumer: string;
  readonly model: string;
  readonly prompt: number;
  readonly completion: number;
}

export interface UsageSnapshot {
  /** Epoch milliseconds of the scrape. */
  readonly at: number;
  readonly samples: readonly UsageSample[];
}

export interface UsageStore {
  append(snapshot: UsageSnapshot): void | Promise<void>;
  /** Snapshots in time order, from `since` (epoch ms) when given. */
  series(since?: number): readonly UsageSnapshot[] | Promise<readonly UsageSnapshot[]>;
}
