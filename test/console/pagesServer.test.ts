// The pages' server side in-process (no browser): HTML escaped and per
// role, the validate endpoint gives `thon validate`'s file:line:col lines,
// the live stream sends only rows that changed, health items say the fix,
// and the static files are this console's own (htmx from node_modules).
import { afterEach, describe, expect, it } from "vitest";
import { createConsoleApp } from "../../console/api/app.ts";
import { DeclarativeRunner } from "../../console/apply/declarative.ts";
import { OperationQueue } from "../../console/apply/queue.ts";
import { Project } from "../../console/ops/project.ts";
import { StatusService } from "../../console/ops/status.ts";
import { LiveHub } from "../../console/pages/live.ts";
import { diskCheck, dockerCheck, pulumiCheck, runChecks, stackLockCheck } from "../../console/pages/healthChecks.ts";
import { ThonConfigError, formatProblem, parseThonFile } from "../../infra/config/load.ts";
import { headerAuth } from "../support/consoleAuth.ts";
import { ApplierStandIn, makeProject, THON_YAML, type Fixture } from "../support/consoleFixture.ts";
import { bigThonYaml, ListableAudit, StatefulDocker, sampleOf } from "../support/pagesFixture.ts";

let fixture: Fixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

function app(text = THON_YAML) {
  fixture = makeProject(text);
  const project = new Project({ projectDir: fixture.dir, stack: "dev" });
  const docker = new StatefulDocker();
  for (const u of ["alice", "bob", "carol"]) docker.add(u, {}, sampleOf(0.5));
  const queue = new OperationQueue("dev");
  const audit = new ListableAudit();
  const status = new StatusService(docker, { healthzTimeoutMs: 200 });
  const declarative = new DeclarativeRunner({ project, applier: new ApplierStandIn(), queue, audit });
  const a = createConsoleApp({ auth: headerAuth(), audit, ops: { project, docker, status, queue, declarative }, pages: { auditList: audit.list, healthChecks: [dockerCheck, diskCheck] } });
  const get = (path: string, as: string | null = "organizer") => Promise.resolve(a.request(path, { headers: as ? { "X-Test-Principal": as } : {} }));
  const post = (path: string, body: unknown, as = "organizer") => Promise.resolve(a.request(path, { method: "POST", headers: { "X-Test-Principal": as, "Content-Type": "application/json" }, body: JSON.stringify(body) }));
  return { a, get, post, project, docker, status, audit };
}

describe("the pages, server side", () => {
  it("anonymous: / is the sign-in form, other pages send to it; signed in: / is the participants table", async () => {
    const { get } = app();
    const anon = await get("/", null);
    expect(anon.status).toBe(200);
    const html = await anon.text();
    expect(html).toContain('id="signin"');
    expect(html).not.toContain("<nav");
    expect((await get("/groups", null)).headers.get("location")).toBe("/");
    const signed = await (await get("/")).text();
    expect(signed).toContain('id="participants"');
    expect(signed.match(/<tr id="p-/g)?.length).toBe(4);
  });

  it("a strict CSP: scripts and styles from the console only, no inline script or style attribute in any page", async () => {
    const { get } = app();
    for (const path of ["/", "/participants/alice", "/groups", "/event", "/llm", "/gateway", "/activity", "/health"]) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
      const html = await r.text();
      expect(html, path).not.toMatch(/<script(?![^>]*\ssrc=)/);
      expect(html, path).not.toMatch(/\sstyle=/);
      expect(html, path).not.toMatch(/\son[a-z]+=/);
    }
    const js = await get("/static/htmx.min.js");
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect(await js.text()).toContain("htmx");
    expect((await get("/static/../package.json")).status).toBe(404);
  });

  it("escapes what comes from outside (a log line, a summary) in the HTML", async () => {
    const { get, docker } = app();
    docker.containers.get("id-alice")!.logs.push('<img src=x onerror="alert(1)">');
    const html = await (await get("/participants/alice")).text();
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(html).not.toContain("<img src=x");
  });

  it("a viewer's pages have no action buttons, and the API refuses the actions", async () => {
    const { get, post } = app();
    for (const path of ["/", "/participants/alice", "/groups", "/event", "/llm"]) {
      const html = await (await get(path, "viewer")).text();
      expect(html, path).not.toMatch(/data-action="(?!sign-out)|data-bulk=|class="pick"/);
    }
    expect((await post("/api/v1/participants/alice/restart", {}, "viewer")).status).toBe(403);
    expect((await post("/api/v1/event/file", { text: THON_YAML }, "viewer")).status).toBe(403);
    expect((await get("/api/v1/participants/alice/credentials", "viewer")).status).toBe(403);
  });

  it("validates thon.yaml text with the same file:line:col lines as thon validate", async () => {
    const { post, project } = app();
    const bad = project.readText().replace("memory: 1GiB", "memory: lots").replace("bob]", "Bob]");
    const r = (await (await post("/api/v1/event/validate", { text: bad })).json()) as { ok: boolean; problems: { text: string; line: number }[] };
    let expected: string[] = [];
    try {
      parseThonFile(bad, project.eventFile);
    } catch (e) {
      expected = (e as ThonConfigError).problems.map((p) => formatProblem("thon.yaml", p));
    }
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.text)).toEqual(expected);
    expect(r.problems.map((p) => p.text)).toEqual(expect.arrayContaining([expect.stringMatching(/^thon\.yaml:7:11 sandbox\.memory: /)]));
    expect(((await (await post("/api/v1/event/validate", { text: project.readText() })).json()) as { ok: boolean }).ok).toBe(true);
    const missing = await post("/api/v1/event/validate", { txt: "x" });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { field: string } }).error.field).toBe("text");
  });

  it("applying an edited thon.yaml: an invalid text is a 422 naming each problem and nothing is written", async () => {
    const { post, project } = app();
    const before = project.readText();
    const r = await post("/api/v1/event/file", { text: before.replace("memory: 1GiB", "memory: lots"), confirm: true, wait: true });
    expect(r.status).toBe(422);
    const body = (await r.json()) as { error: { details: { field: string }[] } };
    expect(body.error.details.map((d) => d.field)).toContain("sandbox.memory");
    expect(project.readText()).toBe(before);
    const ok = await post("/api/v1/event/file", { text: before.replace("users: [alice, bob]", "users: [alice, bob, erin]"), confirm: true, wait: true });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { mode: string; thonYamlDiff: string }).thonYamlDiff).toContain("+    users: [alice, bob, erin]");
    expect(project.plan().participants.map((p) => p.name)).toContain("erin");
  });

  it("in propose mode the Event page says so, and an edit answers with the diff to commit; thon.yaml is not written", async () => {
    const { post, get, project } = app(THON_YAML + "\nconsole:\n  changes: propose\n");
    expect(await (await get("/event")).text()).toContain("Show the diff to commit");
    const before = project.readText();
    const r = await post("/api/v1/event/file", { text: before.replace("users: [alice, bob]", "users: [alice, bob, erin]"), confirm: true, wait: true });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { mode: string; thonYamlDiff: string };
    expect(body.mode).toBe("propose");
    expect(body.thonYamlDiff).toContain("+    users: [alice, bob, erin]");
    expect(project.readText()).toBe(before);
  });

  it("a group stop's preview diff is that group's one line: long users lists and the file's flow style are kept", async () => {
    const { post } = app(bigThonYaml(90));
    const r = await post("/api/v1/groups/team-02/stop", { confirm: false, wait: true });
    expect(r.status).toBe(200);
    const diff = ((await r.json()) as { thonYamlDiff: string }).thonYamlDiff.split("\n");
    expect(diff.filter((l) => /^[+-](?![+-]{2} )/.test(l))).toEqual(["+    state: stopped"]);
  });

  it("the activity page filters the audit log by who, what and when", async () => {
    const { get, audit } = app();
    audit.record({ actor: "password:organizer", action: "participants.restart", target: "alice", result: "ok" });
    audit.record({ actor: "oidc:bea", action: "groups.stop", target: "alpha", result: "ok" });
    const all = await (await get("/activity")).text();
    expect(all.match(/<tr><td data-label="When">/g)?.length).toBe(2);
    const bea = await (await get("/activity?partial=1&who=bea")).text();
    expect(bea).toContain("groups.stop");
    expect(bea).not.toContain("participants.restart");
    const future = await (await get("/activity?partial=1&since=2999-01-01T00:00")).text();
    expect(future).toContain("No entries match.");
  });

  it("live: one refresh loop for every listener, sending only the rows that changed", async () => {
    const { project, status, docker } = app();
    const hub = new LiveHub({ project, status }, 50);
    const seen: string[][] = [];
    const off = hub.subscribe((c) => seen.push(c.rows.map((r) => r.name)));
    await new Promise((r) => setTimeout(r, 200));
    expect(seen[0]!.sort()).toEqual(["alice", "bob", "carol", "dave"]);
    const after = seen.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.length).toBe(after); // nothing changed: nothing sent
    docker.set("bob", { status: "exited", running: false, exitCode: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.slice(after)).toEqual([["bob"]]);
    off();
    expect(hub.listeners).toBe(0);
  });

  it("health: each item ok, warn or fail with the fix; a missing Pulumi CLI and a foreign stack lock say what to do", async () => {
    const { project, status, docker } = app();
    const { mkdirSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const backend = join(fixture!.dir, "backend");
    mkdirSync(join(backend, ".pulumi", "locks", "organization", "thon", "dev"), { recursive: true });
    writeFileSync(join(backend, ".pulumi", "locks", "organization", "thon", "dev", "x.json"), "{}");
    const services = { project, status, docker, queue: new OperationQueue("dev") } as never;
    const items = await runChecks([dockerCheck, pulumiCheck("/nonexistent/pulumi"), stackLockCheck(backend)], services);
    expect(items.map((i) => [i.id, i.status])).toEqual([["docker", "ok"], ["pulumi", "fail"], ["lock", "warn"]]);
    expect(items[1]!.fix).toMatch(/install it/);
    expect(items[2]!.fix).toMatch(/pulumi cancel --stack dev/);
    docker.list = async () => {
      throw new Error("connect ENOENT /var/run/docker.sock");
    };
    const [d] = await runChecks([dockerCheck], services);
    expect(d).toMatchObject({ status: "fail", fix: expect.stringMatching(/systemctl start docker/) });
  });
});
