import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryParkRecords } from "../../console/idle/records.ts";
import { IdleScheduler, type SchedulerClock } from "../../console/idle/scheduler.ts";
import { MemoryKeepAwake } from "../../console/idle/sqliteRecords.ts";
import type { IdleParticipant } from "../../console/idle/subjects.ts";
import { idleSchema } from "../../infra/config/schema.ts";
import { MemoryAudit } from "../support/consoleAuth.ts";
import { StandInDocker } from "../support/idleDockerStandIn.ts";

/** A clock whose timers fire only when the test advances it. */
class FakeClock implements SchedulerClock {
  private pending: { at: number; fn: () => void }[] = [];
  constructor(public t: number) {}
  now = () => new Date(this.t);
  setTimeout = (fn: () => void, ms: number) => {
    const h = { at: this.t + ms, fn };
    this.pending.push(h);
    return h;
  };
  clearTimeout = (h: unknown) => {
    this.pending = this.pending.filter((p) => p !== h);
  };
  async advance(ms: number, sched: IdleScheduler): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const next = this.pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.t = next.at;
      next.fn();
      await sched.current;
      await new Promise((r) => setImmediate(r));
    }
    this.t = end;
  }
}

const T0 = Date.parse("2026-11-28T12:00:00Z");
const MIN = 60_000;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "thon-idle-sched-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("idle scheduler", () => {
  it("every interval parks those due, never the organizer-stopped, exempt or kept awake, and audits each park", async () => {
    const clock = new FakeClock(T0 - 3 * 60 * MIN); // containers started three hours before T0
    const docker = new StandInDocker(0, clock.now);
    const p = (name: string, group = "teams", state: "running" | "stopped" = "running"): IdleParticipant => ({ name, group, state, containerName: `thon-${name}`, socketHostPath: join(dir, `${name}.sock`), endpointPath: `/${name}/` });
    const participants = [p("alice"), p("bob", "teams", "stopped"), p("carol", "crew"), p("dave"), p("erin")];
    for (const q of participants) await docker.add(q.containerName, q.name, q.socketHostPath, true);
    clock.t = T0;
    const keepAwake = new MemoryKeepAwake();
    keepAwake.set({ user: "dave", until: new Date(T0 + 30 * MIN), setBy: "test:organizer", setAt: new Date(T0) });
    const records = new MemoryParkRecords();
    const audit = new MemoryAudit();
    const policy = idleSchema.parse({ enabled: true, parkAfter: "90m", exempt: ["crew"] });
    // erin's agent called the LLM 85 minutes before T0: due 5 minutes after T0.
    const signals = async (q: IdleParticipant) => ({
      container: (await docker.inspect(q.containerName))!,
      ...(q.name === "erin" ? { lastLlmCallAt: new Date(T0 - 85 * MIN) } : {}),
    });
    const sched = new IdleScheduler({ participants: () => participants, policy: () => policy, docker, records, keepAwake, signals, audit, clock, intervalSeconds: 60 });
    sched.start();

    await clock.advance(59_000, sched);
    expect(docker.calls).toEqual([]); // no round before the first interval
    await clock.advance(1000, sched);
    // bob is declared stopped, so the organizer's stop is his; carol's group is exempt; dave is kept awake; erin is active.
    expect(docker.calls).toEqual(["stop thon-alice"]);
    expect(records.get("alice")?.reason).toMatch(/^idle: no sign of use since/);
    expect(audit.entries).toEqual([expect.objectContaining({ actor: "thon:idle", action: "idle.park", target: "alice", result: "ok" })]);

    await clock.advance(4 * MIN, sched); // T0+5m: erin's 90 minutes are up
    expect(docker.calls).toEqual(["stop thon-alice", "stop thon-erin"]);
    await clock.advance(26 * MIN, sched); // T0+31m: dave's keep-awake ran out
    expect(docker.calls).toEqual(["stop thon-alice", "stop thon-erin", "stop thon-dave"]);
    await clock.advance(60 * MIN, sched);
    expect(docker.calls.filter((c) => c.includes("bob") || c.includes("carol"))).toEqual([]);
    expect(audit.entries.map((e) => e.target)).toEqual(["alice", "erin", "dave"]);
    await sched.stop();
    await docker.closeAll();
  });

  it("does nothing while idle parking is off, and a round under way is joined, not doubled", async () => {
    const docker = new StandInDocker();
    const q: IdleParticipant = { name: "zed", group: "g", state: "running", containerName: "thon-zed", socketHostPath: join(dir, "zed.sock"), endpointPath: "/zed/" };
    await docker.add("thon-zed", "zed", q.socketHostPath, true);
    let reads = 0;
    const opts = {
      participants: () => [q],
      docker,
      records: new MemoryParkRecords(),
      keepAwake: new MemoryKeepAwake(),
      audit: new MemoryAudit(),
      signals: async () => {
        reads++;
        return { container: { running: true, startedAt: new Date(0) } };
      },
    };
    const off = new IdleScheduler({ ...opts, policy: () => idleSchema.parse({}) });
    expect((await off.round()).parked).toEqual([]);
    expect(reads).toBe(0);
    const on = new IdleScheduler({ ...opts, policy: () => idleSchema.parse({ enabled: true }) });
    const [a, b] = await Promise.all([on.round(), on.round()]);
    expect(a).toBe(b);
    expect(reads).toBe(1);
    expect(a.parked).toEqual(["zed"]);
    await docker.closeAll();
  });
});
