// The idle decision, pure: per participant, the signals THON reads from
// outside the sandbox go in, a status and a decision come out, with what each
// signal said. No clock, no I/O: the caller passes `now` and the readings, so
// the rules are tested as tables and properties (test/idle/decide.test.ts).
// Why these signals and rules: docs/idle.md.
import type { IdlePolicy, RunState } from "../../infra/config/schema.ts";

/** What code-server's GET /healthz answered over the participant's socket. */
export interface HealthzReading {
  /** "alive": code-server saw a request or an open connection in the last minutes (src/node/heart.ts). */
  readonly status: "alive" | "expired";
  /** Epoch ms of the last heartbeat; 0 if no client ever connected. */
  readonly lastHeartbeat: number;
}

/** The readings for one participant. Every field may be missing: a missing reading never keeps a sandbox awake by itself. */
export interface Signals {
  /** The container as Docker reports it; undefined: no such container. */
  readonly container?: { readonly running: boolean; readonly startedAt?: Date };
  /** /healthz over the unix socket; undefined: code-server did not answer. */
  readonly healthz?: HealthzReading;
  /** The last LLM call, from the gateway's per-consumer token counters (the last time they grew). */
  readonly lastLlmCallAt?: Date;
  /** CPU use (percent of one core) sampled at `at`; `lastBusyAt`: the last sample above the threshold, if the caller keeps one. */
  readonly cpu?: { readonly percent: number; readonly at: Date; readonly lastBusyAt?: Date };
  /** The newest mtime in the workspace. */
  readonly workspaceChangedAt?: Date;
}

export interface IdleSubject {
  readonly user: string;
  readonly group: string;
  /** The state thon.yaml declares (the organizer's). */
  readonly declaredState: RunState;
  /** THON's own record that it parked this sandbox (the console store). */
  readonly parked?: { readonly at: Date; readonly reason: string };
  /** A participant's or organizer's "keep awake until" (runtime state, the console store). */
  readonly keepAwakeUntil?: Date;
  readonly signals: Signals;
}

export type IdleStatus =
  /** Running, and a sign of work (LLM call, CPU, file change) within parkAfter. */
  | "active"
  /** A browser tab is connected, but no sign of work within parkAfter. */
  | "connected-idle"
  /** No client connection and no sign of work within parkAfter. */
  | "gone"
  /** Started less than graceAfterStart ago. */
  | "starting"
  /** Named (or their group) in idle.exempt. */
  | "exempt"
  /** thon.yaml says `state: stopped`: the organizer's, never touched. */
  | "organizer-stopped"
  /** Stopped by THON's idle parking. */
  | "parked"
  /** Declared running, but the container is not running and THON did not park it (crashed, stopped by hand, missing). */
  | "down";

export type SignalName = "container" | "connection" | "llm" | "cpu" | "workspace";

/** What one signal said: the reading in words, the time it refers to, and whether it counts as use now. */
export interface SignalReport {
  readonly signal: SignalName;
  readonly said: string;
  readonly at?: Date;
  /** True when this signal alone keeps the sandbox awake at `now`. */
  readonly keepsAwake: boolean;
}

export type Decision =
  | { readonly action: "park-now"; readonly why: string }
  | { readonly action: "park-at"; readonly at: Date; readonly warnAt: Date; readonly why: string }
  | { readonly action: "never"; readonly why: string };

export interface Assessment {
  readonly user: string;
  readonly group: string;
  readonly status: IdleStatus;
  readonly signals: readonly SignalReport[];
  /** The latest sign of use of any kind (connection, LLM, CPU, files, start); undefined if none. */
  readonly lastSeenAt?: Date;
  readonly decision: Decision;
}

/** The policy fields the decision reads (seconds), as `thon.yaml`'s `idle:` gives them. */
export type IdleRules = Pick<IdlePolicy, "enabled" | "parkAfter" | "graceAfterStart" | "warnBefore" | "exempt" | "cpuBusyPercent" | "parkConnectedAfter">;

const later = (...dates: (Date | undefined)[]): Date | undefined =>
  dates.reduce<Date | undefined>((a, d) => (d === undefined ? a : a === undefined || d > a ? d : a), undefined);
const plus = (d: Date, seconds: number) => new Date(d.getTime() + seconds * 1000);
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

/** Assesses one participant at `now`. */
export function assess(subject: IdleSubject, rules: IdleRules, now: Date): Assessment {
  const s = subject.signals;
  const within = (d: Date | undefined, seconds: number) => d !== undefined && now.getTime() - d.getTime() < seconds * 1000;
  const running = s.container?.running === true;
  const startedAt = running ? s.container?.startedAt : undefined;
  const connected = running && s.healthz?.status === "alive";
  const heartbeatAt = s.healthz && s.healthz.lastHeartbeat > 0 ? new Date(s.healthz.lastHeartbeat) : undefined;
  const cpuBusyNow = s.cpu !== undefined && s.cpu.percent >= rules.cpuBusyPercent;
  const cpuBusyAt = later(s.cpu?.lastBusyAt, cpuBusyNow ? s.cpu?.at : undefined);
  // "Work": what a person or their agent does, as opposed to a tab left open.
  const lastWorkAt = later(s.lastLlmCallAt, cpuBusyAt, s.workspaceChangedAt);
  const lastSeenAt = later(connected ? now : heartbeatAt, lastWorkAt, startedAt);
  const recent = (d: Date | undefined) => running && within(d, rules.parkAfter);

  const signals: SignalReport[] = [
    {
      signal: "container",
      said: s.container === undefined ? "no container" : running ? (startedAt ? `running since ${iso(startedAt)}` : "running") : "not running",
      ...(startedAt ? { at: startedAt } : {}),
      keepsAwake: running && within(startedAt, rules.graceAfterStart),
    },
    {
      signal: "connection",
      said: !running
        ? "not read (container not running)"
        : s.healthz === undefined
          ? "code-server did not answer /healthz"
          : connected
            ? "a client is connected (healthz alive)"
            : heartbeatAt
              ? "no client connected (healthz expired)"
              : "no client has connected since start",
      ...(heartbeatAt ? { at: heartbeatAt } : {}),
      keepsAwake: connected ? rules.parkConnectedAfter === undefined : recent(heartbeatAt),
    },
    {
      signal: "llm",
      said: s.lastLlmCallAt ? "last LLM call" : "no LLM call recorded",
      ...(s.lastLlmCallAt ? { at: s.lastLlmCallAt } : {}),
      keepsAwake: recent(s.lastLlmCallAt),
    },
    {
      signal: "cpu",
      said: s.cpu === undefined ? "not sampled" : `${s.cpu.percent.toFixed(1)}% of a core (busy above ${rules.cpuBusyPercent}%)`,
      ...(cpuBusyAt ? { at: cpuBusyAt } : s.cpu ? { at: s.cpu.at } : {}),
      keepsAwake: recent(cpuBusyAt),
    },
    {
      signal: "workspace",
      said: s.workspaceChangedAt ? "newest change in /workspace" : "no change seen",
      ...(s.workspaceChangedAt ? { at: s.workspaceChangedAt } : {}),
      keepsAwake: recent(s.workspaceChangedAt),
    },
  ];

  const base = { user: subject.user, group: subject.group, signals, ...(lastSeenAt ? { lastSeenAt } : {}) };
  const never = (status: IdleStatus, why: string): Assessment => ({ ...base, status, decision: { action: "never", why } });

  // The organizer's stop comes first: parking never overrides it, waking never undoes it.
  if (subject.declaredState === "stopped") return never("organizer-stopped", "stopped by the organizer (state: stopped in thon.yaml)");
  if (!running) {
    if (subject.parked) return never("parked", `parked at ${iso(subject.parked.at)} (${subject.parked.reason})`);
    return never("down", s.container === undefined ? "no container (not deployed yet?)" : "the container is not running and THON did not park it");
  }

  const exemptBy = rules.exempt.find((n) => n === subject.user || n === subject.group);
  const status: IdleStatus =
    exemptBy !== undefined
      ? "exempt"
      : within(startedAt, rules.graceAfterStart)
        ? "starting"
        : within(lastWorkAt, rules.parkAfter)
          ? "active"
          : connected
            ? "connected-idle"
            : "gone";

  if (exemptBy !== undefined) return never("exempt", `exempt (idle.exempt names ${exemptBy === subject.user ? "the participant" : `group ${exemptBy}`})`);
  if (!rules.enabled) return never(status, "idle parking is off (idle.enabled: false)");

  // The earliest time each rule allows a park; the park time is the latest of them.
  const bounds: { at: Date; why: string }[] = [];
  if (startedAt) bounds.push({ at: plus(startedAt, rules.graceAfterStart), why: "grace after start" });
  if (connected) {
    if (rules.parkConnectedAfter === undefined) return never(status, "a client is connected (idle.parkConnectedAfter is not set)");
    bounds.push({ at: plus(later(lastWorkAt, startedAt) ?? now, rules.parkConnectedAfter), why: "connected but idle" });
    // Work keeps a connected sandbox awake at least as long as a disconnected one.
    if (lastWorkAt) bounds.push({ at: plus(lastWorkAt, rules.parkAfter), why: "idle" });
  } else {
    const lastUse = later(heartbeatAt, lastWorkAt, startedAt);
    // Nothing ever seen (e.g. started before THON's records): count from now, not from the epoch.
    bounds.push({ at: plus(lastUse ?? now, rules.parkAfter), why: "idle" });
  }
  if (subject.keepAwakeUntil) bounds.push({ at: subject.keepAwakeUntil, why: "kept awake" });
  const bound = bounds.reduce((a, b) => (b.at > a.at ? b : a));
  if (bound.at <= now) {
    const what = connected ? `connected but idle since ${iso(later(lastWorkAt, startedAt) ?? now)}` : `no sign of use since ${iso(later(heartbeatAt, lastWorkAt, startedAt) ?? now)}`;
    return { ...base, status, decision: { action: "park-now", why: what } };
  }
  const warnAt = new Date(Math.max(now.getTime(), bound.at.getTime() - rules.warnBefore * 1000));
  return { ...base, status, decision: { action: "park-at", at: bound.at, warnAt, why: bound.why } };
}

/** Everyone's assessment, and the dry run: who would be parked, soonest first (park-now before park-at). */
export function dryRun(subjects: readonly IdleSubject[], rules: IdleRules, now: Date): { readonly all: readonly Assessment[]; readonly due: readonly Assessment[] } {
  const all = subjects.map((s) => assess(s, rules, now)).sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
  const when = (a: Assessment) => (a.decision.action === "park-now" ? -Infinity : a.decision.action === "park-at" ? a.decision.at.getTime() : Infinity);
  const due = all.filter((a) => a.decision.action !== "never").sort((a, b) => when(a) - when(b) || (a.user < b.user ? -1 : 1));
  return { all, due };
}
