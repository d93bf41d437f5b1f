// The console wired together (console/main.ts) with the REAL sign-in, store
// and audit log: every route of its OpenAPI document refuses anonymous
// callers, a viewer cannot operate, CSRF, expiry and revocation hold, and
// every operation lands in the audit log without a password in it. Both
// in-process and over a loopback server; plus the CLI's side.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { openApiDocument } from "../../console/api/app.ts";
import { registerConsoleCommands } from "../../console/cli.ts";
import { CONSOLE_PATH, openConsole, type OpenConsole } from "../../console/main.ts";
import { parseListen, serveApp, type RunningConsole } from "../../console/server.ts";
import { openStore } from "../../console/store/index.ts";
import { SqliteAuditLog } from "../../console/auth/audit.ts";
import { Redactor } from "../../console/auth/redact.ts";
import { ApplierStandIn, DockerStandIn, makeProject, THON_YAML, type Fixture } from "../support/consoleFixture.ts";

const PASSWORD = "wired-test organizer passphrase";
const UUID = "00000000-0000-4000-8000-000000000000";

let fx: Fixture | undefined;
let c: OpenConsole | undefined;
let server: RunningConsole | undefined;
afterEach(async () => {
  await server?.close();
  c?.close();
  fx?.cleanup();
  fx = c = server = undefined;
});

async function open(text = THON_YAML, extra: { behindProxy?: boolean } = {}) {
  fx = makeProject(text);
  const docker = new DockerStandIn();
  docker.add("alice");
  docker.add("bob");
  let offset = 0;
  c = await openConsole({
    projectDir: fx.dir,
    dataDir: join(fx.dir, ".thon-console"),
    stack: "dev",
    env: { THON_CONSOLE_PASSWORD: PASSWORD },
    docker,
    applier: new ApplierStandIn(),
    now: () => Date.now() + offset,
    ...extra,
  });
  return { c, docker, advance: (ms: number) => void (offset += ms) };
}

type Call = (method: string, path: string, init?: { body?: unknown; headers?: Record<string, string> }) => Promise<Response>;
const inProcess = (o: OpenConsole): Call => (method, path, init = {}) =>
  Promise.resolve(o.app.request(path, { method, headers: { ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}), ...init.headers }, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) }));
const overHttp = (base: string): Call => (method, path, init = {}) =>
  fetch(base + path, { method, headers: { ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}), ...init.headers }, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });

async function signIn(call: Call) {
  const r = await call("POST", "/api/v1/session", { body: { password: PASSWORD } });
  expect(r.status).toBe(200);
  const cookie = r.headers.getSetCookie().map((x) => x.split(";")[0]!).find((x) => x.startsWith("thon_console_session="))!;
  const { csrfToken } = (await r.json()) as { csrfToken: string };
  return { cookie, csrf: csrfToken, headers: { Cookie: cookie, "X-CSRF-Token": csrfToken } };
}

/** Every operation of the document, with its path's parameters filled in. */
function routes(o: OpenConsole): Array<{ method: string; path: string; description: string }> {
  const doc = openApiDocument(o.api) as unknown as { paths: Record<string, Record<string, { description?: string }>> };
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path: path.replace("{name}", "alice").replace(/\{id\}/g, UUID), description: op.description ?? "" })),
  );
}

/** What only an organizer may do: the operations marked so, token management and the audit log. */
const organizerOnly = (r: { method: string; path: string; description: string }) =>
  r.description.includes("role: organizer") || (r.path.startsWith("/api/v1/tokens") && r.method !== "GET") || r.path === "/api/v1/audit";

describe("the wired console, in-process", () => {
  it("answers /healthz to anyone and 401 on every other route of its OpenAPI document", async () => {
    const { c } = await open();
    const call = inProcess(c);
    expect((await call("GET", "/healthz")).status).toBe(200);
    const all = routes(c);
    expect(all.length).toBeGreaterThan(30);
    for (const p of ["/api/v1/session", "/api/v1/tokens", "/api/v1/audit", "/api/v1/participants"]) expect(all.map((r) => r.path)).toContain(p);
    for (const r of all.filter((x) => x.path !== "/api/v1/session" || x.method !== "POST")) {
      const res = await call(r.method, r.path, r.method === "GET" ? {} : { body: {} });
      expect(res.status, `${r.method} ${r.path}`).toBe(401);
    }
    for (const p of ["/api/openapi.json", "/api/docs"]) expect((await call("GET", p)).status, p).toBe(401);
  });

  it("a wrong password is 401 and sets no cookie; the right one sets an HttpOnly, Secure, SameSite=Lax session cookie", async () => {
    const { c } = await open();
    const call = inProcess(c);
    const wrong = await call("POST", "/api/v1/session", { body: { password: "not the password at all" } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.getSetCookie()).toEqual([]);
    const right = await call("POST", "/api/v1/session", { body: { password: PASSWORD } });
    expect(right.status).toBe(200);
    const cookie = right.headers.getSetCookie().find((x) => x.startsWith("thon_console_session="))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\/(;|$)/);
    expect(right.headers.get("content-security-policy")).toContain("default-src 'none'");
  });

  it("a read token (viewer) gets 403 on every organizer operation, and nothing changes", async () => {
    const { c, docker } = await open();
    const call = inProcess(c);
    const s = await signIn(call);
    const made = await call("POST", "/api/v1/tokens", { body: { name: "mentor", scope: "read" }, headers: s.headers });
    expect(made.status).toBe(201);
    const { token } = (await made.json()) as { token: string };
    const viewer = { Authorization: `Bearer ${token}` };
    const before = readFileSync(fx!.eventFile, "utf8");
    const organizerRoutes = routes(c).filter(organizerOnly);
    expect(organizerRoutes.length).toBeGreaterThan(15);
    for (const r of organizerRoutes) {
      const res = await call(r.method, r.path, { headers: viewer, ...(r.method === "GET" ? {} : { body: {} }) });
      expect(res.status, `${r.method} ${r.path}`).toBe(403);
    }
    expect((await call("GET", "/api/v1/participants", { headers: viewer })).status).toBe(200);
    expect(readFileSync(fx!.eventFile, "utf8")).toBe(before);
    expect(docker.restarts).toEqual([]);
  });

  it("a forged CSRF token is 403 and restarts nothing; the right one restarts", async () => {
    const { c, docker } = await open();
    const call = inProcess(c);
    const s = await signIn(call);
    const forged = await call("POST", "/api/v1/participants/alice/restart", { headers: { Cookie: s.cookie, "X-CSRF-Token": "f".repeat(s.csrf.length) } });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { field?: string } }).error.field).toBe("X-CSRF-Token");
    expect((await call("POST", "/api/v1/participants/alice/restart", { headers: { Cookie: s.cookie } })).status).toBe(403);
    expect(docker.restarts).toEqual([]);
    const ok = await call("POST", "/api/v1/participants/alice/restart", { headers: s.headers });
    expect(ok.status).toBe(200);
    expect(docker.restarts).toEqual(["id-alice"]);
  });

  it("renames go through infra/cli/edit.ts: an unknown group is 404 naming it, without the CLI's flag advice", async () => {
    const { c } = await open();
    const call = inProcess(c);
    const s = await signIn(call);
    const r = await call("POST", "/api/v1/groups/nope/rename", { body: { to: "gamma", confirm: true, wait: true }, headers: s.headers });
    expect(r.status).toBe(404);
    const { error } = (await r.json()) as { error: { message: string; field: string } };
    expect(error.message).toContain('there is no group "nope"');
    expect(error.message).not.toContain("--create-group");
    expect(error.field).toBe("name");
    const clash = await call("POST", "/api/v1/participants/alice/rename", { body: { to: "bob", confirm: true, wait: true }, headers: s.headers });
    expect(clash.status).toBe(409);
    expect(((await clash.json()) as { error: { message: string } }).error.message).toContain('"bob" is already in group "alpha"');
  });

  it("an expired session is 401", async () => {
    const { c, advance } = await open();
    const call = inProcess(c);
    const s = await signIn(call);
    expect((await call("GET", "/api/v1/participants", { headers: s.headers })).status).toBe(200);
    advance(25 * 3_600_000); // past maxHours (24 h) and idleMinutes (8 h)
    expect((await call("GET", "/api/v1/participants", { headers: s.headers })).status).toBe(401);
  });

  it("a revoked token is 401 at once", async () => {
    const { c, docker } = await open();
    const call = inProcess(c);
    const s = await signIn(call);
    const made = (await (await call("POST", "/api/v1/tokens", { body: { name: "script", scope: "operate" }, headers: s.headers })).json()) as { id: string; token: string };
    const bearer = { Authorization: `Bearer ${made.token}` };
    expect((await call("POST", "/api/v1/participants/bob/restart", { headers: bearer })).status).toBe(200);
    expect((await call("DELETE", `/api/v1/tokens/${made.id}`, { headers: s.headers })).status).toBeLessThan(300);
    expect((await call("POST", "/api/v1/participants/bob/restart", { headers: bearer })).status).toBe(401);
    expect(docker.restarts).toEqual(["id-bob"]);
  });

  it("every operation lands in the audit log with who, what and the result, and no password or token in it", async () => {
    const { c } = await open();
    const call = inProcess(c);
    await call("POST", "/api/v1/session", { body: { password: "wrong wrong wrong" } });
    const s = await signIn(call);
    const made = (await (await call("POST", "/api/v1/tokens", { body: { name: "script", scope: "operate" }, headers: s.headers })).json()) as { id: string; token: string };
    await call("POST", "/api/v1/participants/alice/restart", { headers: { Authorization: `Bearer ${made.token}` } });
    const renamed = await call("POST", "/api/v1/groups/beta/rename", { body: { to: "gamma", confirm: true, wait: true }, headers: s.headers });
    expect(renamed.status).toBe(200);
    const audit = await call("GET", "/api/v1/audit?limit=100", { headers: s.headers });
    expect(audit.status).toBe(200);
    const text = await audit.text();
    const { entries } = JSON.parse(text) as { entries: Array<{ actor: string; action: string; target?: string; result: string }> };
    const has = (actor: string | RegExp, action: string, result: string, target?: string) =>
      expect(entries.some((e) => (typeof actor === "string" ? e.actor === actor : actor.test(e.actor)) && e.action === action && e.result === result && (target === undefined || e.target === target)), `${action} ${result}`).toBe(true);
    has(/^anonymous@/, "session.signIn", "error");
    has("password", "session.signIn", "ok");
    has("password", "tokens.create", "ok");
    has(`token:${made.id}`, "participants.restart", "ok", "alice");
    has("password", "groups.rename", "ok", "beta");
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(made.token);
    expect(readFileSync(join(fx!.dir, ".thon-console", "console.db")).includes(Buffer.from(PASSWORD))).toBe(false);
  });
});

describe("the wired console over a loopback server", () => {
  it("healthz, 401 anonymous, sign-in and an operation over real HTTP", async () => {
    const { c, docker } = await open();
    server = await serveApp(parseListen("127.0.0.1:0"), c.app);
    const call = overHttp(server.address);
    expect((await call("GET", "/healthz")).status).toBe(200);
    for (const r of routes(c).filter((x) => x.path !== "/api/v1/session")) {
      expect((await call(r.method, r.path, r.method === "GET" ? {} : { body: {} })).status, `${r.method} ${r.path}`).toBe(401);
    }
    expect((await call("POST", "/api/v1/session", { body: { password: "nope nope nope" } })).status).toBe(401);
    const s = await signIn(call);
    expect((await call("POST", "/api/v1/participants/alice/restart", { headers: { Cookie: s.cookie, "X-CSRF-Token": "forged" } })).status).toBe(403);
    expect((await call("POST", "/api/v1/participants/alice/restart", { headers: s.headers })).status).toBe(200);
    expect(docker.restarts).toEqual(["id-alice"]);
  });

  it("behind the event's nginx (a console: section): the cookie is scoped to /_thon/ and X-Real-IP names the client", async () => {
    const { c } = await open(`${THON_YAML}\nconsole:\n  changes: apply\n`);
    server = await serveApp(parseListen("127.0.0.1:0"), c.app);
    const call = overHttp(server.address);
    await call("POST", "/api/v1/session", { body: { password: "not it, not it" }, headers: { "X-Real-IP": "203.0.113.7" } });
    const r = await call("POST", "/api/v1/session", { body: { password: PASSWORD } });
    expect(r.headers.getSetCookie().find((x) => x.startsWith("thon_console_session="))).toContain(`Path=${CONSOLE_PATH}`);
    const s = await signIn(call);
    const audit = (await (await call("GET", "/api/v1/audit?action=session.signIn&result=error", { headers: s.headers })).json()) as { entries: Array<{ actor: string }> };
    expect(audit.entries.map((e) => e.actor)).toContain("anonymous@203.0.113.7");
  });

  it("console.signIn in thon.yaml reaches sign-in: password: false refuses the password", async () => {
    const yaml = `${THON_YAML}\nconsole:\n  signIn:\n    password: false\n    providers:\n      github: { clientId: abc }\n    organizers: [github:octocat]\n`;
    const { c } = await open(yaml);
    const r = await inProcess(c)("POST", "/api/v1/session", { body: { password: PASSWORD } });
    expect(r.status).toBe(404);
  });
});

describe("client secrets from the stack", () => {
  it("a provider whose secret is a stack secret, with no Pulumi CLI here: 503 that says the CLI is missing and names the env way", async () => {
    const yaml = `${THON_YAML}\nconsole:\n  signIn:\n    providers:\n      github: { clientId: abc, clientSecret: { secret: githubSecret } }\n    organizers: [github:octocat]\n`;
    const path = process.env.PATH;
    const empty = mkdtempSync(join(tmpdir(), "thon-nopulumi-"));
    process.env.PATH = empty; // no pulumi on PATH, whatever this machine has
    try {
      const { c } = await open(yaml);
      const r = await inProcess(c)("GET", "/auth/oidc/github/start");
      expect(r.status).toBe(503);
      const body = await r.text();
      expect(body).toContain("thon:githubSecret");
      expect(body).toContain("Pulumi CLI is not installed");
      expect(body).toContain("{ env: NAME }");
    } finally {
      process.env.PATH = path;
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("the CLI on the wired console", () => {
  const cli = async (fx: Fixture, args: string[], deps: Parameters<typeof registerConsoleCommands>[1] = {}) => {
    const program = new Command().exitOverride();
    let out = "";
    let err = "";
    registerConsoleCommands(program, { cwd: fx.dir, out: (t) => (out += t), err: (t) => (err += t), ...deps });
    const before = process.exitCode;
    process.exitCode = undefined;
    await program.parseAsync(["node", "thon", ...args]);
    const code = process.exitCode ?? 0;
    process.exitCode = before;
    return { out, err, code };
  };

  it("thon console openapi prints the whole document, sign-in's paths included", async () => {
    fx = makeProject();
    const r = await cli(fx, ["console", "openapi"]);
    const doc = JSON.parse(r.out) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    for (const p of ["/api/v1/session", "/api/v1/tokens", "/api/v1/audit", "/api/v1/participants/{name}/restart"]) expect(Object.keys(doc.paths)).toContain(p);
  });

  it("thon users restart reaches the ops layer and is audited as local:<user>", async () => {
    fx = makeProject();
    const docker = new DockerStandIn();
    docker.add("alice");
    const r = await cli(fx, ["users", "restart", "alice"], { docker, applier: new ApplierStandIn() });
    expect(r.err).toBe("");
    expect(r.out).toContain("alice");
    expect(docker.restarts).toEqual(["id-alice"]);
    const store = openStore(join(fx.dir, ".thon-console"));
    try {
      const entries = new SqliteAuditLog(store, new Redactor(), Date.now).list().entries;
      expect(entries.some((e) => e.actor === `local:${userInfo().username}` && e.action === "participants.bulk.restart" && e.result === "ok")).toBe(true);
    } finally {
      store.close();
    }
  });

  it("thon console passwd sets the password without printing it; a short one is refused naming the field", async () => {
    fx = makeProject();
    const dataDir = mkdtempSync(join(tmpdir(), "thon-passwd-"));
    try {
      const short = await cli(fx, ["console", "passwd", "--data", dataDir], { readPassword: async () => "short" });
      expect(short.code).toBe(2);
      expect(short.err).toContain("12 characters");
      const newPw = "a brand new organizer passphrase";
      const r = await cli(fx, ["console", "passwd", "--data", dataDir], { readPassword: async () => newPw });
      expect(r.code).toBe(0);
      expect(r.out + r.err).not.toContain(newPw);
      c = await openConsole({ projectDir: fx.dir, dataDir, stack: "dev", env: {}, docker: new DockerStandIn(), applier: new ApplierStandIn() });
      expect(c.password.source).toBe("stored");
      expect((await inProcess(c)("POST", "/api/v1/session", { body: { password: newPw } })).status).toBe(200);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("the first start makes a password and shows it once; the next start does not", async () => {
    fx = makeProject();
    const dataDir = join(fx.dir, ".thon-console");
    const first = await openConsole({ projectDir: fx.dir, dataDir, stack: "dev", env: {}, docker: new DockerStandIn(), applier: new ApplierStandIn() });
    first.close();
    expect(first.password.source).toBe("generated");
    c = await openConsole({ projectDir: fx.dir, dataDir, stack: "dev", env: {}, docker: new DockerStandIn(), applier: new ApplierStandIn() });
    expect(c.password.source).toBe("stored");
    const pw = (first.password as { password: string }).password;
    expect((await inProcess(c)("POST", "/api/v1/session", { body: { password: pw } })).status).toBe(200);
  });
});

describe("bin/thon.mjs console as a process", () => {
  const ROOT = join(import.meta.dirname, "..", "..");

  /** Starts `thon console --listen 127.0.0.1:0` in the project; resolves with its output once it listens. */
  const start = (dir: string, env: NodeJS.ProcessEnv) =>
    new Promise<{ out: string; url: string; child: ChildProcess }>((resolve, reject) => {
      const child = spawn(process.execPath, [join(ROOT, "bin", "thon.mjs"), "console", "--listen", "127.0.0.1:0"], { cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`thon console did not start: ${out}`))), 30_000);
      const take = (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) (clearTimeout(timer), resolve({ out, url: m[1]!, child }));
      };
      child.stdout!.on("data", take);
      child.stderr!.on("data", take);
      child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`thon console exited ${code}: ${out}`))));
    });
  const stop = (child: ChildProcess) => new Promise<void>((r) => (child.once("exit", () => r()), child.kill("SIGTERM")));

  it("a refused --listen exits 2 with the reason (the exit code survives the CLI's main)", () => {
    fx = makeProject();
    const r = spawnSync(process.execPath, [join(ROOT, "bin", "thon.mjs"), "console", "--listen", "10.0.0.1:80"], { cwd: fx.dir, encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--listen 10.0.0.1:80: the console listens on loopback or a unix socket only");
  });

  it("the first start prints a generated password once; the next does not; THON_CONSOLE_PASSWORD is never printed", async () => {
    fx = makeProject();
    const env = { THON_CONSOLE_PASSWORD: "", DOCKER_HOST: "unix:///nonexistent.sock" };
    const first = await start(fx.dir, env);
    try {
      expect(first.out).toMatch(/organizer password \(shown once/);
      const pw = /\n {4}(\S+)\n/.exec(first.out)![1]!;
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
      const r = await fetch(`${first.url}/api/v1/session`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ password: pw }) });
      expect(r.status).toBe(200);
    } finally {
      await stop(first.child);
    }
    const second = await start(fx.dir, env);
    await stop(second.child);
    expect(second.out).not.toMatch(/password/i);
    const secret = "an unattended start passphrase";
    const third = await start(fx.dir, { ...env, THON_CONSOLE_PASSWORD: secret });
    try {
      const r = await fetch(`${third.url}/api/v1/session`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ password: secret }) });
      expect(r.status).toBe(200);
    } finally {
      await stop(third.child);
    }
    expect(third.out).not.toContain(secret);
  }, 90_000);
});
