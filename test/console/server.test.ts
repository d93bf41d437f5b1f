// The console as a process: every endpoint over a real loopback server and a
// unix socket, --listen rules (loopback or unix only), the systemd unit
// checked by systemd-analyze, and `thon console openapi` / the docs page.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { parseListen, renderConsoleUnit, startConsole, type RunningConsole } from "../../console/server.ts";
import { registerConsoleCommands } from "../../console/cli.ts";
import { OpError } from "../../console/ops/errors.ts";
import { OperationQueue } from "../../console/apply/queue.ts";
import { DeclarativeRunner } from "../../console/apply/declarative.ts";
import { Project } from "../../console/ops/project.ts";
import { StatusService } from "../../console/ops/status.ts";
import { headerAuth, MemoryAudit } from "../support/consoleAuth.ts";
import { ApplierStandIn, DockerStandIn, harness, makeProject, type Fixture } from "../support/consoleFixture.ts";

let running: RunningConsole | undefined;
let fx: Fixture | undefined;
afterEach(async () => {
  await running?.close();
  fx?.cleanup();
  running = fx = undefined;
});

async function start(listen: string) {
  fx = makeProject();
  const docker = new DockerStandIn();
  docker.add("alice");
  const audit = new MemoryAudit();
  const project = new Project({ projectDir: fx.dir, stack: "dev" });
  const queue = new OperationQueue("dev");
  const applier = new ApplierStandIn();
  const services = { project, docker, status: new StatusService(docker), queue, declarative: new DeclarativeRunner({ project, applier, queue, audit }), audit };
  running = await startConsole(parseListen(listen), { projectDir: fx.dir, stack: "dev", auth: headerAuth(), audit }, services);
  return { docker, applier };
}

/** Every route the API has, with a valid request (organizer). */
const ENDPOINTS: Array<[string, string, unknown?]> = [
  ["GET", "/api/v1/event"],
  ["GET", "/api/v1/participants"],
  ["GET", "/api/v1/participants/alice"],
  ["GET", "/api/v1/participants/alice/logs"],
  ["GET", "/api/v1/groups"],
  ["GET", "/api/v1/operations"],
  ["GET", "/api/v1/lemonade"],
  ["GET", "/api/v1/gateway"],
  ["POST", "/api/v1/participants", { name: "erin", group: "beta" }],
  ["POST", "/api/v1/participants/alice/remove", {}],
  ["POST", "/api/v1/participants/alice/rename", { to: "alicia" }],
  ["POST", "/api/v1/participants/alice/move", { to: "beta" }],
  ["POST", "/api/v1/participants/alice/stop", {}],
  ["POST", "/api/v1/participants/dave/start", {}],
  ["POST", "/api/v1/participants/alice/reset-password", {}],
  ["POST", "/api/v1/participants/alice/recreate", {}],
  ["POST", "/api/v1/participants/alice/restart"],
  ["POST", "/api/v1/participants/bulk", { action: "restart", selection: { names: ["alice"] } }],
  ["POST", "/api/v1/groups", { name: "gamma" }],
  ["POST", "/api/v1/groups/alpha/rename", { to: "red" }],
  ["POST", "/api/v1/groups/alpha/stop", {}],
  ["POST", "/api/v1/groups/beta/start", {}],
  ["GET", "/api/openapi.json"],
  ["GET", "/api/docs"],
  ["GET", "/healthz"],
];

describe("over a real loopback server", () => {
  it("every endpoint answers (previews only: thon.yaml unchanged)", async () => {
    await start("127.0.0.1:0");
    const before = readFileSync(fx!.eventFile, "utf8");
    for (const [method, path, body] of ENDPOINTS) {
      const r = await fetch(`${running!.address}${path}`, {
        method,
        headers: { "X-Test-Principal": "organizer", ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      expect([200, 202], `${method} ${path}: ${r.status}`).toContain(r.status);
      await r.arrayBuffer();
    }
    // groups.remove needs an empty group
    const r = await fetch(`${running!.address}/api/v1/groups/alpha/remove`, { method: "POST", headers: { "X-Test-Principal": "organizer", "Content-Type": "application/json" }, body: "{}" });
    expect(r.status).toBe(409);
    expect(readFileSync(fx!.eventFile, "utf8")).toBe(before);
  });

  it("bad input on every endpoint with input: 400 naming the field, nothing changed", async () => {
    const { docker, applier } = await start("127.0.0.1:0");
    const before = readFileSync(fx!.eventFile, "utf8");
    const bad: Array<[string, string, unknown, string]> = [
      ["GET", "/api/v1/participants?pageSize=0", undefined, "pageSize"],
      ["GET", "/api/v1/participants/alice?tail=-1", undefined, "tail"],
      ["GET", "/api/v1/participants/alice/logs?tail=x", undefined, "tail"],
      ["GET", "/api/v1/participants/alice/logs/stream?tail=99999", undefined, "tail"],
      ["GET", "/api/v1/operations/not-a-uuid", undefined, "id"],
      ["GET", "/api/v1/operations/not-a-uuid/events", undefined, "id"],
      ["GET", "/api/v1/event?x=1", undefined, "x"],
      ["POST", "/api/v1/participants", { name: "erin" }, "group"],
      ["POST", "/api/v1/participants/ALICE/remove", {}, "name"],
      ["POST", "/api/v1/participants/alice/rename", {}, "to"],
      ["POST", "/api/v1/participants/alice/move", { to: 5 }, "to"],
      ["POST", "/api/v1/participants/alice/stop", { ifBusy: "maybe" }, "ifBusy"],
      ["POST", "/api/v1/participants/alice/start", { wait: "no" }, "wait"],
      ["POST", "/api/v1/participants/alice/reset-password", { confirm: 1 }, "confirm"],
      ["POST", "/api/v1/participants/alice/recreate", { extra: true }, "extra"],
      ["POST", "/api/v1/participants/a.b/restart", undefined, "name"],
      ["POST", "/api/v1/participants/bulk", { action: "restart" }, "selection"],
      ["POST", "/api/v1/groups", { name: "" }, "name"],
      ["POST", "/api/v1/groups/alpha/remove", { confirm: null }, "confirm"],
      ["POST", "/api/v1/groups/alpha/rename", { to: "Red Team" }, "to"],
      ["POST", "/api/v1/groups/alpha/stop", { nope: 1 }, "nope"],
      ["POST", "/api/v1/groups/alpha/start", "{not json", "body"],
      ["POST", "/api/v1/lemonade/load", {}, "model"],
      ["POST", "/api/v1/lemonade/unload", { model: 3 }, "model"],
    ];
    for (const [method, path, body, field] of bad) {
      const r = await fetch(`${running!.address}${path}`, {
        method,
        headers: { "X-Test-Principal": "organizer", ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
        ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
      });
      expect(r.status, `${method} ${path}`).toBe(400);
      const e = ((await r.json()) as { error: { field: string; fix: string } }).error;
      expect(e.field, `${method} ${path}`).toBe(field);
      expect(e.fix).toBeTruthy();
    }
    expect(readFileSync(fx!.eventFile, "utf8")).toBe(before);
    expect(docker.restarts).toEqual([]);
    expect(applier.calls).toEqual([]);
  });

  it("follows a participant's log over SSE", async () => {
    await start("127.0.0.1:0");
    const abort = new AbortController();
    const r = await fetch(`${running!.address}/api/v1/participants/alice/logs/stream?tail=1`, { headers: { "X-Test-Principal": "viewer" }, signal: abort.signal });
    expect(r.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = r.body!.getReader();
    let text = "";
    while (!text.includes("followed line")) text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    expect(text).toContain("event: line\ndata: alice log 2");
  });
});

describe("listening", () => {
  it("on a unix socket", async () => {
    const dir = mkdtempSync(join(tmpdir(), "thon-sock-"));
    try {
      await start(`unix:${join(dir, "c.sock")}`);
      const body = await new Promise<string>((res, rej) => {
        request({ socketPath: join(dir, "c.sock"), path: "/healthz" }, (r) => {
          let b = "";
          r.on("data", (c) => (b += c));
          r.on("end", () => res(b));
        })
          .on("error", rej)
          .end();
      });
      expect(JSON.parse(body)).toEqual({ status: "ok" });
      expect(running!.address).toBe(`unix:${join(dir, "c.sock")}`);
    } finally {
      await running?.close();
      running = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("loopback or unix only: other addresses are refused, naming --listen and the fix", () => {
    expect(parseListen("127.0.0.1:8787")).toEqual({ kind: "tcp", host: "127.0.0.1", port: 8787 });
    expect(parseListen("[::1]:8787")).toEqual({ kind: "tcp", host: "::1", port: 8787 });
    expect(parseListen("unix:/run/thon/c.sock")).toEqual({ kind: "unix", path: "/run/thon/c.sock" });
    for (const bad of ["0.0.0.0:8787", "192.168.1.5:80", "example.org:80", "8787", "127.0.0.1:99999", "unix:"]) {
      let e: unknown;
      try {
        parseListen(bad);
      } catch (x) {
        e = x;
      }
      expect(e, bad).toBeInstanceOf(OpError);
      expect((e as OpError).field).toBe("listen");
    }
  });
});

describe("install and documents", () => {
  it("the systemd unit passes systemd-analyze verify", () => {
    const dir = mkdtempSync(join(tmpdir(), "thon-unit-"));
    try {
      const unit = renderConsoleUnit({ user: "root", projectDir: "/srv/event", node: process.execPath, thon: "/srv/event/bin/thon.mjs", listen: "unix:/srv/event/.thon-console/console.sock", dataDir: "/srv/event/.thon-console", stack: "dev" });
      const file = join(dir, "thon-console.service");
      writeFileSync(file, unit);
      const r = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8", timeout: 30_000 });
      const ours = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.includes("thon-console")).join("\n");
      expect(ours).toBe("");
      expect(r.status).toBe(0);
      expect(unit).toContain("ExecStart=");
      expect(unit).not.toMatch(/PASSWORD=|KEY=/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("thon console openapi prints an OpenAPI 3.1 document covering the API's paths, with the error shape", async () => {
    const program = new Command();
    let printed = "";
    registerConsoleCommands(program, { out: (t) => (printed += t) });
    await program.parseAsync(["node", "thon", "console", "openapi"]);
    const doc = JSON.parse(printed) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe("3.1.0");
    for (const p of ["/api/v1/participants", "/api/v1/participants/{name}", "/api/v1/groups", "/api/v1/operations/{id}/events", "/api/v1/lemonade", "/api/v1/gateway", "/api/v1/participants/bulk"]) {
      expect(Object.keys(doc.paths), p).toContain(p);
    }
    expect(doc.components.schemas.Error).toBeDefined();
    expect(JSON.stringify(doc.paths["/api/v1/participants"])).toContain('"name":"pageSize"');
    expect(program.commands.find((c) => c.name() === "users")!.commands.map((c) => c.name())).toEqual(["restart", "recreate", "reset-password", "logs", "move-node"]);
  });

  it("the docs page and swagger-ui's files come from this process (no CDN), under a strict CSP", async () => {
    const h = harness();
    try {
      const page = await h.call("GET", "/api/docs", { as: "viewer" });
      const html = await page.text();
      expect(html).not.toMatch(/https?:\/\//);
      expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
      for (const f of ["swagger-ui.css", "swagger-ui-bundle.js", "init.js"]) {
        const r = await h.call("GET", `/api/docs/${f}`, { as: "viewer" });
        expect(r.status, f).toBe(200);
      }
      expect((await h.call("GET", "/api/docs/../../package.json", { as: "viewer" })).status).toBe(404);
    } finally {
      h.fixture.cleanup();
    }
  });
});
