// The one status word per participant the table, the cards and the
// participant page share, from the live status (console/ops/status.ts).
import { html } from "hono/html";
import type { LiveStatus } from "../ops/status.ts";
import type { ParticipantRow } from "../ops/operations.ts";
import type { Html } from "./layout.ts";

export type Badge = "running" | "starting" | "restarting" | "crashed" | "oom" | "stopped" | "missing" | "host-down" | "unknown";

const STARTING_GRACE_MS = 60_000;

export function badgeOf(r: { declared: "running" | "stopped"; status: LiveStatus | null }, now = Date.now()): Badge {
  const s = r.status;
  if (!s) return "unknown";
  const c = s.container;
  switch (c.state) {
    case "oom-killed":
      return "oom";
    case "restarting":
      return c.restartCount >= 2 ? "crashed" : "restarting";
    case "exited":
    case "dead":
      return r.declared === "stopped" ? "stopped" : "crashed";
    case "missing":
      return r.declared === "stopped" ? "stopped" : "missing";
    case "host-down":
      // Its node is down: not a crash of the sandbox (swarm).
      return "host-down";
    case "created":
      return "starting";
    case "paused":
      return "stopped";
    case "running":
      // code-server not answering yet within a minute of the start: still starting.
      if (s.codeServer.status === "unreachable" && c.startedAt && now - Date.parse(c.startedAt) < STARTING_GRACE_MS) return "starting";
      return "running";
  }
}

const LABEL: Record<Badge, string> = { running: "running", starting: "starting", restarting: "restarting", crashed: "crashed", oom: "OOM", stopped: "stopped", missing: "no container", "host-down": "host down", unknown: "unknown" };

export function badge(b: Badge): Html {
  return html`<span class="badge b-${b}">${LABEL[b]}</span>`;
}

export function connectedBadge(s: LiveStatus | null): Html {
  return s?.codeServer.connected ? html` <span class="badge b-connected">connected</span>` : html``;
}

export function mib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

/** Memory against the limit as a <meter> (no inline style: the CSP forbids it). */
export function memoryMeter(s: LiveStatus | null): Html {
  const m = s?.memory;
  if (!m) return html`<span class="muted">–</span>`;
  return html`<meter min="0" max="100" low="75" high="90" optimum="0" value="${m.percent}" aria-label="memory ${m.percent}% of limit"></meter> <span class="mem">${mib(m.usedBytes)} / ${mib(m.limitBytes)}</span>`;
}

export function rowBadges(r: ParticipantRow): Html {
  return html`${badge(badgeOf(r))}${connectedBadge(r.status)}`;
}
