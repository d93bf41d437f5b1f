// Live status: code-server's /healthz over a real unix socket (a stand-in
// answering as code-server's routes/health.ts does), the container states an
// organizer must tell apart, CPU from two samples, and the summary line.
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { probeHealthz } from "../../console/ops/healthz.ts";
import { containerState, describe as describeStatus, StatusService } from "../../console/ops/status.ts";
import { planParticipant } from "../../infra/plan.ts";
import { parseThonFile } from "../../infra/config/load.ts";
import { toEvent } from "../../infra/config/event.ts";
import type { ContainerFacts } from "../../console/ops/docker.ts";
import { DockerStandIn, THON_YAML } from "../support/consoleFixture.ts";

let dir: string | undefined;
let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((res) => (server ? server.close(() => res()) : res()));
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = server = undefined;
});

/** code-server's GET /healthz: {status, lastHeartbeat}; other paths would beat (not used here). */
async function healthzStandIn(status: "alive" | "expired", lastHeartbeat: number): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), "thon-hz-"));
  const sock = join(dir, "code-server.sock");
  server = createServer((req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ status, lastHeartbeat }));
    } else res.writeHead(302, { Location: "./login" }).end();
  });
  await new Promise<void>((res) => server!.listen(sock, () => res()));
  return sock;
}

const NOW = Date.parse("2026-11-28T12:00:00Z");
const event = (sockets: string) => toEvent(parseThonFile(THON_YAML.replace("SOCKETS", sockets)));
const facts = (f: Partial<ContainerFacts>): ContainerFacts => ({ id: "c1", status: "running", running: true, restarting: false, oomKilled: false, exitCode: 0, restartCount: 0, startedAt: null, finishedAt: null, image: "i", memoryLimit: 1024 ** 3, ...f });

describe("code-server /healthz over the participant's socket", () => {
  it("reads alive and the last heartbeat", async () => {
    const sock = await healthzStandIn("alive", NOW - 30_000);
    expect(await probeHealthz(sock)).toEqual({ reachable: true, status: "alive", lastHeartbeat: NOW - 30_000 });
  });
  it("a missing socket is unreachable, not an error", async () => {
    expect(await probeHealthz("/nonexistent/code-server.sock")).toEqual({ reachable: false, error: "ENOENT" });
  });
});

describe("live status", () => {
  it("tells running-and-connected, nobody-connected and code-server-not-answering apart", async () => {
    const sock = await healthzStandIn("alive", NOW - 20_000);
    const ev = event(dir!);
    const alice = { ...planParticipant(ev, ev.participants[0]!), socketHostPath: sock };
    const docker = new DockerStandIn();
    docker.add("alice", {}, { memoryUsed: 300 * 1024 ** 2, memoryLimit: 1024 ** 3, cpuTotal: 1e9, systemCpu: 100e9, onlineCpus: 2 });
    const svc = new StatusService(docker, { now: () => NOW });
    const first = (await svc.refresh("ctest", [alice])).get("alice")!;
    expect(first.codeServer).toEqual({ status: "alive", lastHeartbeat: new Date(NOW - 20_000).toISOString(), connected: true });
    expect(first.summary).toBe("running, someone connected (last activity 20 s ago); memory 29% of 1 GiB");
    expect(first.cpu).toBeNull(); // one sample: no rate yet
    docker.containers.get("id-alice")!.sample = { memoryUsed: 300 * 1024 ** 2, memoryLimit: 1024 ** 3, cpuTotal: 3e9, systemCpu: 110e9, onlineCpus: 2 };
    const second = (await svc.refresh("ctest", [alice])).get("alice")!;
    expect(second.cpu).toEqual({ percent: 40 }); // 2e9 of 10e9 system ns, times 2 CPUs
    expect(docker.calls.list).toBe(2); // one list per refresh, whatever the number of participants

    const bob = planParticipant(ev, ev.participants[1]!);
    expect(describeStatus(bob, facts({}), undefined, null, { reachable: true, status: "expired", lastHeartbeat: NOW - 3_600_000 }, NOW).summary).toBe("running, nobody connected (last seen 60 min ago)");
    expect(describeStatus(bob, facts({}), undefined, null, { reachable: true, status: "alive", lastHeartbeat: 0 }, NOW).summary).toBe("running, nobody has connected yet");
    expect(describeStatus(bob, facts({}), undefined, null, { reachable: false, error: "ECONNREFUSED" }, NOW).summary).toMatch(/code-server does not answer on its socket \(ECONNREFUSED\)/);
  });

  it("OOM-killed, crash loop, exited, missing and stopped read as an organizer needs them", () => {
    const ev = event("/run/x");
    const p = planParticipant(ev, ev.participants[0]!);
    const dave = planParticipant(ev, ev.participants[3]!);
    expect(containerState(facts({ running: false, status: "exited", oomKilled: true, exitCode: 137 }))).toBe("oom-killed");
    expect(describeStatus(p, facts({ running: false, status: "exited", oomKilled: true, exitCode: 137, restartCount: 1 }), undefined, null, undefined, NOW).summary).toBe(
      "out of memory: killed at its limit (exit code 137), restarted 1 time; raise sandbox.memory or restart it",
    );
    const loop = describeStatus(p, facts({ running: false, restarting: true, status: "restarting", exitCode: 3, restartCount: 7 }), undefined, null, undefined, NOW);
    expect(loop.container).toMatchObject({ state: "restarting", exitCode: 3, restartCount: 7 });
    expect(loop.summary).toBe("crash loop: restarting (last exit code 3), restarted 7 times; see its logs");
    expect(describeStatus(p, facts({ running: false, status: "exited", exitCode: 1 }), undefined, null, undefined, NOW).summary).toMatch(/^down: exited with code 1/);
    expect(describeStatus(p, undefined, undefined, null, undefined, NOW).summary).toMatch(/^no container/);
    expect(describeStatus(dave, undefined, undefined, null, undefined, NOW).summary).toBe("stopped, as thon.yaml says");
    expect(describeStatus(dave, facts({}), undefined, null, undefined, NOW).summary).toMatch(/thon.yaml says stopped/);
  });
});
