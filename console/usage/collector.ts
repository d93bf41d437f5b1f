// Scrapes APISIX's Prometheus export server (default 127.0.0.1:9091,
// /apisix/prometheus/metrics) on a schedule and appends a snapshot to the
// store. The schedule is server-side; browsers never poll.
import axios from "axios";
import { parseTokenCounters } from "./prometheus.ts";
import type { UsageStore } from "./store.ts";

export const DEFAULT_METRICS_URL = "http://127.0.0.1:9091/apisix/prometheus/metrics";

export interface CollectorOptions {
  readonly url?: string;
  readonly intervalMs?: number;
  readonly now?: () => number;
}

export class UsageCollector {
  private timer: NodeJS.Timeout | undefined;
  /** The last scrape's error, for the gateway and health pages. */
  lastError: string | null = null;
  lastScrape: number | null = null;
  readonly url: string;

  constructor(
    private readonly store: UsageStore,
    private readonly options: CollectorOptions = {},
  ) {
    this.url = options.url ?? DEFAULT_METRICS_URL;
  }

  async scrapeOnce(): Promise<boolean> {
    try {
      const r = await axios.get<string>(this.url, { timeout: 3000, responseType: "text", transformResponse: (x) => x });
      const at = (this.options.now ?? Date.now)();
      await this.store.append({ at, samples: parseTokenCounters(r.data) });
      this.lastError = null;
      this.lastScrape = at;
      return true;
    } catch (err) {
      const e = err as { code?: string; response?: { status: number }; message?: string };
      this.lastError = e.response ? `APISIX metrics at ${this.url} answered HTTP ${e.response.status} (is the prometheus plugin enabled?)` : `APISIX metrics at ${this.url} do not answer (${e.code ?? e.message}); is APISIX running?`;
      return false;
    }
  }

  start(): void {
    if (this.timer) return;
    void this.scrapeOnce();
    this.timer = setInterval(() => void this.scrapeOnce(), this.options.intervalMs ?? 30_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
