// The swarm's two hops with real nginx, real TLS and real sockets, on loopback:
//
//   client ─HTTPS─▶ edge (nginx A, 127.0.0.1) ─HTTPS, event CA─▶ node server
//   (n1: nginx A itself on 127.0.0.1; n2: nginx B on 127.0.0.2) ─▶ unix socket
//
// Nothing is written by hand (test/support/swarmNginx.ts): NodeProxy and
// EdgeProxy are evaluated under Pulumi's mocks with real certificates
// (test/support/tlsStandIn.ts), each node's commands run as pulumi-command
// would (test/support/commands.ts), n1 being the entry (one nginx holds the
// edge and its node server, as on a real entry node). Each "node" has its own
// folders and nginx here, since both live on this one machine. Backends are small HTTP+WebSocket servers on
// the sockets the plan names, checking Origin against Host as code-server does.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { dirname, join } from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import type { Event } from "../infra/config/event.ts";
import type { Evaluation } from "../infra/preview/evaluate.ts";
import { planEvent } from "../infra/plan.ts";
import { nginxLayout, nodeLayout } from "../infra/render/nginx.ts";
import { commandSteps } from "./support/commands.ts";
import { reloaded, waitFor, workers, type TestNginx } from "./support/nginx.ts";
import { startSwarmNginx, type SwarmNginx } from "./support/swarmNginx.ts";

const ENTRY = { name: "n1", address: "127.0.0.1" };
const OTHER = { name: "n2", address: "127.0.0.2" };
const PLACEMENT = { alice: "n1", bob: "n2" } as const;

interface Reply {
  readonly status: number;
  readonly body: string;
}

interface ClientOptions {
  readonly servername?: string;
  readonly localAddress?: string;
  readonly checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
}

function get(address: string, port: number, path: string, ca: string, extra: ClientOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: address, port, path, ca, agent: false, timeout: 5_000, ...extra }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

function echoThrough(port: number, path: string, ca: string, text: string, extra: ClientOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, { ca, origin: `https://127.0.0.1:${port}`, handshakeTimeout: 5_000, ...extra });
    const timer = setTimeout(() => (ws.terminate(), reject(new Error(`no echo for "${text}"`))), 5_000);
    ws.once("open", () => ws.send(text));
    ws.once("message", (data) => {
      clearTimeout(timer);
      ws.close();
      resolve(String(data));
    });
    ws.once("error", (err) => (clearTimeout(timer), reject(err)));
    ws.once("unexpected-response", (_req, res) => (clearTimeout(timer), reject(new Error(`upgrade refused: ${res.statusCode}`))));
  });
}

interface Backend {
  readonly user: string;
  close(): Promise<void>;
}

/** code-server as nginx sees it: JSON about the request, and a WebSocket echo that checks Origin against Host. */
async function startBackend(name: string, socketPath: string): Promise<Backend> {
  const server: Server = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ backend: name, url: req.url, host: req.headers.host }));
  });
  const wss = new WebSocketServer({
    server,
    verifyClient: ({ origin, req }: { origin: string; req: { headers: IncomingHttpHeaders } }) => !origin || new URL(origin).host === req.headers.host,
  });
  wss.on("connection", (ws) => ws.on("message", (data) => ws.send(`${name}:${String(data)}`)));
  mkdirSync(dirname(socketPath), { recursive: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  let closed: Promise<void> | undefined;
  return {
    user: name,
    close: () =>
      (closed ??=
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}

// How the edge names the node's certificate (nodeTlsName) depends on the event's names and TLS mode.
describe.each([
  ["an IP host with a DNS altName (checked by the altName), mode ca", "  host: 127.0.0.1\n  altNames: [thon.test]\n", "thon.test", "ca"],
  ["an IP host alone (checked by the certificate's CN), mode ca", "  host: 127.0.0.1\n", "127.0.0.1", "ca"],
  ["a DNS host, mode selfsigned (the certificate is its own anchor)", "  host: localhost\ntls:\n  mode: selfsigned\n", "localhost", "selfsigned"],
])("two hops, %s: the edge on the entry node, each node's nginx, the sockets", (_label, names, tlsName, mode) => {
  // The browser reaches the edge at 127.0.0.1 and checks the certificate for the event host.
  const browser: ClientOptions = { checkServerIdentity: (_host, cert) => checkServerIdentity(tlsName === "localhost" ? "localhost" : "127.0.0.1", cert) };
  let swarm: SwarmNginx;
  let root = "";
  let https = 0;
  let nodePort = 0;
  let ca = "";
  let nginx: ReadonlyMap<string, TestNginx>;
  let commands: ReadonlyMap<string, string>;
  const backends: Backend[] = [];
  let evaluation: Evaluation;
  let events: Readonly<Record<string, Event>>;

  /** Reloads a test nginx by hand (as `systemctl reload nginx` would) and waits until the new workers serve. */
  async function reloadByHand(node: string): Promise<void> {
    const n = nginx.get(node)!;
    const before = workers(n.masterPid());
    const [bin, ...args] = commands.get(node)!.split(" ");
    const res = spawnSync(bin!, [...args, "-s", "reload"], { encoding: "utf8", timeout: 10_000 });
    expect(res.status, res.stderr).toBe(0);
    await reloaded(n, before);
  }

  beforeAll(async () => {
    swarm = await startSwarmNginx({ nodes: [ENTRY, OTHER], placement: PLACEMENT, names });
    ({ root, https, nodePort, ca, nginx, commands, evaluation, events } = swarm);
    // Each participant's code-server on their node's socket path.
    for (const [user, node] of Object.entries(PLACEMENT)) {
      const p = planEvent(events[node]!).participants.find((x) => x.name === user)!;
      backends.push(await startBackend(user, p.socketHostPath));
    }
  }, 60_000);

  afterAll(async () => {
    for (const n of nginx?.values() ?? []) await n.stop();
    for (const b of backends) await b.close();
    await swarm?.stop();
  }, 30_000);

  it("ran the reloads in the order the engine would: the entry node's before the edge's on the same nginx", () => {
    const reloads = commandSteps(undefined, evaluation).map((s) => s.resource.name).filter((n) => n.endsWith("-reload"));
    expect(reloads.indexOf("thon-proxy-n1-reload")).toBeLessThan(reloads.indexOf("thon-proxy-edge-reload"));
  });

  it("a GET of /<user>/ reaches that user's socket through both hops, on the entry node and on another", async () => {
    for (const user of ["alice", "bob"]) {
      const r = await get("127.0.0.1", https, `/${user}/some/file?x=1`, ca, browser);
      expect(r.status, r.body).toBe(200);
      // The node stripped the prefix; the browser's Host (with the port) passed through both hops.
      expect(JSON.parse(r.body)).toEqual({ backend: user, url: "/some/file?x=1", host: `127.0.0.1:${https}` });
    }
    // Each request passed its node's server: its access log (written at most a second late) has it.
    const nodeLog = (node: string) => nodeLayout(events[node]!).accessLog;
    await waitFor(() => readFileSync(nodeLog(OTHER.name), "utf8").includes("GET /bob/some/file?x=1 "), "bob's request in n2's node log", 5_000);
    await waitFor(() => readFileSync(nodeLog(ENTRY.name), "utf8").includes("GET /alice/some/file?x=1 "), "alice's request in n1's node log", 5_000);
    expect(readFileSync(nodeLog(OTHER.name), "utf8")).not.toContain("/alice/");
    const bare = await get("127.0.0.1", https, "/bob", ca, browser);
    expect(bare.status).toBe(301);
    // The edge still serves the CA and refuses what is nobody's.
    expect((await get("127.0.0.1", https, "/ca.crt", ca, browser)).body).toBe(ca);
    expect((await get("127.0.0.1", https, "/carol/", ca, browser)).status).toBe(404);
  });

  it("a WebSocket upgrade echoes through both hops", async () => {
    expect(await echoThrough(https, "/bob/ws", ca, "hello", browser)).toBe("bob:hello");
    expect(await echoThrough(https, "/alice/ws", ca, "hi", browser)).toBe("alice:hi");
  });

  it("a node's server serves its own participants only, and only to the entry's address", async () => {
    // As the edge checks a node: the certificate for nodeTlsName.
    const asEdge: ClientOptions = { checkServerIdentity: (_host, cert) => checkServerIdentity(tlsName, cert) };
    const direct = (path: string, localAddress?: string) =>
      get(OTHER.address, nodePort, path, ca, { ...asEdge, ...(localAddress ? { localAddress } : {}) });
    expect((await direct("/bob/")).status).toBe(200);
    // alice lives on n1: n2's nginx has no location for her.
    expect((await direct("/alice/")).status).toBe(404);
    expect((await get(ENTRY.address, nodePort, "/bob/", ca, asEdge)).status).toBe(404);
    // From any other address than the entry's: refused.
    expect((await direct("/bob/", "127.0.0.3")).status).toBe(403);
  });

  // In mode selfsigned the trusted file is the edge's own certificate: replacing it would break the edge itself.
  if (mode === "ca")
  it("refuses the hop (502) when the edge trusts another CA: the node's certificate is really checked", async () => {
    const caFile = nginxLayout(events[ENTRY.name]!).caCertFile!;
    const pki = join(root, "other-ca");
    mkdirSync(pki);
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=another event CA", "-days", "1"], {
      cwd: pki,
      stdio: "pipe",
    });
    const errorLog = nginx.get(ENTRY.name)!.errorLog;
    const logBefore = readFileSync(errorLog, "utf8").length;
    try {
      writeFileSync(caFile, readFileSync(join(pki, "ca.crt")));
      await reloadByHand(ENTRY.name);
      // The browser still trusts the edge (its certificate is unchanged); the edge's own hop fails.
      for (const user of ["alice", "bob"]) expect((await get("127.0.0.1", https, `/${user}/`, ca, browser)).status).toBe(502);
      expect(readFileSync(errorLog, "utf8").slice(logBefore)).toContain("upstream SSL certificate verify error");
    } finally {
      writeFileSync(caFile, ca);
      await reloadByHand(ENTRY.name);
    }
    expect((await get("127.0.0.1", https, "/bob/", ca, browser)).status).toBe(200);
  }, 30_000);

  // Last: it takes n2 down.
  it("a sandbox that does not answer, then a whole node down: their participants get the unavailable page (502), the others are untouched", async () => {
    const page = "paused by the organizer";
    await backends.find((b) => b.user === "bob")!.close();
    const away = await get("127.0.0.1", https, "/bob/", ca, browser);
    expect(away.status).toBe(502);
    // n2's own page (its log has the 502), passed through the edge unchanged.
    expect(away.body).toContain(page);
    await waitFor(() => readFileSync(nodeLayout(events[OTHER.name]!).accessLog, "utf8").includes('"GET /bob/ HTTP/1.1" 502 '), "the 502 in n2's node log", 5_000);
    await nginx.get(OTHER.name)!.stop();
    const down = await get("127.0.0.1", https, "/bob/", ca, browser);
    expect(down.status).toBe(502);
    expect(down.body).toContain(page);
    expect((await get("127.0.0.1", https, "/alice/", ca, browser)).status).toBe(200);
    expect(await echoThrough(https, "/alice/ws", ca, "still here", browser)).toBe("alice:still here");
  }, 30_000);
});
