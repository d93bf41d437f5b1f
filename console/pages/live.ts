// Live status to every open page over one Server-Sent Events stream per
// page. One loop on the server (not one per browser) refreshes the status
// while someone listens and sends only the rows that changed, as rendered
// HTML; an action pokes it for an update at once. Docker is asked on a
// schedule because the SandboxDocker seam has no event stream; the browser
// never polls.
import { EventEmitter } from "node:events";
import type { OpServices } from "../ops/context.ts";
import type { ParticipantRow } from "../ops/operations.ts";
import type { LiveStatus } from "../ops/status.ts";

export interface LiveChange {
  readonly rows: readonly ParticipantRow[];
}

export class LiveHub {
  private readonly bus = new EventEmitter();
  private readonly last = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private latest: { at: number; statuses: Map<string, LiveStatus> } | undefined;
  listeners = 0;

  constructor(
    private readonly services: Pick<OpServices, "project" | "status">,
    private readonly intervalMs = 1000,
  ) {
    this.bus.setMaxListeners(0);
  }

  /** Calls `fn` with the rows that changed since the last tick; returns the unsubscribe. */
  subscribe(fn: (change: LiveChange) => void): () => void {
    this.bus.on("change", fn);
    this.listeners++;
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.bus.off("change", fn);
      if (--this.listeners === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /**
   * The status for a page being rendered: the live loop's last refresh when
   * it is younger than `maxAgeMs` (the open stream sends anything newer), so
   * loading a page does not wait for 300 Docker inspections; else a refresh.
   */
  async statuses(maxAgeMs = this.intervalMs): Promise<Map<string, LiveStatus>> {
    if (this.latest && Date.now() - this.latest.at <= maxAgeMs) return this.latest.statuses;
    const plan = this.services.project.plan();
    const statuses = await this.services.status.refresh(plan.event, plan.participants);
    this.latest = { at: Date.now(), statuses };
    return statuses;
  }

  /** An update now (after an action), instead of at the next tick. */
  poke(): void {
    void this.tick();
  }

  /** Seeds the comparison with what a page just rendered, so its first tick sends only real changes. */
  seen(rows: readonly ParticipantRow[]): void {
    for (const r of rows) if (!this.last.has(r.name)) this.last.set(r.name, `${r.declared}|${r.group}|${signature(r.status)}`);
  }

  private tick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.refresh()
      .catch((err) => console.error("console: live status refresh failed", (err as Error).message))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.tick();
        }
      });
    return this.running;
  }

  private async refresh(): Promise<void> {
    if (this.listeners === 0) return;
    const plan = this.services.project.plan();
    const statuses = await this.services.status.refresh(plan.event, plan.participants);
    this.latest = { at: Date.now(), statuses };
    const changed: ParticipantRow[] = [];
    for (const p of plan.participants) {
      const status = statuses.get(p.name) ?? null;
      const sig = `${p.state}|${p.group}|${signature(status)}`;
      if (this.last.get(p.name) !== sig) {
        this.last.set(p.name, sig);
        changed.push({ name: p.name, group: p.group, declared: p.state, url: p.url, status });
      }
    }
    if (changed.length > 0) this.bus.emit("change", { rows: changed });
  }
}

/** What a viewer can see change: CPU jitter is left out so it does not resend every row every tick. */
function signature(s: LiveStatus | null): string {
  if (!s) return "none";
  return JSON.stringify([s.container.state, s.container.restartCount, s.container.exitCode, s.codeServer.status, s.codeServer.connected, s.memory ? Math.round(s.memory.percent) : null, s.summary.replace(/\d+ (s|min|h) ago/, "")]);
}
