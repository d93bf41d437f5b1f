// The pages' parts bound for a real console process: credentials from the
// stack's outputs through the Pulumi CLI (`thon credentials`' own reader,
// cached briefly so revealing ten passwords is one CLI run), and the token
// usage collector scraping APISIX into the given store.
import { parseStackOutputs, readStackOutputs, type StackCredentials } from "../../infra/cli/credentials.ts";
import { OpError } from "../ops/errors.ts";
import { UsageCollector, DEFAULT_METRICS_URL } from "../usage/collector.ts";
import type { UsageStore } from "../usage/store.ts";
import type { CredentialsReader, PagesOptions } from "./deps.ts";

export class PulumiCredentials implements CredentialsReader {
  private cached: { at: number; value: Promise<StackCredentials> } | undefined;
  constructor(
    private readonly stack: string,
    private readonly projectDir: string,
    private readonly ttlMs = 30_000,
  ) {}

  read(): Promise<StackCredentials> {
    if (this.cached && Date.now() - this.cached.at < this.ttlMs) return this.cached.value;
    const value = readStackOutputs(this.stack, this.projectDir)
      .then(parseStackOutputs)
      .catch((err: Error) => {
        this.cached = undefined;
        throw new OpError("unavailable", err.message, "run thon credentials on the host, or install the Pulumi CLI where the console runs");
      });
    this.cached = { at: Date.now(), value };
    return value;
  }
}

export interface ProductionPagesOptions {
  readonly stack: string;
  readonly projectDir: string;
  /** The console's store for token usage snapshots (SQLite in console/store). */
  readonly usageStore?: UsageStore;
  /** Whether thon.yaml enables the gateway (no scraping otherwise). */
  readonly gateway: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** Starts the usage collector when there is a store and a gateway; stop it with the returned `stop`. */
export function productionPages(o: ProductionPagesOptions): { pages: PagesOptions; stop(): void } {
  const env = o.env ?? process.env;
  const collector =
    o.usageStore && o.gateway
      ? new UsageCollector(o.usageStore, { url: env.THON_GATEWAY_METRICS_URL ?? DEFAULT_METRICS_URL, intervalMs: Number(env.THON_USAGE_SCRAPE_MS ?? 30_000) })
      : undefined;
  collector?.start();
  return {
    pages: {
      credentials: new PulumiCredentials(o.stack, o.projectDir),
      ...(o.usageStore ? { usage: { store: o.usageStore, ...(collector ? { collector } : {}) } } : {}),
    },
    stop: () => collector?.stop(),
  };
}
