// Idle parking end to end on a real Docker engine: the program's own
// declarations for five participants (applied by support/engine.ts, as
// sandboxes.test.ts does), a policy shortened to seconds, the signals read
// from the real sandboxes (Docker, /healthz on each unix socket), then the
// decision, a park, a wake through the password gate and the wake queue, and
// a declarative change applied while one sandbox is parked.
//
// Run with `THON_E2E_KEEP_DOCKERD=1 npm run test:e2e -- test/e2e/idle.test.ts`.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Dockerode from "dockerode";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../../infra/preview/evaluate.ts";
import { evaluateEventFile } from "../../infra/cli/plan.ts";
import { tlsStandIn } from "../support/tlsStandIn.ts";
import { loadEvent } from "../../infra/config/load.ts";
import type { Event } from "../../infra/config/event.ts";
import { planEvent, type ParticipantPlan } from "../../infra/plan.ts";
import { dryRun, type IdleSubject } from "../../console/idle/decide.ts";
import { idleDocker } from "../../console/idle/docker.ts";
import { readHealthz } from "../../console/idle/healthz.ts";
import { IdleError, parkParticipant, wakeParticipant } from "../../console/idle/park.ts";
import { MemoryParkRecords } from "../../console/idle/records.ts";
import { WakeGate } from "../../console/idle/wakeGate.ts";
import { WakeQueue } from "../../console/idle/wakeQueue.ts";
import { Engine, TYPES } from "./support/engine.ts";
import { renderEventYaml, passwordOf, socketOf, type E2eEventSpec } from "./support/event.ts";
import { login, waitHealthy } from "./support/http.ts";
import type { TestNginx } from "../support/nginx.ts";
import { cleanupRun, dockerHost, execIn, RUN_LABEL, runId } from "./support/run.ts";
import { e2eWorkdir, workdirSpec } from "./support/workdir.ts";

const idle = `idle-${runId}`; // nobody connects: parked
const tab = `tab-${runId}`; // a WebSocket stays open: not parked
const llm = `llm-${runId}`; // an LLM call just now: not parked
const demo = `demo-${runId}`; // in the exempt group: not parked
const off = `off-${runId}`; // state: stopped: the organizer's
const RUNNING = [idle, tab, llm, demo];

const IDLE_YAML = `idle:
  enabled: true
  parkAfter: 4s
  graceAfterStart: 4s
  warnBefore: 1s
  exempt: [crew]
  wakeConcurrency: 2
  wakeTimeout: 2m
`;

const engine = new Engine({ extraLabels: { [RUN_LABEL]: runId }, log: (l) => console.log(`engine: ${l}`) });
const docker = idleDocker(new Dockerode({ socketPath: dockerHost.replace(/^unix:\/\//, "") }));
const records = new MemoryParkRecords();

let dir: string;
let spec: E2eEventSpec;
let v1: Evaluation;
let event: Event;
let plans: Map<string, ParticipantPlan>;
let nginx: TestNginx | undefined;
let socket: WebSocket | undefined;

/** Writes the event (with the idle policy) and evaluates the real program on it. */
async function evaluate(file: string, s: E2eEventSpec): Promise<{ evaluation: Evaluation; event: Event }> {
  const path = join(dir, file);
  writeFileSync(path, renderEventYaml(s) + IDLE_YAML);
  return { evaluation: await evaluateEventFile(path, "dev", tlsStandIn), event: loadEvent(path) };
}

/** The readings the console would take, from the real sandboxes; the LLM time is the gateway's input. */
async function subjects(llmCalls: ReadonlyMap<string, Date>): Promise<IdleSubject[]> {
  return Promise.all(
    event.participants.map(async (p): Promise<IdleSubject> => {
      const plan = plans.get(p.name)!;
      const container = await docker.inspect(plan.containerName);
      const healthz = container?.running ? await readHealthz(plan.socketHostPath) : undefined;
      const record = records.get(p.name);
      return {
        user: p.name,
        group: p.group,
        declaredState: p.state,
        ...(record ? { parked: { at: record.at, reason: record.reason } } : {}),
        signals: {
          ...(container ? { container: { running: container.running, ...(container.startedAt ? { startedAt: container.startedAt } : {}) } } : {}),
          ...(healthz ? { healthz } : {}),
          ...(llmCalls.has(p.name) ? { lastLlmCallAt: llmCalls.get(p.name)! } : {}),
        },
      };
    }),
  );
}

beforeAll(async () => {
  const work = await e2eWorkdir(`thon-e2e-idle-${runId}-`);
  dir = work.dir;
  nginx = work.nginx;
  spec = workdirSpec(work, `e2e-idle-${runId}`, [
    { name: idle, group: "red" },
    { name: tab, group: "red" },
    { name: llm, group: "red" },
    { name: demo, group: "crew" },
    { name: off, group: "red", state: "stopped" },
  ]);
  const first = await evaluate("thon.v1.yaml", spec);
  v1 = first.evaluation;
  event = first.event;
  plans = new Map(planEvent(event).participants.map((p) => [p.name, p]));
  await engine.up(v1);
  await Promise.all(RUNNING.map((u) => waitHealthy(socketOf(v1, u), 120_000)));
}, 600_000);

afterAll(async () => {
  socket?.terminate();
  const report = await Promise.race([cleanupRun(), new Promise<string[]>((res) => setTimeout(() => res(["cleanup timed out"]), 120_000))]);
  console.log(`e2e idle cleanup (${RUN_LABEL}=${runId}): ${report.join("; ")}`);
  await nginx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 180_000);

describe("e2e: idle parking on a real Docker engine", () => {
  it("declares every running sandbox with mustRun false, so a refresh keeps a parked one stopped", () => {
    for (const u of RUNNING) {
      expect(v1.resources.find((r: { type: string; name: string }) => r.type === TYPES.container && r.name === `thon-${u}`)!.inputs).toMatchObject({ start: true, mustRun: false });
    }
  });

  it("parks the sandbox nobody uses past parkAfter; not the one with a connected tab, recent LLM use, or an exemption", async () => {
    // A tab: log in and keep a WebSocket open (code-server's heart beats while a connection is open).
    const sock = socketOf(v1, tab);
    const { cookie } = await login(sock, passwordOf(v1, tab));
    socket = new WebSocket(`ws+unix://${sock}:/?reconnectionToken=idle-${runId}&reconnection=false&skipWebSocketFrames=false`, { headers: { Host: "localhost", Cookie: cookie!, Origin: "http://localhost" } });
    await new Promise<void>((resolve, reject) => {
      socket!.on("open", () => resolve());
      socket!.on("error", reject);
    });
    // A file in the idle participant's workspace, to find again after the wake.
    expect((await execIn(`thon-${idle}`, "echo kept-$HOSTNAME > /workspace/notes.txt && cat /workspace/notes.txt")).code).toBe(0);
    // Past graceAfterStart and parkAfter (4 s each) since the start.
    await new Promise((r) => setTimeout(r, 6_000));

    const now = new Date();
    const { all, due } = dryRun(await subjects(new Map([[llm, now]])), event.idle, now);
    const by = new Map(all.map((a) => [a.user, a]));
    expect(by.get(idle)).toMatchObject({ status: "gone", decision: { action: "park-now" } });
    expect(by.get(tab)).toMatchObject({ status: "connected-idle", decision: { action: "never" } });
    expect(by.get(tab)!.signals.find((s) => s.signal === "connection")).toMatchObject({ said: "a client is connected (healthz alive)", keepsAwake: true });
    expect(by.get(llm)).toMatchObject({ status: "active", decision: { action: "park-at" } });
    expect(by.get(demo)).toMatchObject({ status: "exempt", decision: { action: "never" } });
    expect(by.get(off)).toMatchObject({ status: "organizer-stopped", decision: { action: "never" } });
    expect(due.filter((a) => a.decision.action === "park-now").map((a) => a.user)).toEqual([idle]);

    for (const a of due.filter((d) => d.decision.action === "park-now")) await parkParticipant(docker, plans.get(a.user)!, records, a.decision.why);
    expect((await docker.inspect(`thon-${idle}`))!.running).toBe(false);
    for (const u of [tab, llm, demo]) expect((await docker.inspect(`thon-${u}`))!.running, u).toBe(true);
    expect(await readHealthz(socketOf(v1, idle), 1000)).toBeUndefined();
    // A park of the connected one is refused at the last moment, too.
    await expect(parkParticipant(docker, plans.get(tab)!, records, "test")).rejects.toMatchObject({ code: "connected" });
  }, 120_000);

  it("never parks or wakes an organizer-stopped sandbox", async () => {
    await expect(parkParticipant(docker, plans.get(off)!, records, "test")).rejects.toMatchObject({ code: "organizer-stopped" });
    await expect(wakeParticipant(docker, plans.get(off)!, records, { timeoutSeconds: 5 })).rejects.toBeInstanceOf(IdleError);
    expect((await docker.inspect(`thon-${off}`))!.running).toBe(false);
  });

  it("keeps the parked sandbox parked through a declarative change and its apply, which still applies", async () => {
    const idleId = (await docker.inspect(`thon-${idle}`))!.id;
    // The organizer stops the exempt participant in thon.yaml and applies.
    const v2 = (await evaluate("thon.v2.yaml", { ...spec, users: spec.users.map((u) => (u.name === demo ? { ...u, state: "stopped" as const } : u)) })).evaluation;
    const diff = await engine.apply(v1, v2);
    expect(diff.names("update")).toContain(`${TYPES.container}::thon-${demo}`);
    expect(diff.names("update").concat(diff.names("replace")).some((n) => n.endsWith(`thon-${idle}`))).toBe(false);
    expect((await docker.inspect(`thon-${demo}`))!.running).toBe(false);
    expect(await docker.inspect(`thon-${idle}`)).toMatchObject({ id: idleId, running: false });
    v1 = v2;
  }, 180_000);

  it("wakes through the password gate and the queue: wrong and other participants' passwords refused and rate-limited, then code-server answers with the workspace unchanged", async () => {
    const passwords = new Map(RUNNING.map((u) => [u, passwordOf(v1, u)]));
    const gate = new WakeGate({ getPasswords: async () => passwords, perUser: 3 });
    const queue = new WakeQueue({ concurrency: event.idle.wakeConcurrency, wake: (user) => wakeParticipant(docker, plans.get(user)!, records, { timeoutSeconds: event.idle.wakeTimeout }) });

    expect(await gate.check(idle, passwords.get(tab)!, "127.0.0.1")).toEqual({ ok: false, reason: "wrong-password" });
    expect(await gate.check(idle, "not-the-password", "127.0.0.2")).toEqual({ ok: false, reason: "wrong-password" });
    expect(await gate.check(idle, "still-not-it", "127.0.0.3")).toEqual({ ok: false, reason: "wrong-password" });
    expect(await gate.check(idle, passwords.get(idle)!, "127.0.0.4")).toMatchObject({ ok: false, reason: "rate-limited" });
    expect((await docker.inspect(`thon-${idle}`))!.running).toBe(false);

    const fresh = new WakeGate({ getPasswords: async () => passwords });
    expect(await fresh.check(idle, passwords.get(idle)!, "127.0.0.5")).toEqual({ ok: true });
    // Two clicks at once: one wake.
    const [a, b] = await Promise.all([queue.request(idle), queue.request(idle)]);
    expect(a).toBe(b);
    expect(a).toMatchObject({ user: idle, started: true });
    console.log(`e2e idle: wake of ${idle} took ${a.readyMs} ms to /healthz`);
    expect(records.get(idle)).toBeUndefined();
    expect(await readHealthz(socketOf(v1, idle))).toBeDefined();
    expect((await login(socketOf(v1, idle), passwords.get(idle)!)).cookie).toBeDefined();
    const notes = await execIn(`thon-${idle}`, "cat /workspace/notes.txt");
    expect(notes.out.trim()).toMatch(/^kept-/);
  }, 180_000);

  it("does not wake a sandbox stopped by someone else than THON", async () => {
    await docker.stop(`thon-${llm}`, 5);
    await expect(wakeParticipant(docker, plans.get(llm)!, records, { timeoutSeconds: 5 })).rejects.toMatchObject({ code: "not-parked" });
    expect((await docker.inspect(`thon-${llm}`))!.running).toBe(false);
  }, 60_000);
});
