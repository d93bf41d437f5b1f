// The socket permission model, for real: nginx's workers run as www-data;
// each participant's socket folder is made by the Sandbox's own command
// (install -d -m 2770 -o 1000 -g www-data), and code-server, as uid 1000 in
// its container, creates its socket there with mode 660. The folder's setgid
// bit gives the socket the www-data group, so the workers may connect, and
// nobody else may: not another participant's uid, not a socket whose folder
// has another group, not a socket without group permissions.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nginxIds, renderParticipant, renderUpstream } from "../infra/render/nginx.ts";
import { makeEvent } from "./support/events.ts";
import { mustRun } from "./support/commands.ts";
import { freePort, processUid, startNginx, waitFor, workers, type TestNginx } from "./support/nginx.ts";
import { find, runEvent } from "./support/program.ts";

const CODER_UID = 1000; // the sandbox image's user (sandbox.user default 1000:1000)

// A stand-in for code-server's socket listener: node core only, so it runs as
// uid 1000 without reading this repository; chmods the socket like --socket-mode.
const BACKEND = `
const net = require("net"), fs = require("fs");
const [path, mode, name] = process.argv.slice(1);
const server = net.createServer((c) => c.once("data", () => {
  const body = "ok " + name;
  c.end("HTTP/1.1 200 OK\\r\\nContent-Length: " + body.length + "\\r\\nConnection: close\\r\\n\\r\\n" + body);
}));
server.listen(path, () => { fs.chmodSync(path, parseInt(mode, 8)); console.log("ready"); });
process.on("SIGTERM", () => server.close(() => process.exit(0)));
`;

function startBackendAs(uid: number, socketPath: string, mode: string, name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["-e", BACKEND, socketPath, mode, name], { uid, gid: uid, cwd: "/", stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout!.once("data", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`backend ${name} exited ${code}: ${err}`)));
  });
}

/** Connects to a unix socket as another uid; resolves with the error code or "connected". */
function connectAs(uid: number, socketPath: string): string {
  const script = `require("net").connect(process.argv[1]).on("connect", function () { console.log("connected"); this.destroy(); }).on("error", (e) => console.log(e.code));`;
  return spawnSync(process.execPath, ["-e", script, socketPath], { uid, gid: uid, cwd: "/", encoding: "utf8", timeout: 5_000 }).stdout.trim();
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false, timeout: 5_000 }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("socket permissions: nginx workers as www-data, sockets made by uid 1000", () => {
  let root: string;
  let port: number;
  let nginx: TestNginx;
  const backends: ChildProcess[] = [];
  const sock = (user: string) => `${root}/sockets/${user}/code-server.sock`;

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("this test makes folders owned by uid 1000 and runs nginx's workers as www-data: run it as root (CI does)");
    root = mkdtempSync(join(tmpdir(), "thon-sockets-"));
    chmodSync(root, 0o755);
    port = await freePort();
    // alice's and mallory's folders exactly as the Sandbox's command makes them.
    const e = await runEvent(makeEvent({ alpha: ["alice", "mallory"] }, `proxy:\n  socketDir: ${root}/sockets\n`));
    mustRun(find(e, "command:local:Command", "thon-sockets-alice"), "create");
    mustRun(find(e, "command:local:Command", "thon-sockets-mallory"), "create");
    // A folder with the wrong group (proxy.socketGroup not nginx's group).
    spawnSync("install", ["-d", "-m", "2770", "-o", String(CODER_UID), "-g", "nogroup", `${root}/sockets/wronggroup`]);

    backends.push(await startBackendAs(CODER_UID, sock("alice"), "660", "alice"));
    backends.push(await startBackendAs(CODER_UID, sock("wronggroup"), "660", "wronggroup"));
    // In alice's kind of folder, but a socket without group permissions.
    backends.push(await startBackendAs(CODER_UID, sock("mallory"), "600", "mallory"));

    const conf = join(root, "conf.d");
    mkdirSync(conf);
    const participants = join(root, "participants");
    const upstreams = join(root, "upstreams");
    mkdirSync(participants);
    mkdirSync(upstreams);
    for (const user of ["alice", "wronggroup", "mallory"]) {
      writeFileSync(join(participants, `${user}.conf`), renderParticipant({ name: "perm" }, { name: user, endpointPath: `/${user}/` }));
      writeFileSync(join(upstreams, `${user}.conf`), renderUpstream({ name: "perm" }, { name: user, socketHostPath: sock(user) }));
    }
    writeFileSync(
      join(conf, "server.conf"),
      `map $http_upgrade ${nginxIds("perm").upgradeVar} { default upgrade; '' ''; }\ninclude ${upstreams}/*.conf;\nserver {\n  listen 127.0.0.1:${port};\n  location / { return 404; }\n  include ${participants}/*.conf;\n}\n`,
    );
    nginx = await startNginx(join(root, "nginx"), { includeGlob: `${conf}/*.conf`, user: "www-data www-data" }, port);
  });

  afterAll(async () => {
    await nginx?.stop();
    for (const b of backends) b.kill("SIGTERM");
    await Promise.all(backends.map((b) => (b.exitCode !== null ? undefined : new Promise((r) => b.once("exit", r)))));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("the Sandbox's folder is setgid www-data, so uid 1000's socket gets group www-data and mode 660", () => {
    const wwwData = Number(spawnSync("getent", ["group", "www-data"], { encoding: "utf8" }).stdout.split(":")[2]);
    const dir = statSync(`${root}/sockets/alice`);
    expect(dir.uid).toBe(CODER_UID);
    expect(dir.gid).toBe(wwwData);
    expect(dir.mode & 0o7777).toBe(0o2770);
    const socket = statSync(sock("alice"));
    expect(socket.isSocket()).toBe(true);
    expect(socket.uid).toBe(CODER_UID);
    expect(socket.gid).toBe(wwwData);
    expect(socket.mode & 0o777).toBe(0o660);
  });

  it("nginx's www-data workers reach the socket", async () => {
    const wwwDataUid = Number(spawnSync("id", ["-u", "www-data"], { encoding: "utf8" }).stdout.trim());
    const pids = [...workers(nginx.masterPid())];
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.map(processUid)).toEqual(pids.map(() => wwwDataUid));
    expect(await get(port, "/alice/")).toEqual({ status: 200, body: "ok alice" });
  });

  it("a folder of another group, or a socket without group rights, gives 502 and 'Permission denied'", async () => {
    expect((await get(port, "/wronggroup/")).status).toBe(502);
    expect((await get(port, "/mallory/")).status).toBe(502);
    await waitFor(() => existsSync(nginx.errorLog) && readFileSync(nginx.errorLog, "utf8").includes(`${sock("mallory")} failed (13: Permission denied)`), "the error log line");
    expect(readFileSync(nginx.errorLog, "utf8")).toContain(`${sock("wronggroup")} failed (13: Permission denied)`);
  });

  it("another participant's uid cannot connect to alice's socket", () => {
    expect(connectAs(1001, sock("alice"))).toBe("EACCES");
    // www-data itself can (what nginx's workers do).
    const wwwDataUid = Number(spawnSync("id", ["-u", "www-data"], { encoding: "utf8" }).stdout.trim());
    expect(connectAs(wwwDataUid, sock("alice"))).toBe("connected");
  });
});
