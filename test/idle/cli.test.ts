import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { registerIdleCommands, type IdleCliContext } from "../../console/idle/cli.ts";
import { MemoryParkRecords } from "../../console/idle/records.ts";
import { MemoryKeepAwake } from "../../console/idle/sqliteRecords.ts";
import type { IdleParticipant } from "../../console/idle/subjects.ts";
import { idleSchema } from "../../infra/config/schema.ts";
import { MemoryAudit } from "../support/consoleAuth.ts";
import { StandInDocker } from "../support/idleDockerStandIn.ts";

const NOW = new Date("2026-11-28T12:00:00Z");
const MIN = 60_000;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "thon-idle-cli-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
});

async function run(args: string[], enabled = true) {
  const docker = new StandInDocker(0, () => new Date(NOW.getTime() - 3 * 60 * MIN));
  const p = (name: string, state: "running" | "stopped" = "running"): IdleParticipant => ({ name, group: "teams", state, containerName: `thon-${name}`, socketHostPath: join(dir, `${name}.sock`), endpointPath: `/${name}/` });
  const participants = [p("alice"), p("bob", "stopped"), p("carol")];
  await docker.add("thon-alice", "alice", join(dir, "alice.sock"), true);
  await docker.add("thon-bob", "bob", join(dir, "bob.sock"), false);
  await docker.add("thon-carol", "carol", join(dir, "carol.sock"), true);
  const audit = new MemoryAudit();
  const records = new MemoryParkRecords();
  const ctx: IdleCliContext = {
    participants,
    policy: idleSchema.parse({ enabled, parkAfter: "90m" }),
    docker,
    records,
    keepAwake: new MemoryKeepAwake(),
    audit,
    signals: async (q) => ({
      container: (await docker.inspect(q.containerName))!,
      ...(q.name === "carol" ? { lastLlmCallAt: new Date(NOW.getTime() - 30 * MIN) } : {}),
    }),
  };
  let stdout = "";
  let stderr = "";
  const program = new Command().exitOverride();
  registerIdleCommands(program, { out: (t) => (stdout += t), err: (t) => (stderr += t), now: () => NOW, load: async () => ctx });
  await program.parseAsync(["idle", ...args], { from: "user" });
  await docker.closeAll();
  return { stdout, stderr, docker, audit, records, code: process.exitCode };
}

const REPORT = `Idle parking is on: park after 1h30m without use, grace 20m after start, warning 10m before, connected tabs keep sandboxes awake.
As of 2026-11-28T12:00:00Z, 3 participants.

Would park now (1):
  alice  gone               last seen 3h ago      no sign of use since 2026-11-28T09:00:00Z

Would park later (1):
  carol  active             last seen 30m ago     at 2026-11-28T13:00:00Z (in 1h; idle)

Not parked (1):
  bob    organizer-stopped  last seen never       stopped by the organizer (state: stopped in thon.yaml)
`;

describe("thon idle", () => {
  it("--dry-run prints who would be parked now, later and never, and why; nothing is stopped", async () => {
    const r = await run(["--dry-run"]);
    expect(r.stdout).toBe(REPORT);
    expect(r.stderr).toBe("");
    expect(r.docker.calls).toEqual([]);
    expect(r.code).toBeUndefined();
  });

  it("without --yes prints the report, then refuses to act and says how", async () => {
    const r = await run([]);
    expect(r.stdout).toBe(REPORT);
    expect(r.stderr).toBe("\nthon idle: 1 would be parked now (alice); nothing parked.\n  fix: run thon idle --yes to park them, or thon idle --dry-run to only look\n");
    expect(r.docker.calls).toEqual([]);
    expect(r.code).toBe(1);
  });

  it("with --yes parks those due now, after printing them, and audits each park", async () => {
    const r = await run(["--yes"]);
    expect(r.stdout).toBe(`${REPORT}\nparked alice\n`);
    expect(r.docker.calls).toEqual(["stop thon-alice"]);
    expect(r.records.get("alice")?.reason).toMatch(/^idle: no sign of use since 2026-11-28T09:00:00Z \(thon idle by local:/);
    expect(r.audit.entries).toEqual([expect.objectContaining({ action: "idle.park", target: "alice", result: "ok" })]);
  });

  it("parks nobody while idle parking is off, even with --yes", async () => {
    const r = await run(["--yes"], false);
    expect(r.stdout.split("\n")[0]).toBe("Idle parking is off (idle.enabled: false); showing what it would do: park after 1h30m without use, grace 20m after start, warning 10m before, connected tabs keep sandboxes awake.");
    expect(r.stdout).toContain("Would park now (0):\n  nobody");
    expect(r.stdout).toContain("idle parking is off (idle.enabled: false)");
    expect(r.docker.calls).toEqual([]);
  });

  it("--json prints the assessments", async () => {
    const r = await run(["--dry-run", "--json"]);
    const body = JSON.parse(r.stdout) as { due: string[]; participants: { user: string; status: string }[] };
    expect(body.due).toEqual(["alice", "carol"]);
    expect(body.participants.map((a) => [a.user, a.status])).toEqual([["alice", "gone"], ["bob", "organizer-stopped"], ["carol", "active"]]);
  });
});
