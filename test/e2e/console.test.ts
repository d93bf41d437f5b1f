// The console end to end on the real Docker engine: live status read from
// dockerd and from code-server's /healthz on each participant's real socket;
// restart, logs and bulk through Docker; an OOM-killed sandbox and one in a
// crash loop; and the whole declarative loop — edit thon.yaml, preview,
// apply, containers change, status follows — through the REST API, applied
// by the e2e engine stand-in (support/engineApplier.ts on support/engine.ts)
// where the console would run the Automation API. A second operation sent
// while one runs waits (or gets 409 with ifBusy: fail); they never interleave.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../../infra/preview/evaluate.ts";
import { Engine } from "./support/engine.ts";
import { dockerAt, mustCall, socketPathOf } from "./support/docker.ts";
import { evaluateSpec, socketOf, type E2eEventSpec } from "./support/event.ts";
import { waitHealthy } from "./support/http.ts";
import { EngineStandInApplier } from "./support/engineApplier.ts";
import { cleanupRun, docker, dockerHost, execIn, requiredImage, RUN_LABEL, runId } from "./support/run.ts";
import { e2eWorkdir, writePulumiProject, workdirSpec } from "./support/workdir.ts";
import type { TestNginx } from "../support/nginx.ts";
import { headerAuth, MemoryAudit } from "../support/consoleAuth.ts";
import { createConsoleApp } from "../../console/api/app.ts";
import { DeclarativeRunner } from "../../console/apply/declarative.ts";
import { OperationQueue } from "../../console/apply/queue.ts";
import { DockerodeSandboxes } from "../../console/ops/docker.ts";
import { Project } from "../../console/ops/project.ts";
import { StatusService } from "../../console/ops/status.ts";

const ada = `ada-${runId}`;
const bob = `bob-${runId}`;
const oom = `oom-${runId}`;
const loop = `loop-${runId}`;
const dockerd = dockerAt(socketPathOf(dockerHost));
const engine = new Engine({ extraLabels: { [RUN_LABEL]: runId }, log: (l) => console.log(`engine: ${l}`) });

let dir: string;
let spec: E2eEventSpec;
let v1: Evaluation;
let nginx: TestNginx | undefined;
let applier: EngineStandInApplier;
let queue: OperationQueue;
let app: ReturnType<typeof createConsoleApp>;
const audit = new MemoryAudit();
let adaId = "";

const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
  const r = await app.request(path, { method, headers: { "X-Test-Principal": "organizer", ...(body !== undefined ? { "Content-Type": "application/json" } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, body: r.headers.get("content-type")?.includes("json") ? await r.json() : await r.text() };
};
const status = async (name: string) => (await call("GET", `/api/v1/participants/${name}?tail=20`)).body;
const inspect = (name: string) => mustCall(dockerd, `inspect ${name}`, () => dockerd.getContainer(name).inspect());

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  const image = requiredImage();
  const work = await e2eWorkdir(`thon-e2e-console-${runId}-`);
  dir = work.dir;
  nginx = work.nginx;
  spec = workdirSpec(work, `e2ec-${runId}`, [
    { name: ada, group: "red" },
    { name: bob, group: "red" },
    { name: oom, group: "blue" },
    { name: loop, group: "blue" },
  ]);
  writePulumiProject(dir);
  v1 = await evaluateSpec(dir, "thon.yaml", spec);
  await engine.up(v1);
  await Promise.all([ada, bob].map((u) => waitHealthy(socketOf(v1, u), 120_000)));

  // Two broken sandboxes, made by hand in place of the declared ones (same
  // name and labels): one killed at a 32 MiB limit, one exiting in a loop.
  const labels = (u: string) => ["--label", `org.thon.event=${spec.name}`, "--label", `org.thon.user=${u}`, "--label", `${RUN_LABEL}=${runId}`];
  await docker(["rm", "-f", `thon-${oom}`, `thon-${loop}`]);
  await docker(["run", "-d", "--name", `thon-${oom}`, ...labels(oom), "--network", "none", "--memory", "32m", "--memory-swap", "32m", "--entrypoint", "sh", image, "-c", 'x=aaaaaaaa; while :; do x="$x$x"; done']);
  await docker(["run", "-d", "--name", `thon-${loop}`, ...labels(loop), "--network", "none", "--restart", "always", "--entrypoint", "sh", image, "-c", "echo crashing now; exit 3"]);

  const project = new Project({ projectDir: dir, stack: "dev" });
  queue = new OperationQueue("dev");
  applier = new EngineStandInApplier(engine, join(dir, "thon.yaml"), v1);
  const sandboxes = new DockerodeSandboxes(socketPathOf(dockerHost));
  app = createConsoleApp({
    auth: headerAuth(),
    audit,
    ops: { project, docker: sandboxes, status: new StatusService(sandboxes), queue, declarative: new DeclarativeRunner({ project, applier, queue, audit }) },
  });
}, 600_000);

afterAll(async () => {
  console.log(`e2e cleanup (${RUN_LABEL}=${runId}): ${(await cleanupRun()).join("; ")}`);
  await nginx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 180_000);

describe("e2e: the console on a real Docker engine", () => {
  it("live status: running with code-server answering on its socket, memory against the 1 GiB limit", async () => {
    const s = await status(ada);
    expect(s.status.container.state).toBe("running");
    expect(s.status.codeServer.status).toMatch(/alive|expired/);
    expect(s.status.memory.limitBytes).toBe(1024 ** 3);
    expect(s.status.memory.usedBytes).toBeGreaterThan(1024 ** 2);
    expect(s.status.summary).toMatch(/^running, nobody has connected yet; memory \d+% of 1 GiB$/);
    expect(s.containerId).toBe((await inspect(`thon-${ada}`))!.Id);
    expect(s.logs.length).toBeGreaterThan(0);
  });

  it("an OOM-killed sandbox and one in a crash loop read as such", async () => {
    await until("OOM kill", async () => ((await inspect(`thon-${oom}`))?.State.OOMKilled ? true : undefined), 60_000);
    const o = await status(oom);
    expect(o.status.container).toMatchObject({ state: "oom-killed", exitCode: 137 });
    expect(o.status.summary).toMatch(/^out of memory/);
    const l = await until("restarts", async () => {
      const s = await status(loop);
      return s.status.container.restartCount >= 2 ? s : undefined;
    });
    expect(l.status.summary).toMatch(/crash loop|down: exited with code 3|restarted/);
    expect(l.logs).toContain("crashing now");
    const list = (await call("GET", "/api/v1/participants?state=oom-killed")).body;
    expect(list.items.map((i: any) => i.name)).toEqual([oom]);
  });

  it("restart through Docker, and bulk restart over a group with per-participant results", async () => {
    expect((await execIn(`thon-${ada}`, "echo kept > /workspace/marker && echo ok")).out).toBe("ok");
    const before = (await inspect(`thon-${ada}`))!.State.StartedAt;
    expect((await call("POST", `/api/v1/participants/${ada}/restart`)).status).toBe(200);
    expect((await inspect(`thon-${ada}`))!.State.StartedAt).not.toBe(before);
    await waitHealthy(socketOf(v1, ada), 120_000);
    const bulk = (await call("POST", "/api/v1/participants/bulk", { action: "restart", selection: { group: "blue" } })).body;
    expect(bulk.results.map((r: any) => [r.name, r.ok])).toEqual([[loop, true], [oom, true]]);
  });

  it("the declarative loop: stop bob (preview, then apply), containers change, status follows; a second operation waits or gets 409, never interleaves", async () => {
    const preview = await call("POST", `/api/v1/participants/${bob}/stop`, { wait: true });
    expect(preview.status).toBe(200);
    expect(preview.body.mode).toBe("preview");
    // In the file's own flow style (infra/cli/edit.ts keepStyle): this file writes `[ms-python.python]`.
    expect(preview.body.thonYamlDiff).toContain(`{name: ${bob}, state: stopped}`);
    expect((await inspect(`thon-${bob}`))!.State.Running).toBe(true);

    const first = await call("POST", `/api/v1/participants/${bob}/stop`, { confirm: true });
    expect(first.status).toBe(202);
    adaId = (await inspect(`thon-${ada}`))!.Id;
    const second = await call("POST", `/api/v1/participants/${ada}/recreate`, { confirm: true });
    expect(second.status).toBe(202);
    const refused = await call("POST", "/api/v1/groups", { name: "green", confirm: true, ifBusy: "fail" });
    expect(refused.status).toBe(409);

    for await (const _ of queue.stream(second.body.operation.id, undefined));
    expect(queue.get(first.body.operation.id)!.state).toBe("succeeded");
    expect(queue.get(second.body.operation.id)!.state).toBe("succeeded");
    const ups = applier.timings.filter((t) => t.kind === "up");
    expect(ups).toHaveLength(2);
    expect(ups[0]!.ended).toBeLessThanOrEqual(ups[1]!.started);

    expect((await inspect(`thon-${bob}`))!.State.Running).toBe(false);
    expect((await status(bob)).status.summary).toBe("stopped, as thon.yaml says");
    expect(readFileSync(join(dir, "thon.yaml"), "utf8")).not.toContain("green");
  });

  it("recreate kept the workspace: a new container on the same volume", async () => {
    await waitHealthy(socketOf(v1, ada), 120_000);
    const s = await status(ada);
    expect(s.status.container.state).toBe("running");
    expect(s.containerId).not.toBe(adaId);
    expect((await execIn(`thon-${ada}`, "cat /workspace/marker")).out).toBe("kept");
    const sse = (await call("GET", `/api/v1/operations/${queue.list()[0]!.id}/events`)).body as string;
    expect(sse).toMatch(/"op":"replace","urn":"urn:pulumi:dev::thon::thon:sandbox:Sandbox\$docker:index\/container:Container::thon-ada-/);
    expect(sse).toMatch(/event: result/);
  });
});
