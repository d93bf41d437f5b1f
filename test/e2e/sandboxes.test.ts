// End to end on a real Docker engine and a real nginx: the program's own
// declarations for a 4-participant event (3 running, 1 stopped), applied
// mechanically (support/engine.ts) — containers, volumes, socket folders,
// certificate and nginx files, the reload — then checked from the outside:
// code-server answers on each socket and at each URL through nginx over TLS
// trusted via the event CA only, wants the password, upgrades WebSockets,
// keeps workspaces apart, keeps a workspace across a container replacement
// and after the participant leaves thon.yaml, a browser gets the workbench,
// and `thon check` sees who is up.
//
// Run with `npm run test:e2e` (scripts/e2e.sh starts dockerd and builds the
// image first).
import { mkdirSync, mkdtempSync, rmSync, statSync, readFileSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium } from "playwright-core";
import type { Evaluation } from "../../infra/preview/evaluate.ts";
import { containerLogs, Engine, TYPES } from "./support/engine.ts";
import { dockerAt, inspectOrAbsent, mustCall, socketPathOf } from "./support/docker.ts";
import { containerOf, evaluateSpec, passwordOf, socketOf, type E2eEventSpec } from "./support/event.ts";
import { httpsLoopback, login, loginTls, unixHttp, waitHealthy, wsHandshake, wssHandshake } from "./support/http.ts";
import type { TestNginx } from "../support/nginx.ts";
import { main, type Io } from "../../infra/cli/main.ts";
import { cleanupRun, docker, dockerHost, execIn, recordTiming, RESULTS, RUN_LABEL, runId } from "./support/run.ts";
import { e2eWorkdir, workdirSpec } from "./support/workdir.ts";
import { CHROMIUM_PATH } from "../support/browser.ts";

const ada = `ada-${runId}`;
const bob = `bob-${runId}`;
const cy = `cy-${runId}`;
const dan = `dan-${runId}`;
const RUNNING = [ada, bob, cy];

const api = dockerAt(socketPathOf(dockerHost));
const engine = new Engine({ extraLabels: { [RUN_LABEL]: runId }, log: (l) => console.log(`engine: ${l}`) });

let dir: string;
let spec: E2eEventSpec;
let v1: Evaluation;
let readyMs: number;
let nginx: TestNginx | undefined;
let httpsPort: number;
let caPem: string;

const inspect = (name: string) => inspectOrAbsent(api, `inspect ${name}`, () => api.getContainer(name).inspect());

beforeAll(async () => {
  // The test's temp dir (nginx's workers, Phase 2, walk down to the socket
  // folders) and nginx: Debian's binary with its own prefix, workers as
  // www-data (the socket group), on loopback ports.
  const work = await e2eWorkdir(`thon-e2e-${runId}-`);
  dir = work.dir;
  nginx = work.nginx;
  httpsPort = work.httpsPort;
  spec = workdirSpec(work, `e2e-${runId}`, [
    { name: ada, group: "red" },
    { name: bob, group: "red" },
    { name: cy, group: "blue" },
    { name: dan, group: "blue", state: "stopped" },
  ]);
  v1 = await evaluateSpec(dir, "thon.v1.yaml", spec);
  const t0 = Date.now();
  await engine.up(v1);
  const applied = Date.now() - t0;
  await Promise.all(RUNNING.map((u) => waitHealthy(socketOf(v1, u), 120_000)));
  caPem = String(v1.outputs.caCertPem);
  // Ready = code-server answers at the participant's URL, through nginx.
  await Promise.all(RUNNING.map((u) => waitProxied(u, 60_000)));
  readyMs = Date.now() - t0;
  const sinceStart = process.env.THON_E2E_T0 ? Date.now() - Number(process.env.THON_E2E_T0) : undefined;
  recordTiming({
    participantsReady: RUNNING.length,
    applyMs: applied,
    readyMs,
    ...(sinceStart !== undefined ? { readySinceScriptStartMs: sinceStart } : {}),
  });
  console.log(`e2e: ${RUNNING.length} participants ready ${readyMs} ms after apply started (apply ${applied} ms)`);
}, 600_000);

afterAll(async () => {
  const report = await Promise.race([
    cleanupRun(),
    new Promise<string[]>((res) => setTimeout(() => res(["cleanup timed out after 120 s; scripts/e2e.sh retries by label"]), 120_000)),
  ]);
  console.log(`e2e cleanup (${RUN_LABEL}=${runId}): ${report.join("; ")}`);
  await nginx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 180_000);

async function waitProxied(user: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = await httpsLoopback(httpsPort, { ca: caPem, path: `/${user}/healthz`, timeoutMs: 2_000 });
      if (r.status === 200) return;
      last = `HTTP ${r.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`https://127.0.0.1:${httpsPort}/${user}/healthz not answering after ${timeoutMs} ms (last: ${last})`);
}

/** `thon check --from <outputs>`, in-process. */
async function thonCheck(outputs: Record<string, unknown>): Promise<{ code: number; out: string }> {
  const file = join(dir, `outputs-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(outputs));
  let out = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (out += t), cwd: dir };
  return { code: await main(["check", "--from", file, "--timeout", "10"], io), out };
}

describe("e2e: the program's sandboxes on a real Docker engine", () => {
  it("runs every running participant's container from the declared spec: no network, uid 1000, no capabilities", async () => {
    const image = await mustCall(api, `inspect image ${spec.image}`, () => api.getImage(spec.image).inspect());
    for (const u of RUNNING) {
      const c = (await inspect(`thon-${u}`))!;
      expect(c.State.Running, u).toBe(true);
      expect(c.Image).toBe(image.Id);
      expect(c.Config.Labels).toMatchObject({ "org.thon.user": u, "org.thon.event": spec.name, [RUN_LABEL]: runId });
      // Only the loopback interface: network "none".
      const net = await execIn(`thon-${u}`, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
      expect(net.out.split("\n")).toEqual(["lo"]);
      // code-server runs as the participant's uid with an empty effective capability set.
      const status = await execIn(`thon-${u}`, "for p in /proc/[0-9]*; do grep -q code-server $p/cmdline 2>/dev/null && grep -E '^(Uid|CapEff|NoNewPrivs)' $p/status && break; done");
      expect(status.out).toMatch(/Uid:\s+1000\s/);
      expect(status.out).toMatch(/CapEff:\s+0{16}/);
      expect(status.out).toMatch(/NoNewPrivs:\s+1/);
    }
    console.log(`e2e timing: 3 participants ready ${readyMs} ms after the apply began`);
  });

  it("serves code-server on each participant's own socket: mode 660, group of the proxy", async () => {
    const wwwData = Number(readFileSync("/etc/group", "utf8").match(/^www-data:x:(\d+):/m)?.[1]);
    for (const u of RUNNING) {
      const sock = socketOf(v1, u);
      const st = statSync(sock);
      expect(st.isSocket(), sock).toBe(true);
      expect(st.mode & 0o777).toBe(0o660);
      expect(st.uid).toBe(1000);
      expect(st.gid).toBe(wwwData);
      // The folder holds this participant's socket only.
      expect(readdirSync(join(sock, ".."))).toEqual(["code-server.sock"]);
      const health = await unixHttp(sock, { path: "/healthz" });
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toMatchObject({ status: expect.stringMatching(/alive|expired/) });
    }
  });

  it("wants the participant's password: redirects to login, refuses a wrong one, accepts theirs", async () => {
    for (const u of RUNNING) {
      const sock = socketOf(v1, u);
      const anonymous = await unixHttp(sock, { path: "/" });
      expect(anonymous.status).toBe(302);
      expect(String(anonymous.headers.location)).toMatch(/login/);

      const other = RUNNING.find((x) => x !== u)!;
      const wrong = await login(sock, passwordOf(v1, other));
      expect(wrong.cookie, `${u} accepted ${other}'s password`).toBeUndefined();
      expect(wrong.reply.body).toMatch(/Incorrect password/i);

      const right = await login(sock, passwordOf(v1, u));
      expect(right.reply.status).toBe(302);
      expect(right.cookie).toBeDefined();
      // Signed in, "/" sends the browser on to the workspace folder (code-server's
      // default folder argument), and that page is the workbench.
      const root = await unixHttp(sock, { path: "/", headers: { Cookie: right.cookie! } });
      expect(root.status).toBe(302);
      const next = String(root.headers.location);
      expect(next).toMatch(/folder=%2Fworkspace|folder=\/workspace/);
      const page = await unixHttp(sock, { path: new URL(next, "http://localhost/").pathname + new URL(next, "http://localhost/").search, headers: { Cookie: right.cookie! } });
      expect(page.status).toBe(200);
      // VS Code's workbench page, not the login form.
      expect(page.body).toContain("vscode-workbench-web-configuration");
      expect(page.body).not.toMatch(/type="password"/);
    }
  });

  it("upgrades a WebSocket on the socket with the session cookie, and refuses one without", async () => {
    const sock = socketOf(v1, ada);
    const { cookie } = await login(sock, passwordOf(v1, ada));
    const path = `/?reconnectionToken=e2e-${runId}&reconnection=false&skipWebSocketFrames=false`;
    expect(await wsHandshake(sock, path, { Cookie: cookie!, Origin: "http://localhost" })).toBe(101);
    expect(await wsHandshake(sock, path, { Origin: "http://localhost" })).not.toBe(101);
  });

  it("keeps workspaces apart: a file written in one is not in another, and no sandbox sees another's socket", async () => {
    for (const u of RUNNING) {
      const w = await execIn(`thon-${u}`, `echo "written by ${u}" > /workspace/${u}.txt && ls -A /workspace`);
      expect(w.code).toBe(0);
      expect(w.out.split("\n")).toEqual([`${u}.txt`]);
      expect((await execIn(`thon-${u}`, "ls -A /run/thon")).out).toBe("code-server.sock");
    }
    const peek = await execIn(`thon-${bob}`, `cat /workspace/${ada}.txt`);
    expect(peek.code).not.toBe(0);
  });

  it("puts the injected VS Code settings where the entrypoint merges them into code-server's settings, owned by the participant", async () => {
    const upload = (containerOf(v1, ada).inputs.uploads as { file: string; content: string }[])[0]!;
    expect(upload.file).toBe("/etc/thon/vscode-settings.json");
    const st = await execIn(`thon-${ada}`, `stat -c '%u:%g %a' ${upload.file} && cat ${upload.file}`);
    const [owner, ...content] = st.out.split("\n");
    expect(owner).toBe("1000:1000 600");
    expect(content.join("\n") + "\n").toBe(upload.content);
    expect(JSON.parse(upload.content)).toMatchObject({ "security.workspace.trust.enabled": false });
    // What code-server reads: the participant's file, with every organizer key in it.
    const user = JSON.parse((await execIn(`thon-${ada}`, "cat /home/coder/.local/share/code-server/User/settings.json")).out) as Record<string, unknown>;
    expect(user).toMatchObject(JSON.parse(upload.content) as Record<string, unknown>);
    // code-server's own account of its settings folder.
    const logs = await containerLogs(api, `thon-${ada}`, 500);
    expect(logs).toContain("Using user-data-dir /home/coder/.local/share/code-server");
  });

  it("tries the configured extensions in the background: offline it logs the failure and code-server still starts", async () => {
    const logs = await containerLogs(api, `thon-${ada}`, 500);
    expect(logs).toMatch(/thon-entrypoint: could not install extension ms-python\.python/);
    expect(logs).toMatch(/HTTP server listening on .*code-server\.sock/);
    expect((await unixHttp(socketOf(v1, ada), { path: "/healthz" })).status).toBe(200);
  });

  it("serves each participant's URL through nginx over TLS trusted via the event CA only: login, then the workbench", async () => {
    const participants = v1.outputs.participants as Record<string, { url: string }>;
    for (const u of RUNNING) {
      const url = new URL(participants[u]!.url);
      expect(url.href).toBe(`https://127.0.0.1:${httpsPort}/${u}/`);
      const root = await httpsLoopback(httpsPort, { ca: caPem, path: url.pathname });
      expect(root.status).toBe(302);
      expect(String(root.headers.location)).toMatch(/^\.\/login/);
      const form = await httpsLoopback(httpsPort, { ca: caPem, path: `${url.pathname}login` });
      expect(form.status).toBe(200);
      expect(form.body).toMatch(/type="password"/);
      const { reply, cookie } = await loginTls(httpsPort, url.pathname, caPem, passwordOf(v1, u));
      expect(reply.status).toBe(302);
      expect(cookie).toBeDefined();
      const home = await httpsLoopback(httpsPort, { ca: caPem, path: `${url.pathname}?folder=/workspace`, headers: { Cookie: cookie! } });
      expect(home.status).toBe(200);
      expect(home.body).toContain("vscode-workbench-web-configuration");
    }
    // Trust comes from the event CA alone: without it the handshake fails.
    await expect(httpsLoopback(httpsPort, { ca: undefined, path: `/${ada}/login` })).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
    // The CA participants import is served, and is the one from the outputs.
    const served = await httpsLoopback(httpsPort, { ca: caPem, path: "/ca.crt" });
    expect(served.status).toBe(200);
    expect(served.body.trim()).toBe(caPem.trim());
    // Nobody else's sandbox answers for a stranger.
    expect((await httpsLoopback(httpsPort, { ca: caPem, path: "/nobody/" })).status).toBe(404);
  });

  it("upgrades a WebSocket through nginx (wss) with the session cookie, and refuses one without", async () => {
    const { cookie } = await loginTls(httpsPort, `/${ada}/`, caPem, passwordOf(v1, ada));
    const path = `/${ada}/?reconnectionToken=e2e-tls-${runId}&reconnection=false&skipWebSocketFrames=false`;
    expect(await wssHandshake(httpsPort, path, caPem, { Cookie: cookie! })).toBe(101);
    expect(await wssHandshake(httpsPort, path, caPem)).not.toBe(101);
  });

  it("in Chromium trusting only the event CA, logs in through nginx and gets the VS Code workbench (not Restricted Mode) with its WebSockets open", async () => {
    // Chromium on Linux trusts the NSS database in $HOME/.pki/nssdb: a fresh
    // HOME whose database holds the event CA and nothing else.
    const home = mkdtempSync(join(tmpdir(), "thon-e2e-chromium-"));
    const untrusting = mkdtempSync(join(tmpdir(), "thon-e2e-chromium-"));
    const nssdb = join(home, ".pki", "nssdb");
    mkdirSync(nssdb, { recursive: true });
    writeFileSync(join(home, "event-ca.crt"), caPem);
    execFileSync("certutil", ["-d", `sql:${nssdb}`, "-N", "--empty-password"]);
    execFileSync("certutil", ["-d", `sql:${nssdb}`, "-A", "-t", "C,,", "-n", "THON e2e event CA", "-i", join(home, "event-ca.crt")]);
    const args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
    const launch = (h: string) => chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args, env: { ...process.env, HOME: h }, timeout: 60_000 });
    const base = `https://127.0.0.1:${httpsPort}/${ada}/`;

    // Without the CA, the browser refuses the site: trust is not switched off.
    const plain = await launch(untrusting);
    try {
      const page = await plain.newPage();
      await expect(page.goto(base, { timeout: 30_000 })).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await plain.close().catch(() => undefined);
    }

    const browser = await launch(home);
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: false });
      const page = await context.newPage();
      const sockets: { url: string; closed: boolean; frames: number }[] = [];
      page.on("websocket", (ws) => {
        const entry = { url: ws.url(), closed: false, frames: 0 };
        sockets.push(entry);
        ws.on("framereceived", () => void entry.frames++);
        ws.on("close", () => void (entry.closed = true));
      });
      await page.goto(base, { timeout: 60_000 });
      expect(page.url()).toMatch(new RegExp(`^https://127\\.0\\.0\\.1:${httpsPort}/${ada}/login`));
      await page.locator("input[type=password]").fill(passwordOf(v1, ada));
      await page.locator("input[type=submit], button[type=submit]").first().click();
      await page.locator(".monaco-workbench").waitFor({ timeout: 90_000 });
      // The explorer lists the workspace over the remote connection.
      await page.getByText(`${ada}.txt`).first().waitFor({ timeout: 60_000 });
      await page.waitForFunction(() => document.title.includes("THON e2e"), undefined, { timeout: 30_000 });
      // window.title comes from the injected settings file: code-server read it.
      expect(await page.title()).toMatch(/^THON e2e workspace/);
      expect(await page.getByText("Restricted Mode").count()).toBe(0);
      const live = sockets.filter((s) => s.url.startsWith(`wss://127.0.0.1:${httpsPort}/${ada}/`) && !s.closed && s.frames > 0);
      expect(live.length, JSON.stringify(sockets)).toBeGreaterThan(0);
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, "e2e-workbench.png") });
    } finally {
      await browser.close().catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
      rmSync(untrusting, { recursive: true, force: true });
    }
  }, 240_000);

  it("thon check finds every running participant up through nginx, with TLS verified by the event CA from the outputs", async () => {
    const r = await thonCheck(v1.outputs);
    expect(r.code, r.out).toBe(0);
    for (const u of RUNNING) expect(r.out).toMatch(new RegExp(`^up\\s+${u}\\s.*HTTP 200$`, "m"));
    expect(r.out).toMatch(new RegExp(`^stopped\\s+${dan}\\s`, "m"));
    expect(r.out).toContain("all 3 running participants are up (TLS verified with the event CA from the stack outputs (caCertPem))");
  });

  it("creates a stopped participant's container, volume and socket folder without running it", async () => {
    const c = (await inspect(`thon-${dan}`))!;
    expect(c.State.Running).toBe(false);
    expect(c.State.Status).toBe("created");
    expect(await inspectOrAbsent(api, "inspect a volume", () => api.getVolume(`thon-workspace-${dan}`).inspect())).toBeDefined();
    const sock = socketOf(v1, dan);
    expect(existsSync(join(sock, ".."))).toBe(true);
    expect(existsSync(sock)).toBe(false);
  });

  it("answers a stopped participant's URL with the page that says the sandbox is not answering, and retries", async () => {
    const r = await httpsLoopback(httpsPort, { ca: caPem, path: `/${dan}/` });
    expect(r.status).toBe(502);
    expect(r.headers["retry-after"]).toBe("10");
    expect(r.body).toContain("paused by the organizer");
  });

  let v2: Evaluation;
  const before = new Map<string, string>();

  it("replaces the containers for a new image and keeps every workspace", async () => {
    for (const u of [...RUNNING, dan]) before.set(u, (await inspect(`thon-${u}`))!.Id);
    // A new image: same content plus a label, so the engine gives it a new id.
    const tag = `thon-sandbox:e2e-${runId}`;
    await docker(["build", "-q", "-t", tag, "-"], { input: `FROM ${spec.image}\nLABEL ${RUN_LABEL}=${runId}\n`, timeoutMs: 120_000 });
    const next = { ...spec, image: tag };
    v2 = await evaluateSpec(dir, "thon.v2.yaml", next);
    const diff = await engine.apply(v1, v2);
    expect(diff.names("replace")).toEqual(
      [...[...RUNNING, dan].map((u) => `${TYPES.container}::thon-${u}`), `${TYPES.image}::thon-sandbox-image`].sort(),
    );
    expect(diff.counts).toMatchObject({ create: 0, delete: 0 });
    const newImage = await mustCall(api, `inspect image ${tag}`, () => api.getImage(tag).inspect());
    await Promise.all(RUNNING.map((u) => waitHealthy(socketOf(v2, u), 120_000)));
    // nginx reaches the new containers through the same socket paths, without a reload.
    await Promise.all(RUNNING.map((u) => waitProxied(u, 30_000)));
    for (const u of RUNNING) {
      const c = (await inspect(`thon-${u}`))!;
      expect(c.Id, `${u}'s container was replaced`).not.toBe(before.get(u));
      expect(c.Image).toBe(newImage.Id);
      expect((await execIn(`thon-${u}`, `cat /workspace/${u}.txt`)).out).toBe(`written by ${u}`);
    }
    const stopped = (await inspect(`thon-${dan}`))!;
    expect(stopped.Id).not.toBe(before.get(dan));
    expect(stopped.State.Running).toBe(false);
  }, 300_000);

  let v3: Evaluation;

  it("leaves a removed participant's volume (and their files) in place, and touches nobody else", async () => {
    const ids = new Map<string, string>();
    for (const u of [ada, bob, dan]) ids.set(u, (await inspect(`thon-${u}`))!.Id);
    v3 = await evaluateSpec(dir, "thon.v3.yaml", { ...spec, image: (v2.resources.find((r) => r.type === TYPES.image)!.inputs.name as string), users: spec.users.filter((u) => u.name !== cy) });
    const diff = await engine.apply(v2, v3);
    expect(diff.counts).toMatchObject({ create: 0, replace: 0 });
    // The proxy: cy's location and upstream files go, and the one reload runs again.
    expect(diff.names("update")).toEqual([`${TYPES.command}::thon-proxy-reload`]);
    expect(diff.names("delete")).toEqual(
      [
        `${TYPES.command}::thon-nginx-${cy}`,
        `${TYPES.command}::thon-pids-${cy}`,
        `${TYPES.command}::thon-sockets-${cy}`,
        `${TYPES.command}::thon-upstream-${cy}`,
        `${TYPES.container}::thon-${cy}`,
        `${TYPES.password}::thon-password-${cy}`,
        `${TYPES.volume}::thon-home-${cy}`,
        `${TYPES.volume}::thon-workspace-${cy}`,
        `thon:host:Directory::thon-sockets-${cy}`,
        `thon:host:File::thon-nginx-${cy}`,
        `thon:host:File::thon-upstream-${cy}`,
        `thon:sandbox:Sandbox::thon-${cy}`,
      ].sort(),
    );
    expect(engine.steps.filter((s) => s.op === "retain").map((s) => s.name)).toContain(`thon-workspace-${cy}`);
    expect(await inspect(`thon-${cy}`)).toBeUndefined();
    const volume = await inspectOrAbsent(api, "inspect a volume", () => api.getVolume(`thon-workspace-${cy}`).inspect());
    expect(volume, "the volume outlives the participant").toBeDefined();
    expect(readFileSync(join(volume!.Mountpoint, `${cy}.txt`), "utf8")).toBe(`written by ${cy}\n`);
    expect(existsSync(join(socketOf(v2, cy), ".."))).toBe(false);
    for (const u of [ada, bob, dan]) expect((await inspect(`thon-${u}`))!.Id, u).toBe(ids.get(u));
    // nginx no longer routes to cy; the others still answer. The reload is
    // asynchronous: until the new workers take over, an old one may still
    // take a connection and answer 502 (cy's socket is gone).
    const deadline = Date.now() + 10_000;
    let gone = (await httpsLoopback(httpsPort, { ca: caPem, path: `/${cy}/login` })).status;
    while (gone === 502 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      gone = (await httpsLoopback(httpsPort, { ca: caPem, path: `/${cy}/login` })).status;
    }
    expect(gone).toBe(404);
    for (const u of [ada, bob]) expect((await httpsLoopback(httpsPort, { ca: caPem, path: `/${u}/login` })).status).toBe(200);
    // thon check with the old outputs names cy as down (404); with the new ones all are up.
    const stale = await thonCheck(v2.outputs);
    expect(stale.code).toBe(1);
    expect(stale.out).toMatch(new RegExp(`^DOWN\\s+${cy}\\s.*HTTP 404`, "m"));
    expect((await thonCheck(v3.outputs)).code).toBe(0);
  }, 120_000);

  it("resumes a stopped participant in place: their container starts and answers", async () => {
    const id = (await inspect(`thon-${dan}`))!.Id;
    const v4 = await evaluateSpec(dir, "thon.v4.yaml", {
      ...spec,
      image: v3.resources.find((r) => r.type === TYPES.image)!.inputs.name as string,
      users: spec.users.filter((u) => u.name !== cy).map((u) => ({ name: u.name, group: u.group })),
    });
    const diff = await engine.apply(v3, v4);
    expect(diff.names("update")).toEqual([`${TYPES.container}::thon-${dan}`]);
    expect(diff.names("delete")).toEqual([`${TYPES.command}::thon-stop-${dan}`]);
    const c = (await inspect(`thon-${dan}`))!;
    expect(c.Id).toBe(id);
    expect(c.State.Running).toBe(true);
    await waitHealthy(socketOf(v4, dan), 120_000);
    expect((await login(socketOf(v4, dan), passwordOf(v4, dan))).cookie).toBeDefined();
    // The proxy had their location all along: the URL works as soon as the sandbox does.
    await waitProxied(dan, 30_000);
  }, 180_000);
});
