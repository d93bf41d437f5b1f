// The console's REST API in-process (app.request): reads, declarative
// operations through the queue and the applier seam, imperative ones through
// Docker (a stand-in here; the real dockerd in test/e2e/console.test.ts).
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { harness, type Harness } from "../support/consoleFixture.ts";
import { PulumiMissingError, StackBusyError } from "../../console/apply/applier.ts";

let h: Harness;
afterEach(() => h?.fixture.cleanup());

const json = async (r: Response) => (await r.json()) as Record<string, any>;

describe("reads", () => {
  it("GET /healthz answers without authentication", async () => {
    h = harness();
    const r = await h.call("GET", "/healthz", { as: null });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: "ok" });
  });

  it("lists participants by name with live status and a summary", async () => {
    h = harness();
    h.docker.add("alice");
    h.docker.add("bob", { running: false, status: "exited", oomKilled: true, exitCode: 137, restartCount: 2 });
    const r = await h.call("GET", "/api/v1/participants", { as: "viewer" });
    expect(r.status).toBe(200);
    const body = await json(r);
    expect(body.items.map((i: any) => i.name)).toEqual(["alice", "bob", "carol", "dave"]);
    const bob = body.items[1];
    expect(bob.status.container).toMatchObject({ state: "oom-killed", exitCode: 137, restartCount: 2 });
    expect(bob.status.summary).toMatch(/out of memory/);
    expect(body.items[2].status.summary).toMatch(/no container/);
    expect(body.items[3].status.summary).toBe("stopped, as thon.yaml says");
  });

  it("searches, filters by group and live state, sorts and pages", async () => {
    h = harness();
    h.docker.add("alice");
    h.docker.add("carol", { restarting: true, status: "restarting", exitCode: 1, restartCount: 5 });
    const get = async (q: string) => (await json(await h.call("GET", `/api/v1/participants?${q}`))).items.map((i: any) => i.name);
    expect(await get("q=ca")).toEqual(["carol"]);
    expect(await get("group=beta")).toEqual(["carol", "dave"]);
    expect(await get("declared=stopped")).toEqual(["dave"]);
    expect(await get("state=restarting")).toEqual(["carol"]);
    expect(await get("sort=name&order=desc")).toEqual(["dave", "carol", "bob", "alice"]);
    expect(await get("pageSize=2&page=2")).toEqual(["carol", "dave"]);
    expect(await get("sort=group&order=asc&live=false")).toEqual(["alice", "bob", "carol", "dave"]);
  });

  it("a bad query parameter is a 400 naming it", async () => {
    h = harness();
    for (const [q, field] of [["page=0", "page"], ["pageSize=9999", "pageSize"], ["sort=size", "sort"], ["state=sleepy", "state"], ["colour=red", "colour"], ["live=yes", "live"]] as const) {
      const r = await h.call("GET", `/api/v1/participants?${q}`);
      expect(r.status, q).toBe(400);
      const body = await json(r);
      expect(body.error.field, q).toBe(field);
      expect(body.error.message, q).toContain(field);
      expect(body.error.fix, q).toBeTruthy();
    }
  });

  it("one participant in full, with recent log lines", async () => {
    h = harness();
    h.docker.add("alice", {}, { memoryUsed: 1000 * 1024 * 1024, memoryLimit: 1024 ** 3, cpuTotal: 1, systemCpu: 1, onlineCpus: 2 });
    const body = await json(await h.call("GET", "/api/v1/participants/alice?tail=1", { as: "viewer" }));
    expect(body).toMatchObject({ name: "alice", group: "alpha", declared: "running", containerId: "id-alice", containerName: "thon-alice", workspace: { kind: "volume", volumeName: "thon-workspace-alice" }, logs: ["alice log 2"] });
    expect(body.url).toBe("https://127.0.0.1/alice/");
    expect(body.status.memory.percent).toBeGreaterThan(90);
    expect(body.status.summary).toMatch(/near its memory limit/);
    expect((await h.call("GET", "/api/v1/participants/zed")).status).toBe(404);
    expect((await h.call("GET", "/api/v1/participants/Bad.Name")).status).toBe(400);
  });

  it("groups and the event", async () => {
    h = harness();
    const groups = await json(await h.call("GET", "/api/v1/groups", { as: "viewer" }));
    expect(groups.items).toEqual([
      { name: "alpha", users: ["alice", "bob"], running: 2, stopped: 0 },
      { name: "beta", users: ["carol", "dave"], running: 1, stopped: 1 },
    ]);
    const event = await json(await h.call("GET", "/api/v1/event", { as: "viewer" }));
    expect(event).toMatchObject({ name: "ctest", participants: 4, groups: 2, changes: "apply", stack: "dev" });
  });
});

describe("who may do what", () => {
  it("anonymous: 401 everywhere but /healthz; a viewer's operation: 403, nothing changed", async () => {
    h = harness();
    for (const [m, p] of [["GET", "/api/v1/participants"], ["GET", "/api/v1/groups"], ["GET", "/api/v1/operations"], ["GET", "/api/openapi.json"], ["GET", "/api/docs"], ["POST", "/api/v1/participants/alice/restart"]] as const) {
      expect((await h.call(m, p, { as: null })).status, `${m} ${p}`).toBe(401);
    }
    h.docker.add("alice");
    const before = readFileSync(h.fixture.eventFile, "utf8");
    expect((await h.call("POST", "/api/v1/participants/alice/restart", { as: "viewer" })).status).toBe(403);
    expect((await h.call("POST", "/api/v1/participants/alice/stop", { as: "viewer", body: { confirm: true } })).status).toBe(403);
    expect(h.docker.restarts).toEqual([]);
    expect(readFileSync(h.fixture.eventFile, "utf8")).toBe(before);
  });
});

describe("declarative operations", () => {
  it("preview (confirm false) changes nothing and streams the engine's events; apply edits thon.yaml, keeps comments, and runs up", async () => {
    h = harness();
    const before = readFileSync(h.fixture.eventFile, "utf8");
    const r = await h.call("POST", "/api/v1/participants/bob/stop", { body: { wait: true } });
    expect(r.status).toBe(200);
    const preview = await json(r);
    expect(preview.mode).toBe("preview");
    expect(preview.thonYamlDiff).toContain("-    users: [alice, bob] # the first team\n+    users: [ alice, { name: bob, state: stopped } ] # the first team");
    expect(readFileSync(h.fixture.eventFile, "utf8")).toBe(before);
    expect(h.applier.calls[0]).toMatchObject({ kind: "preview" });
    expect(h.applier.calls[0]!.eventFile).toMatch(/candidate/);

    const applied = await json(await h.call("POST", "/api/v1/participants/bob/stop", { body: { confirm: true, wait: true } }));
    expect(applied.mode).toBe("applied");
    const after = readFileSync(h.fixture.eventFile, "utf8");
    expect(after).toContain("# the first team");
    expect(after).toContain("{ name: bob, state: stopped }");
    expect(h.audit.entries.filter((e) => e.action === "participants.stop").map((e) => e.result)).toEqual(["started", "ok"]);
    expect(h.audit.entries[0]!.diff).toContain("bob");
  });

  it("202 with an operation id; its events stream as SSE with the engine's sequence as id, then the result; Last-Event-ID resumes", async () => {
    h = harness();
    const r = await h.call("POST", "/api/v1/participants/alice/recreate", { body: { confirm: true } });
    expect(r.status).toBe(202);
    const { operation } = await json(r);
    expect(r.headers.get("location")).toBe(`/api/v1/operations/${operation.id}`);
    const sse = await (await h.call("GET", `/api/v1/operations/${operation.id}/events`, { as: "viewer" })).text();
    const ids = [...sse.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual([0, 1, 2, 3, 4]);
    expect(sse).toMatch(/event: engine\ndata: \{"sequence":1,.*"resourcePreEvent":\{"metadata":\{"op":"replace","urn":"urn:pulumi:dev::thon::thon:sandbox:Sandbox\$docker:index\/container:Container::thon-alice"/);
    expect(sse).toMatch(/event: result\ndata: \{.*"state":"succeeded"/);
    const resumed = await (await h.call("GET", `/api/v1/operations/${operation.id}/events`, { headers: { "Last-Event-ID": "2" } })).text();
    expect([...resumed.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual([3, 4]);
    const got = await json(await h.call("GET", `/api/v1/operations/${operation.id}`));
    expect(got).toMatchObject({ state: "succeeded", action: "participants.recreate", target: "alice", actor: "test:organizer" });
  });

  it("reset password replaces the password, then the container; the workspace is not touched", async () => {
    h = harness();
    await h.call("POST", "/api/v1/participants/carol/reset-password", { body: { confirm: true, wait: true } });
    const { engineUrn } = await import("../../infra/preview/evaluate.ts");
    const sandbox = engineUrn("dev", "thon", "", "thon:sandbox:Sandbox", "thon-carol");
    expect(h.applier.calls[0]!.replace).toEqual([engineUrn("dev", "thon", sandbox, "random:index/randomPassword:RandomPassword", "thon-password-carol"), engineUrn("dev", "thon", sandbox, "docker:index/container:Container", "thon-carol")]);
    expect(h.applier.calls[0]!.replace).toEqual([
      "urn:pulumi:dev::thon::thon:sandbox:Sandbox$random:index/randomPassword:RandomPassword::thon-password-carol",
      "urn:pulumi:dev::thon::thon:sandbox:Sandbox$docker:index/container:Container::thon-carol",
    ]);
  });

  it("a second operation waits for the first (never interleaves), or gets 409 with ifBusy: fail", async () => {
    h = harness();
    let open!: () => void;
    h.applier.gate = new Promise<void>((res) => (open = res));
    const first = await json(await h.call("POST", "/api/v1/participants/alice/stop", { body: { confirm: true } }));
    const second = await json(await h.call("POST", "/api/v1/participants/bob/stop", { body: { confirm: true } }));
    const busy = await h.call("POST", "/api/v1/groups", { body: { name: "gamma", confirm: true, ifBusy: "fail" } });
    expect(busy.status).toBe(409);
    const err = (await json(busy)).error;
    expect(err.message).toContain(first.operation.id);
    expect(err.field).toBe("ifBusy");
    open();
    h.applier.gate = undefined;
    await h.queue.stream(second.operation.id, undefined).next();
    for await (const _ of h.queue.stream(second.operation.id, undefined));
    const [a, b] = h.applier.calls;
    expect(a!.ended).toBeLessThanOrEqual(b!.started);
    expect(readFileSync(h.fixture.eventFile, "utf8")).not.toContain("gamma");
    expect(readFileSync(h.fixture.eventFile, "utf8")).toContain("{ name: bob, state: stopped }");
  });

  it("past the queue's bound: 429 naming the fix; nothing queued", async () => {
    h = harness({ maxQueued: 1 });
    let open!: () => void;
    h.applier.gate = new Promise<void>((res) => (open = res));
    expect((await h.call("POST", "/api/v1/participants/alice/stop", { body: { confirm: true } })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 10)); // the first one runs; the next one waits
    expect((await h.call("POST", "/api/v1/participants/bob/stop", { body: { confirm: true } })).status).toBe(202);
    const r = await h.call("POST", "/api/v1/participants/carol/stop", { body: { confirm: true } });
    expect(r.status).toBe(429);
    expect((await json(r)).error.fix).toMatch(/bulk/);
    expect(h.queue.list()).toHaveLength(2);
    open();
    h.applier.gate = undefined;
    for (const op of h.queue.list()) for await (const _ of h.queue.stream(op.id, undefined));
  });

  it("an update from outside the console is a 409 naming the cause; thon.yaml goes back", async () => {
    h = harness();
    const before = readFileSync(h.fixture.eventFile, "utf8");
    h.applier.fail = new StackBusyError("stack dev is being updated from outside this console (Pulumi: another update is in progress, or the stack is locked)");
    const r = await h.call("POST", "/api/v1/participants/alice/move", { body: { to: "beta", confirm: true, wait: true } });
    expect(r.status).toBe(409);
    expect((await json(r)).error.message).toMatch(/updated from outside this console/);
    expect(readFileSync(h.fixture.eventFile, "utf8")).toBe(before);
  });

  it("without the Pulumi CLI: fails saying so, with the diff it would have applied", async () => {
    h = harness({ offlinePreview: async () => "+  docker:index/container:Container  thon-erin\n1 to create" });
    h.applier.fail = new PulumiMissingError("the Pulumi CLI cannot run here (not found)");
    const before = readFileSync(h.fixture.eventFile, "utf8");
    const r = await h.call("POST", "/api/v1/participants", { body: { name: "erin", group: "beta", confirm: true, wait: true } });
    expect(r.status).toBe(503);
    const err = (await json(r)).error;
    expect(err.message).toMatch(/Pulumi CLI cannot run here/);
    expect(err.data.thonYamlDiff).toContain("+      - erin");
    expect(err.data.offlinePreview).toContain("thon-erin");
    expect(readFileSync(h.fixture.eventFile, "utf8")).toBe(before);
  });

  it("console.changes: propose shows the thon.yaml diff to commit and applies nothing", async () => {
    h = harness({ text: readFileSync(new URL("../support/consoleFixture.ts", import.meta.url), "utf8").match(/THON_YAML = `([^`]*)`/)![1]! + "console:\n  changes: propose\n" });
    const body = await json(await h.call("POST", "/api/v1/groups/alpha/rename", { body: { to: "red", confirm: true, wait: true } }));
    expect(body.mode).toBe("propose");
    expect(body.thonYamlDiff).toContain("-  alpha:\n-    users: [alice, bob] # the first team\n+  red:");
    expect(h.applier.calls).toEqual([]);
    expect(readFileSync(h.fixture.eventFile, "utf8")).toContain("alpha:");
  });

  it("an edit that would break thon.yaml is a 4xx naming the field; nothing is queued or written", async () => {
    h = harness();
    const before = readFileSync(h.fixture.eventFile, "utf8");
    const cases: Array<[string, unknown, number, string]> = [
      ["/api/v1/participants", { name: "api", group: "alpha" }, 400, "name"],
      ["/api/v1/participants", { name: "alice", group: "beta" }, 409, "to"],
      ["/api/v1/participants/zed/stop", {}, 404, "name"],
      ["/api/v1/groups/beta/remove", {}, 409, "name"],
      ["/api/v1/participants/alice/rename", { to: "Alice" }, 400, "to"],
      ["/api/v1/participants/alice/stop", { confirm: "yes" }, 400, "confirm"],
    ];
    for (const [path, body, status, field] of cases) {
      const r = await h.call("POST", path, { body });
      expect(r.status, path).toBe(status);
      expect((await json(r)).error.field, path).toBe(field);
    }
    expect(h.queue.list()).toEqual([]);
    expect(readFileSync(h.fixture.eventFile, "utf8")).toBe(before);
  });
});

describe("imperative operations", () => {
  it("restart goes to Docker; a participant stopped in thon.yaml is not restarted (409)", async () => {
    h = harness();
    h.docker.add("alice");
    h.docker.add("dave", { running: false, status: "exited" });
    expect((await h.call("POST", "/api/v1/participants/alice/restart")).status).toBe(200);
    const r = await h.call("POST", "/api/v1/participants/dave/restart");
    expect(r.status).toBe(409);
    expect((await json(r)).error.fix).toMatch(/start/);
    expect(h.docker.restarts).toEqual(["id-alice"]);
  });

  it("bulk restart over a group reports per participant", async () => {
    h = harness();
    h.docker.add("carol");
    const body = await json(await h.call("POST", "/api/v1/participants/bulk", { body: { action: "restart", selection: { group: "beta" } } }));
    expect(body.results).toEqual([
      { name: "carol", ok: true, message: "restarted" },
      { name: "dave", ok: false, message: "stopped in thon.yaml; not restarted (start it instead)" },
    ]);
  });

  it("bulk stop over a filter is one thon.yaml edit in one operation", async () => {
    h = harness();
    const body = await json(await h.call("POST", "/api/v1/participants/bulk", { body: { action: "stop", selection: { filter: { q: "a" } }, confirm: true, wait: true } }));
    expect(body.results.map((r: any) => r.name)).toEqual(["alice", "carol", "dave"]);
    expect(h.applier.calls.filter((c) => c.kind === "up")).toHaveLength(1);
    const text = readFileSync(h.fixture.eventFile, "utf8");
    expect(text).toContain("{ name: alice, state: stopped }");
    expect(text).toContain("{ name: carol, state: stopped }");
    expect(text).not.toContain("{ name: bob, state: stopped }");
  });

  it("bulk: a bad selection is a 400 naming it", async () => {
    h = harness();
    const r = await h.call("POST", "/api/v1/participants/bulk", { body: { action: "restart", selection: { group: "alpha", names: ["bob"] } } });
    expect(r.status).toBe(400);
    expect((await json(r)).error.field).toBe("selection");
    const r2 = await h.call("POST", "/api/v1/participants/bulk", { body: { action: "explode", selection: { group: "alpha" } } });
    expect((await json(r2)).error.field).toBe("action");
  });
});
