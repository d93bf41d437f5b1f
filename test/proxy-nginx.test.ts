// The event's HTTPS entry with a real nginx, real TLS and real sockets.
//
// Nothing here is written by hand: a mock run of the real program declares
// the commands (socket folders like the Sandbox makes them, certificate
// files, the server file, one file per participant, the reload) and the
// certificates (test/support/tlsStandIn.ts makes real ones from the tls resources'
// inputs). The test runs those commands as pulumi-command would, against a
// temp prefix and loopback ports, with nginx's workers as www-data, and
// talks to it as a browser would: HTTPS trusting only the event CA,
// WebSockets, HTTP/2. Backends are small node HTTP+WebSocket servers on the
// unix sockets the plan names, checking Origin against Host as code-server
// does.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { connect as h2connect } from "node:http2";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";
import { createHash, X509Certificate } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { parseThonFile } from "../infra/config/load.ts";
import { toEvent } from "../infra/config/event.ts";
import type { Evaluation, RecordedResource } from "../infra/preview/evaluate.ts";
import { planEvent } from "../infra/plan.ts";
import { commandSteps, mustRun, runCommand, stepNames } from "./support/commands.ts";
import { connects, freePort, proxyYaml, reloaded, startNginx, waitFor, workers, writeMainConf, type TestNginx } from "./support/nginx.ts";
import { find, runEvent } from "./support/program.ts";

// ---------------------------------------------------------------------------
// Clients

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function get(port: number, path: string, ca: string | undefined, extra: { servername?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      // agent: false: a fresh connection each time, so a reload is seen at once.
      { host: "127.0.0.1", port, path, ...(ca !== undefined ? { ca } : {}), agent: false, timeout: 5_000, ...extra },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

function getHttp(port: number, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: "" }));
    });
    req.on("error", reject);
    req.end();
  });
}

function handshake(port: number, options: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, ...options });
    socket.setTimeout(5_000, () => socket.destroy(new Error("handshake timed out")));
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}

function openSocket(port: number, path: string, ca: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // A browser sends its page's origin; code-server refuses one that does not match Host.
    const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, { ca, origin: `https://127.0.0.1:${port}`, handshakeTimeout: 5_000 });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

function echo(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no echo for "${text}"`)), 5_000);
    ws.once("message", (data) => {
      clearTimeout(timer);
      resolve(String(data));
    });
    ws.send(text);
  });
}

// ---------------------------------------------------------------------------
// Backends: what code-server looks like from nginx

interface Seen {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

interface Backend {
  readonly seen: Seen[];
  /** Connections nginx has opened to this backend so far. */
  connections(): number;
  /** Closes the connections nginx keeps open for reuse (upstream keepalive). */
  dropIdle(): void;
  close(): Promise<void>;
}

async function startBackend(name: string, socketPath: string): Promise<Backend> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers });
    if (req.url === "/own-502") res.statusCode = 502; // an error code-server answers itself
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ backend: name, url: req.url, headers: req.headers }));
  });
  // code-server's rule (src/node/http.ts, authenticateOrigin): the Origin's host must equal Host.
  const wss = new WebSocketServer({
    server,
    verifyClient: ({ origin, req }: { origin: string; req: { headers: IncomingHttpHeaders } }) => !origin || new URL(origin).host === req.headers.host,
  });
  wss.on("connection", (ws, req) => {
    seen.push({ url: req.url!, headers: req.headers });
    ws.on("message", (data) => ws.send(`${name}:${String(data)}`));
  });
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  // code-server --socket-mode 660: owner and the folder's (setgid) group.
  chmodSync(socketPath, 0o660);
  return {
    seen,
    connections: () => connections,
    dropIdle: () => server.closeIdleConnections(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reload signals nginx's master has received: it logs "signal 1 (SIGHUP) received from <pid>, reconfiguring". */
function reloads(nginx: TestNginx): number {
  return readFileSync(nginx.errorLog, "utf8").split("(SIGHUP) received").length - 1;
}

// ---------------------------------------------------------------------------
// One event deployed to one nginx

interface Deployment {
  readonly root: string;
  readonly https: number;
  readonly http: number;
  readonly nginx: TestNginx;
  readonly evaluation: Evaluation;
  readonly backends: Map<string, Backend>;
  yaml(users: readonly string[]): string;
  stop(): Promise<void>;
}

const isProxyOrSocketCommand = (r: RecordedResource) =>
  r.type === "command:local:Command" && /^thon-(proxy|nginx|upstream|sockets|tls)-/.test(r.name);

async function deploy(users: readonly string[], tlsYaml = ""): Promise<Deployment> {
  if (process.getuid?.() !== 0) throw new Error("the real-nginx tests run nginx's workers as www-data and make socket folders owned by uid 1000: run them as root (CI does)");
  const root = mkdtempSync(join(tmpdir(), "thon-nginx-"));
  chmodSync(root, 0o755); // nginx's workers (www-data) walk through it to the sockets and /ca.crt
  mkdirSync(join(root, "log"));
  const [https, http] = [await freePort(), await freePort()];
  const prefix = join(root, "nginx");
  const includeGlob = `${root}/etc/conf.d/*.conf`;
  const { command } = writeMainConf(prefix, { includeGlob, user: "www-data www-data" });
  const yaml = (list: readonly string[]) => `event:
  name: nx
  host: 127.0.0.1
  altNames: [localhost]
groups:
  alpha:
    users: [${list.join(", ")}]
${proxyYaml(root, { https, http, nginx: command })}${tlsYaml}`;
  const event = toEvent(parseThonFile(yaml(users)));
  const evaluation = await runEvent(event);
  // Everything but the reload, in the engine's order; nginx must run before it can be reloaded.
  for (const step of commandSteps(undefined, evaluation, (r) => isProxyOrSocketCommand(r) && r.name !== "thon-proxy-reload")) {
    mustRun(step.resource, step.op);
  }
  const backends = new Map<string, Backend>();
  for (const p of planEvent(event).participants) {
    backends.set(p.name, await startBackend(p.name, p.socketHostPath));
  }
  // The files are staged until the reload puts them in place.
  const nginx = await startNginx(prefix, { includeGlob, user: "www-data www-data" });
  expect(existsSync(`${root}/etc/conf.d/thon-nx.conf`)).toBe(false);
  expect(existsSync(`${root}/etc/conf.d/thon-nx.conf.thon-staged`)).toBe(true);
  mustRun(find(evaluation, "command:local:Command", "thon-proxy-reload"), "create");
  await waitFor(() => connects(https), `the event's HTTPS port ${https} after the first reload`);
  // Settle: the workers from before that first reload have gone (worker_processes 2).
  await waitFor(() => workers(nginx.masterPid()).size === 2, "nginx's workers to settle after the first reload");
  return {
    root,
    https,
    http,
    nginx,
    evaluation,
    backends,
    yaml,
    async stop() {
      await nginx.stop();
      for (const b of backends.values()) await b.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------

describe("real nginx: the event's HTTPS entry (tls mode ca)", () => {
  let d: Deployment;
  let ca: string;
  const openSockets: WebSocket[] = [];

  beforeAll(async () => {
    d = await deploy(["alice", "bob"]);
    ca = d.evaluation.outputs.caCertPem as string;
  });
  afterAll(async () => {
    for (const ws of openSockets) ws.terminate();
    await d?.stop();
  });

  it("passes nginx -t with the files the program wrote", () => {
    const res = spawnSync("sh", ["-c", `${d.nginx.command} -t`], { encoding: "utf8" });
    expect(res.stderr).toContain("syntax is ok");
    expect(res.stderr).toContain("test is successful");
    expect(res.status).toBe(0);
  });

  it("wrote the private key for root only and the certificates readable", () => {
    const mode = (f: string) => (spawnSync("stat", ["-c", "%a %U:%G", f], { encoding: "utf8" }).stdout.trim());
    expect(mode(`${d.root}/etc/thon/tls/server.key`)).toBe("600 root:root");
    expect(mode(`${d.root}/etc/thon/tls/server.crt`)).toBe("644 root:root");
    expect(mode(`${d.root}/etc/thon/tls/ca.crt`)).toBe("644 root:root");
    expect(mode(`${d.root}/etc/thon/participants/alice.conf`)).toBe("644 root:root");
  });

  it("reaches alice's backend through /alice/ with the prefix stripped, trusting only the event CA", async () => {
    const res = await get(d.https, "/alice/static/app.js?v=1", ca);
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ backend: "alice", url: "/static/app.js?v=1" });
    expect(body.headers).toMatchObject({
      host: `127.0.0.1:${d.https}`,
      "x-forwarded-proto": "https",
      "x-forwarded-prefix": "/alice",
      "x-forwarded-for": "127.0.0.1",
    });
    expect(JSON.parse((await get(d.https, "/alice/", ca)).body)).toMatchObject({ backend: "alice", url: "/" });
    expect(JSON.parse((await get(d.https, "/bob/x", ca)).body)).toMatchObject({ backend: "bob", url: "/x" });
  });

  it("redirects the bare /alice to /alice/, keeping the query", async () => {
    const res = await get(d.https, "/alice?folder=/workspace", ca);
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe("/alice/?folder=/workspace");
  });

  it("handshakes TLS 1.2 or 1.3 with a chain that verifies against the CA and a SAN for 127.0.0.1", async () => {
    const socket = await handshake(d.https, { ca });
    try {
      expect(socket.authorized).toBe(true);
      expect(["TLSv1.2", "TLSv1.3"]).toContain(socket.getProtocol());
      const leaf = socket.getPeerX509Certificate()!;
      const caCert = new X509Certificate(ca);
      expect(leaf.checkIssued(caCert)).toBe(true);
      expect(leaf.verify(caCert.publicKey)).toBe(true);
      expect(leaf.checkIP("127.0.0.1")).toBe("127.0.0.1");
      expect(leaf.subjectAltName).toContain("IP Address:127.0.0.1");
      expect(leaf.subjectAltName).toContain("DNS:localhost");
      expect(leaf.ca).toBe(false);
      expect(caCert.ca).toBe(true);
    } finally {
      socket.destroy();
    }
    const tls12 = await handshake(d.https, { ca, maxVersion: "TLSv1.2" });
    expect(tls12.getProtocol()).toBe("TLSv1.2");
    expect(tls12.getCipher().name).toMatch(/^ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    tls12.destroy();
    // The DNS SAN works too; a name the certificate does not cover is refused.
    (await handshake(d.https, { ca, servername: "localhost" })).destroy();
    await expect(handshake(d.https, { ca, servername: "other.example.org" })).rejects.toMatchObject({ code: "ERR_TLS_CERT_ALTNAME_INVALID" });
  });

  it("refuses TLS 1.1 and clients that do not trust the event CA", async () => {
    // The client allows TLS 1.1 (security level 0); nginx answers with a protocol_version alert.
    await expect(
      handshake(d.https, { ca, minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT:@SECLEVEL=0" }),
    ).rejects.toMatchObject({ code: "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION" });
    // Only Node's public roots: the event's certificate is unknown to them.
    await expect(handshake(d.https, {})).rejects.toMatchObject({ code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
  });

  it("serves /ca.crt: the CA certificate of the program's output, as a certificate to import", async () => {
    const res = await get(d.https, "/ca.crt", ca);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/x-x509-ca-cert");
    expect(res.body).toBe(ca);
    expect(d.evaluation.outputs.caCertUrl).toBe(`https://127.0.0.1:${d.https}/ca.crt`);
  });

  it("answers 404 for an unknown participant and never passes the request to another sandbox", async () => {
    const before = [...d.backends.values()].map((b) => b.seen.length);
    for (const path of ["/mallory/", "/mallory", "/alicex/", "/alice-2/", "/", "/ALICE/", "/healthz"]) {
      expect((await get(d.https, path, ca)).status, path).toBe(404);
    }
    expect([...d.backends.values()].map((b) => b.seen.length)).toEqual(before);
  });

  it("answers a sandbox that does not listen with the 'not answering' page (still 502, retried), and passes code-server's own errors unchanged", async () => {
    const socket = planEvent(toEvent(parseThonFile(d.yaml(["alice", "bob"])))).participants.find((p) => p.name === "bob")!.socketHostPath;
    renameSync(socket, `${socket}.away`); // bob's code-server is not listening: paused, or still starting
    d.backends.get("bob")!.dropIdle(); // and nginx holds no kept-alive connection to it
    try {
      const res = await get(d.https, "/bob/", ca);
      expect(res.status).toBe(502);
      expect(res.headers["content-type"]).toBe("text/html");
      expect(res.headers["retry-after"]).toBe("10");
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(res.body).toContain("Your sandbox is not answering");
      expect(res.body).toContain('<meta http-equiv=refresh content=10>');
    } finally {
      renameSync(`${socket}.away`, socket);
    }
    expect(JSON.parse((await get(d.https, "/bob/", ca)).body)).toMatchObject({ backend: "bob" });
    // A 502 that code-server itself sends is its answer, not nginx's failure to reach it.
    const own = await get(d.https, "/alice/own-502", ca);
    expect(own.status).toBe(502);
    expect(JSON.parse(own.body)).toMatchObject({ backend: "alice", url: "/own-502" });
  });

  it("redirects plain HTTP to HTTPS on the event's port", async () => {
    const res = await getHttp(d.http, "/alice/x?y=1");
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe(`https://127.0.0.1:${d.https}/alice/x?y=1`);
  });

  it("upgrades a WebSocket through /alice/ and echoes, with the Origin check code-server makes", async () => {
    const ws = await openSocket(d.https, "/alice/stable/ws?reconnection=false", ca);
    openSockets.push(ws);
    expect(await echo(ws, "hello")).toBe("alice:hello");
    const seen = d.backends.get("alice")!.seen.at(-1)!;
    expect(seen.url).toBe("/stable/ws?reconnection=false");
    expect(seen.headers.upgrade).toBe("websocket");
  });

  it("keeps the connection to alice's code-server open between requests (upstream keepalive)", async () => {
    const alice = d.backends.get("alice")!;
    const [connectionsBefore, seenBefore] = [alice.connections(), alice.seen.length];
    // One client connection, so one nginx worker; five requests one after the other.
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca });
    try {
      for (let i = 0; i < 5; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = httpsRequest({ host: "127.0.0.1", port: d.https, path: `/alice/keep/${i}`, agent, timeout: 5_000 }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode!));
          });
          req.on("error", reject);
          req.end();
        });
        expect(status).toBe(200);
      }
    } finally {
      agent.destroy();
    }
    expect(alice.seen.length - seenBefore).toBe(5);
    // Without an upstream keepalive nginx would open (and close) one connection per request.
    expect(alice.connections() - connectionsBefore).toBeLessThanOrEqual(1);
    // Plain requests go upstream without "Connection: close".
    expect(alice.seen.at(-1)!.headers.connection).toBeUndefined();
  });

  it("forwards Host with the port over HTTP/2 too", async () => {
    const session = h2connect(`https://127.0.0.1:${d.https}`, { ca });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = session.request({ ":path": "/alice/h2" });
        let data = "";
        req.setEncoding("utf8");
        req.on("data", (c: string) => (data += c));
        req.on("end", () => resolve(data));
        req.on("error", reject);
        req.end();
      });
      expect(JSON.parse(body)).toMatchObject({ backend: "alice", url: "/h2", headers: { host: `127.0.0.1:${d.https}` } });
      expect(session.alpnProtocol).toBe("h2");
    } finally {
      session.close();
    }
  });

  it("adding carol runs her socket folder, her two files and one reload; an open WebSocket survives the reload", async () => {
    const ws = await openSocket(d.https, "/alice/session", ca);
    openSockets.push(ws);
    expect(await echo(ws, "before")).toBe("alice:before");
    const master = d.nginx.masterPid();
    const oldWorkers = workers(master);
    const reloadsBefore = reloads(d.nginx);

    const after = await runEvent(toEvent(parseThonFile(d.yaml(["alice", "bob", "carol"]))));
    const steps = commandSteps(d.evaluation, after, isProxyOrSocketCommand);
    expect(stepNames(steps).sort()).toEqual(["create thon-nginx-carol", "create thon-sockets-carol", "create thon-upstream-carol", "update thon-proxy-reload"]);
    // The reload runs after the new files exist (it depends on them).
    expect(stepNames(steps).indexOf("update thon-proxy-reload")).toBeGreaterThan(stepNames(steps).indexOf("create thon-nginx-carol"));
    expect(stepNames(steps).indexOf("update thon-proxy-reload")).toBeGreaterThan(stepNames(steps).indexOf("create thon-upstream-carol"));
    for (const s of steps) mustRun(s.resource, s.op);
    d.backends.set("carol", await startBackend("carol", `${d.root}/sockets/carol/code-server.sock`));

    await reloaded(d.nginx, oldWorkers);
    expect((await get(d.https, "/carol/", ca)).status).toBe(200);
    // A real, graceful reload: same master, new workers; the old worker keeps alice's session.
    expect(d.nginx.masterPid()).toBe(master);
    expect(reloads(d.nginx)).toBe(reloadsBefore + 1);
    const newWorkers = [...workers(master)].filter((p) => !oldWorkers.has(p));
    expect(newWorkers.length).toBe(2);
    // alice's WebSocket holds one old worker open ("shutting down") until it closes.
    expect([...workers(master)].some((p) => oldWorkers.has(p))).toBe(true);
    expect(await echo(ws, "after reload")).toBe("alice:after reload");
    expect(JSON.parse((await get(d.https, "/carol/x", ca)).body)).toMatchObject({ backend: "carol", url: "/x" });
    (d as { evaluation: Evaluation }).evaluation = after;
  });

  it("removing bob: the reload update drops his location and upstream before Pulumi deletes his file resources", async () => {
    const after = await runEvent(toEvent(parseThonFile(d.yaml(["alice", "carol"]))));
    const steps = commandSteps(d.evaluation, after, isProxyOrSocketCommand);
    expect(stepNames(steps)[0]).toBe("update thon-proxy-reload");
    expect(stepNames(steps).slice(1).sort()).toEqual(["delete thon-nginx-bob", "delete thon-sockets-bob", "delete thon-upstream-bob"]);

    const oldWorkers = workers(d.nginx.masterPid());
    mustRun(steps[0]!.resource, steps[0]!.op);
    expect(existsSync(`${d.root}/etc/thon/participants/bob.conf`)).toBe(false);
    expect(existsSync(`${d.root}/etc/thon/upstreams/bob.conf`)).toBe(false);
    expect(existsSync(`${d.root}/etc/thon/upstreams/alice.conf`)).toBe(true);
    // The reload is asynchronous: old workers accept until the new ones take over.
    await reloaded(d.nginx, oldWorkers);
    const bobSeen = d.backends.get("bob")!.seen.length;
    for (const path of ["/bob/", "/bob/x", "/bob"]) expect((await get(d.https, path, ca)).status).toBe(404);
    expect(d.backends.get("bob")!.seen.length).toBe(bobSeen);
    for (const s of steps.slice(1)) mustRun(s.resource, s.op);
    expect((await get(d.https, "/alice/", ca)).status).toBe(200);
    (d as { evaluation: Evaluation }).evaluation = after;
  });

  it("refuses to reload after a hand edit of a participant file, and keeps serving", async () => {
    const reload = find(d.evaluation, "command:local:Command", "thon-proxy-reload");
    const file = `${d.root}/etc/thon/participants/alice.conf`;
    appendFileSync(file, "# edited by hand\n");
    const res = runCommand(reload, "update");
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("differ from what Pulumi wrote");
    expect(res.stderr).toContain(`${file}: FAILED`);
    expect((await get(d.https, "/alice/", ca)).status).toBe(200);
    mustRun(find(d.evaluation, "command:local:Command", "thon-nginx-alice"), "update");
    expect(runCommand(reload, "update").status).toBe(0);
  });

  it("does not reload a configuration nginx -t rejects; the running nginx keeps serving", async () => {
    const reload = find(d.evaluation, "command:local:Command", "thon-proxy-reload");
    const key = `${d.root}/etc/thon/tls/server.key`;
    rmSync(key);
    const before = reloads(d.nginx);
    expect(before).toBeGreaterThan(0);
    const res = runCommand(reload, "update");
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("nginx -t rejected the configuration");
    expect(res.stderr).toContain("server.key");
    await new Promise((r) => setTimeout(r, 300));
    expect(reloads(d.nginx)).toBe(before);
    expect((await get(d.https, "/alice/", ca)).status).toBe(200);
    mustRun(find(d.evaluation, "command:local:Command", "thon-proxy-server-key"), "update");
    expect(runCommand(reload, "update").status).toBe(0);
  });

  it("takes back a change nginx -t rejects: the live files stay the last ones that passed, the new ones wait staged, and the next run puts them in", async () => {
    const reload = find(d.evaluation, "command:local:Command", "thon-proxy-reload");
    const aliceFile = find(d.evaluation, "command:local:Command", "thon-nginx-alice");
    const live = `${d.root}/etc/thon/participants/alice.conf`;
    const good = readFileSync(live, "utf8");
    const broken = good.replace("proxy_http_version 1.1;", "proxy_http_version 1.1;\n    no_such_directive on;");
    expect(broken).not.toBe(good);
    // One deployment that changes alice's file (into one nginx rejects) and drops carol's two files.
    const manifest = (reload.inputs.stdin as string)
      .split("\n")
      .filter((l) => l !== "" && !/\/carol\.conf$/.test(l))
      .map((l) => (l.endsWith(`  ${live}`) ? `${createHash("sha256").update(broken).digest("hex")}  ${live}` : l))
      .join("\n") + "\n";
    const reloadsBefore = reloads(d.nginx);
    mustRun({ ...aliceFile, inputs: { ...aliceFile.inputs, stdin: broken } }, "update");
    expect(readFileSync(live, "utf8")).toBe(good); // staged, not live
    const res = runCommand({ ...reload, inputs: { ...reload.inputs, stdin: manifest } }, "update");
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("nginx -t rejected the configuration");
    expect(res.stderr).toContain('unknown directive "no_such_directive"');
    expect(res.stderr).toContain("the files nginx runs with are the previous ones again");
    // Every step undone: alice's file is the previous one, carol's files are back, nothing left over.
    expect(readFileSync(live, "utf8")).toBe(good);
    expect(readFileSync(`${live}.thon-staged`, "utf8")).toBe(broken);
    expect(existsSync(`${d.root}/etc/thon/participants/carol.conf`)).toBe(true);
    expect(existsSync(`${d.root}/etc/thon/upstreams/carol.conf`)).toBe(true);
    const leftovers = spawnSync("sh", ["-c", `ls ${d.root}/etc/thon/*/ | grep -E 'thon-(prev|pruned)$' || true`], { encoding: "utf8" }).stdout;
    expect(leftovers).toBe("");
    // What nginx would load on a restart passes; the running nginx never reloaded.
    expect(spawnSync("sh", ["-c", `${d.nginx.command} -t`]).status).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(reloads(d.nginx)).toBe(reloadsBefore);
    expect(JSON.parse((await get(d.https, "/carol/x", ca)).body)).toMatchObject({ backend: "carol" });
    // The fixed file arrives with the next run (Pulumi retries the failed reload).
    mustRun(aliceFile, "update");
    expect(runCommand(reload, "update").status).toBe(0);
    expect(readFileSync(live, "utf8")).toBe(good);
    expect(existsSync(`${live}.thon-staged`)).toBe(false);
  });

  it("pulumi destroy: the server file's delete takes the event out of nginx", async () => {
    const empty: Evaluation = { resources: [], outputs: {}, secretOutputs: [] };
    const steps = commandSteps(d.evaluation, empty, isProxyOrSocketCommand);
    expect(steps.every((s) => s.op === "delete")).toBe(true);
    // Dependents first: participant files before the server file, the server file before the certificates.
    const names = stepNames(steps);
    expect(names.indexOf("delete thon-nginx-alice")).toBeLessThan(names.indexOf("delete thon-proxy-server"));
    expect(names.indexOf("delete thon-upstream-alice")).toBeLessThan(names.indexOf("delete thon-proxy-server"));
    expect(names.indexOf("delete thon-proxy-server")).toBeLessThan(names.indexOf("delete thon-proxy-server-key"));
    for (const s of steps) mustRun(s.resource, s.op);
    for (const f of ["conf.d/thon-nx.conf", "thon/participants", "thon/upstreams", "thon/tls/server.key", "thon/tls/ca.crt"]) {
      expect(existsSync(`${d.root}/etc/${f}`), f).toBe(false);
    }
    await waitFor(async () => !(await get(d.https, "/alice/", ca).then(() => true, () => false)), "the HTTPS port to close");
  });
});

describe("real nginx: tls mode selfsigned", () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy(["alice"], "tls:\n  mode: selfsigned\n");
  });
  afterAll(async () => d?.stop());

  it("serves the self-signed certificate at /ca.crt, and trusting it alone is enough", async () => {
    const cert = d.evaluation.outputs.caCertPem as string;
    expect(new X509Certificate(cert).ca).toBe(false);
    const download = await get(d.https, "/ca.crt", cert);
    expect(download.body).toBe(cert);
    expect(JSON.parse((await get(d.https, "/alice/", download.body)).body)).toMatchObject({ backend: "alice", url: "/" });
  });
});

describe("real nginx: tls mode provided (an ACME client's files)", () => {
  let d: Deployment;
  let dir: string;
  const pem = (name: string) => readFileSync(join(dir, name), "utf8");

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "thon-acme-"));
    // What certbot leaves in /etc/letsencrypt/live/<name>/, made here with openssl.
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "privkey.pem"), "-out", join(dir, "fullchain.pem"), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", join(dir, "other.pem")], { stdio: "ignore" });
    d = await deploy(["alice"], `tls:\n  mode: provided\n  certFile: ${dir}/fullchain.pem\n  keyFile: ${dir}/privkey.pem\n`);
  });
  afterAll(async () => {
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("uses the files in place: nginx serves that certificate, no /ca.crt, no key in the program", async () => {
    const res = await get(d.https, "/alice/", pem("fullchain.pem"));
    expect(JSON.parse(res.body)).toMatchObject({ backend: "alice" });
    expect((await get(d.https, "/ca.crt", pem("fullchain.pem"))).status).toBe(404);
    expect(d.evaluation.outputs.caCertUrl).toBeNull();
    expect(d.evaluation.outputs.caCertPem).toBeNull();
    expect(d.evaluation.outputs.event).not.toHaveProperty("caCertUrl");
    expect(d.evaluation.resources.some((r) => r.type.startsWith("tls:"))).toBe(false);
    expect(d.evaluation.resources.some((r) => r.name === "thon-proxy-server-key")).toBe(false);
  });

  it("the check command stops the deployment when the key does not belong to the certificate", () => {
    const check = find(d.evaluation, "command:local:Command", "thon-tls-provided-check");
    expect(runCommand(check, "create").status).toBe(0);
    const good = pem("privkey.pem");
    writeFileSync(join(dir, "privkey.pem"), pem("other.pem"));
    try {
      const res = runCommand(check, "create");
      expect(res.status).toBe(1);
      expect(res.stderr).toContain("tls.keyFile does not belong to tls.certFile");
    } finally {
      writeFileSync(join(dir, "privkey.pem"), good);
    }
    renameSync(join(dir, "fullchain.pem"), join(dir, "fullchain.pem.away"));
    try {
      const res = runCommand(check, "create");
      expect(res.status).toBe(1);
      expect(res.stderr).toContain(`${dir}/fullchain.pem is missing or unreadable on the host`);
    } finally {
      renameSync(join(dir, "fullchain.pem.away"), join(dir, "fullchain.pem"));
    }
  });
});
