import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { assess, dryRun, type IdleRules, type IdleSubject, type Signals } from "../../console/idle/decide.ts";
import { idleReport } from "../../console/idle/report.ts";

const NOW = new Date("2026-11-28T12:00:00Z");
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);
const RULES: IdleRules = { enabled: true, parkAfter: 90 * 60, graceAfterStart: 20 * 60, warnBefore: 10 * 60, exempt: [], cpuBusyPercent: 5, parkConnectedAfter: undefined };

const running = (startedMinutesAgo = 300): Signals["container"] => ({ running: true, startedAt: ago(startedMinutesAgo) });
const gone = (heartbeatMinutesAgo: number) => ({ status: "expired" as const, lastHeartbeat: ago(heartbeatMinutesAgo).getTime() });
const alive = (heartbeatMinutesAgo = 0) => ({ status: "alive" as const, lastHeartbeat: ago(heartbeatMinutesAgo).getTime() });

function subject(signals: Signals, more: Partial<IdleSubject> = {}): IdleSubject {
  return { user: "alice", group: "alpha", declaredState: "running", signals, ...more };
}

describe("idle decision: status and decision per participant", () => {
  const table: [string, IdleSubject, Partial<IdleRules>, string, string][] = [
    ["no connection for 2h: gone, park now", subject({ container: running(), healthz: gone(120) }), {}, "gone", "park-now"],
    ["no connection for 1h: gone, park at heartbeat + 90m", subject({ container: running(), healthz: gone(60) }), {}, "gone", "park-at"],
    ["a tab connected: connected-idle, never parked by default", subject({ container: running(), healthz: alive() }), {}, "connected-idle", "never"],
    ["a tab connected and parkConnectedAfter 4h passed since the last work", subject({ container: running(600), healthz: alive(), workspaceChangedAt: ago(300) }), { parkConnectedAfter: 4 * 3600 }, "connected-idle", "park-now"],
    ["a tab connected and typing: active", subject({ container: running(), healthz: alive(), workspaceChangedAt: ago(1) }), {}, "active", "never"],
    ["tab closed but an LLM call 10 min ago: active, park later", subject({ container: running(), healthz: gone(200), lastLlmCallAt: ago(10) }), {}, "active", "park-at"],
    ["tab closed but the CPU is busy now: active", subject({ container: running(), healthz: gone(200), cpu: { percent: 80, at: NOW } }), {}, "active", "park-at"],
    ["CPU below the threshold does not count", subject({ container: running(), healthz: gone(200), cpu: { percent: 1, at: NOW } }), {}, "gone", "park-now"],
    ["a file changed 30 min ago: active", subject({ container: running(), healthz: gone(200), workspaceChangedAt: ago(30) }), {}, "active", "park-at"],
    ["started 5 min ago, nobody came: starting, park after grace and parkAfter", subject({ container: running(5), healthz: { status: "expired", lastHeartbeat: 0 } }), {}, "starting", "park-at"],
    ["exempt by name", subject({ container: running(), healthz: gone(500) }), { exempt: ["alice"] }, "exempt", "never"],
    ["exempt by group", subject({ container: running(), healthz: gone(500) }), { exempt: ["alpha"] }, "exempt", "never"],
    ["organizer-stopped, whatever the signals", subject({ container: { running: false } }, { declaredState: "stopped" }), {}, "organizer-stopped", "never"],
    ["organizer-stopped even if THON had parked it before", subject({ container: { running: false } }, { declaredState: "stopped", parked: { at: ago(60), reason: "idle" } }), {}, "organizer-stopped", "never"],
    ["parked by THON", subject({ container: { running: false } }, { parked: { at: ago(60), reason: "idle" } }), {}, "parked", "never"],
    ["stopped by someone else: down, not parked", subject({ container: { running: false } }), {}, "down", "never"],
    ["no container", subject({}), {}, "down", "never"],
    ["policy off: reported, never parked", subject({ container: running(), healthz: gone(500) }), { enabled: false }, "gone", "never"],
    ["keep awake until 2h from now", subject({ container: running(), healthz: gone(500) }, { keepAwakeUntil: ago(-120) }), {}, "gone", "park-at"],
    ["keep awake that has passed", subject({ container: running(), healthz: gone(500) }, { keepAwakeUntil: ago(5) }), {}, "gone", "park-now"],
    ["code-server not answering: counts as no connection", subject({ container: running() }), {}, "gone", "park-now"],
  ];
  it.each(table)("%s", (_name, s, rules, status, action) => {
    const a = assess(s, { ...RULES, ...rules }, NOW);
    expect(a.status).toBe(status);
    expect(a.decision.action).toBe(action);
  });

  it("parks at the last heartbeat plus parkAfter, and warns warnBefore earlier", () => {
    const a = assess(subject({ container: running(), healthz: gone(60) }), RULES, NOW);
    expect(a.decision).toMatchObject({ action: "park-at", at: ago(60 - 90), warnAt: ago(60 - 80) });
  });

  it("honours keep-awake-until exactly", () => {
    const a = assess(subject({ container: running(), healthz: gone(500) }, { keepAwakeUntil: ago(-120) }), RULES, NOW);
    expect(a.decision).toMatchObject({ action: "park-at", at: ago(-120), why: "kept awake" });
  });

  it("after a start, never parks before graceAfterStart, even with old signals", () => {
    const a = assess(subject({ container: running(5), healthz: gone(0), workspaceChangedAt: ago(1000) }), { ...RULES, parkAfter: 60 }, NOW);
    expect(a.decision).toMatchObject({ action: "park-at", at: ago(5 - 20) });
  });

  it("reports what each signal said and when", () => {
    const a = assess(subject({ container: running(300), healthz: gone(120), lastLlmCallAt: ago(100), cpu: { percent: 2, at: NOW }, workspaceChangedAt: ago(95) }), RULES, NOW);
    expect(a.signals).toEqual([
      { signal: "container", said: "running since 2026-11-28T07:00:00Z", at: ago(300), keepsAwake: false },
      { signal: "connection", said: "no client connected (healthz expired)", at: ago(120), keepsAwake: false },
      { signal: "llm", said: "last LLM call", at: ago(100), keepsAwake: false },
      { signal: "cpu", said: "2.0% of a core (busy above 5%)", at: NOW, keepsAwake: false },
      { signal: "workspace", said: "newest change in /workspace", at: ago(95), keepsAwake: false },
    ]);
    expect(a.lastSeenAt).toEqual(ago(95));
    expect(a.decision).toMatchObject({ action: "park-now", why: "no sign of use since 2026-11-28T10:25:00Z" });
  });
});

// Arbitrary signals around NOW (minutes in the past; undefined = not read).
const minutes = fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined });
const arbSubject = fc
  .record({
    declaredState: fc.constantFrom("running" as const, "stopped" as const),
    running: fc.boolean(),
    startedAgo: fc.integer({ min: 0, max: 2000 }),
    healthz: fc.option(fc.record({ status: fc.constantFrom("alive" as const, "expired" as const), ago: minutes }), { nil: undefined }),
    llm: minutes,
    cpu: fc.option(fc.record({ percent: fc.double({ min: 0, max: 400, noNaN: true }), busyAgo: minutes }), { nil: undefined }),
    files: minutes,
    parked: fc.boolean(),
    keepAwake: fc.option(fc.integer({ min: -600, max: 600 }), { nil: undefined }),
    group: fc.constantFrom("alpha", "beta"),
  })
  .map((r): IdleSubject => ({
    user: "alice",
    group: r.group,
    declaredState: r.declaredState,
    ...(r.parked ? { parked: { at: ago(30), reason: "idle" } } : {}),
    ...(r.keepAwake !== undefined ? { keepAwakeUntil: ago(-r.keepAwake) } : {}),
    signals: {
      container: { running: r.running, startedAt: ago(r.startedAgo) },
      ...(r.healthz ? { healthz: { status: r.healthz.status, lastHeartbeat: r.healthz.ago === undefined ? 0 : ago(r.healthz.ago).getTime() } } : {}),
      ...(r.llm !== undefined ? { lastLlmCallAt: ago(r.llm) } : {}),
      ...(r.cpu ? { cpu: { percent: r.cpu.percent, at: NOW, ...(r.cpu.busyAgo !== undefined ? { lastBusyAt: ago(r.cpu.busyAgo) } : {}) } } : {}),
      ...(r.files !== undefined ? { workspaceChangedAt: ago(r.files) } : {}),
    },
  }));
const arbRules = fc.record({
  enabled: fc.boolean(),
  parkAfter: fc.integer({ min: 60, max: 6 * 3600 }),
  graceAfterStart: fc.integer({ min: 60, max: 3600 }),
  warnBefore: fc.integer({ min: 60, max: 3600 }),
  exempt: fc.subarray(["alice", "beta", "carol"]),
  cpuBusyPercent: fc.integer({ min: 1, max: 100 }),
  parkConnectedAfter: fc.option(fc.integer({ min: 60, max: 12 * 3600 }), { nil: undefined }),
});

describe("idle decision: properties", () => {
  it("never parks an organizer-stopped, exempt, disabled or non-running sandbox", () => {
    fc.assert(
      fc.property(arbSubject, arbRules, (s, rules) => {
        const a = assess(s, rules, NOW);
        const exempt = rules.exempt.includes(s.user) || rules.exempt.includes(s.group);
        if (s.declaredState === "stopped" || exempt || !rules.enabled || !s.signals.container?.running) {
          expect(a.decision.action).toBe("never");
        }
        if (s.declaredState === "stopped") expect(a.status).toBe("organizer-stopped");
      }),
    );
  });

  it("a park time is never before keep-awake-until, the end of the grace, or parkAfter after the last sign of work", () => {
    fc.assert(
      fc.property(arbSubject, arbRules, (s, rules) => {
        const a = assess(s, rules, NOW);
        if (a.decision.action === "never") return;
        const at = a.decision.action === "park-at" ? a.decision.at : NOW;
        if (s.keepAwakeUntil) expect(at.getTime()).toBeGreaterThanOrEqual(s.keepAwakeUntil.getTime());
        expect(at.getTime()).toBeGreaterThanOrEqual(s.signals.container!.startedAt!.getTime() + rules.graceAfterStart * 1000);
        for (const signal of a.signals) {
          if (signal.keepsAwake) expect(a.decision.action).toBe("park-at");
        }
        if (a.decision.action === "park-at") {
          expect(a.decision.at > NOW).toBe(true);
          expect(a.decision.warnAt <= a.decision.at && a.decision.warnAt >= NOW).toBe(true);
        }
      }),
    );
  });

  it("an open connection keeps a sandbox awake unless parkConnectedAfter is set", () => {
    fc.assert(
      fc.property(arbSubject, arbRules, (s, rules) => {
        const a = assess(s, { ...rules, parkConnectedAfter: undefined }, NOW);
        if (s.signals.healthz?.status === "alive") expect(a.decision.action).toBe("never");
      }),
    );
  });

  it("more recent use never brings a park earlier", () => {
    fc.assert(
      fc.property(arbSubject, arbRules, fc.integer({ min: 0, max: 1000 }), (s, rules, freshAgo) => {
        const before = assess(s, rules, NOW);
        const fresher = assess({ ...s, signals: { ...s.signals, workspaceChangedAt: ago(freshAgo) } }, rules, NOW);
        const t = (d: typeof before.decision) => (d.action === "park-now" ? 0 : d.action === "park-at" ? d.at.getTime() : Infinity);
        if (!s.signals.workspaceChangedAt || s.signals.workspaceChangedAt < ago(freshAgo)) {
          expect(t(fresher.decision)).toBeGreaterThanOrEqual(Math.min(t(before.decision), NOW.getTime()) === 0 ? 0 : t(before.decision));
        }
      }),
    );
  });
});

describe("dry run and its report", () => {
  const subjects: IdleSubject[] = [
    subject({ container: running(), healthz: gone(120) }, { user: "alice" }),
    subject({ container: running(), healthz: gone(60) }, { user: "bob" }),
    subject({ container: running(), healthz: alive() }, { user: "carol" }),
    subject({ container: running(), healthz: gone(500) }, { user: "dan", group: "crew" }),
    subject({ container: { running: false } }, { user: "eve", declaredState: "stopped" }),
  ];
  const rules = { ...RULES, exempt: ["crew"] };

  it("lists who would be parked, soonest first", () => {
    const { due } = dryRun(subjects, rules, NOW);
    expect(due.map((a) => [a.user, a.decision.action])).toEqual([["alice", "park-now"], ["bob", "park-at"]]);
  });

  it("prints the text thon idle --dry-run shows", () => {
    expect(idleReport(dryRun(subjects, rules, NOW).all, rules, NOW)).toBe(
      [
        "Idle parking is on: park after 1h30m without use, grace 20m after start, warning 10m before, connected tabs keep sandboxes awake.",
        "As of 2026-11-28T12:00:00Z, 5 participants.",
        "",
        "Would park now (1):",
        "  alice  gone               last seen 2h ago      no sign of use since 2026-11-28T10:00:00Z",
        "",
        "Would park later (1):",
        "  bob    gone               last seen 1h ago      at 2026-11-28T12:30:00Z (in 30m; idle)",
        "",
        "Not parked (3):",
        "  carol  connected-idle     last seen 0s ago      a client is connected (idle.parkConnectedAfter is not set)",
        "  dan    exempt             last seen 5h ago      exempt (idle.exempt names group crew)",
        "  eve    organizer-stopped  last seen never       stopped by the organizer (state: stopped in thon.yaml)",
        "",
      ].join("\n"),
    );
  });
});
