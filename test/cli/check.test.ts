// `thon check` against local HTTPS servers standing in for the proxy, with
// a CA and server certificate made by the real openssl: who is up, who is
// down and why, and that TLS is verified with the event CA only.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type Io } from "../../infra/cli/main.ts";

const dir = mkdtempSync(join(tmpdir(), "thon-check-"));
let server: Server;
let port: number;
let closedPort: number;
let caPem: string;
let otherCaPem: string;

function openssl(args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

function makeCa(name: string): void {
  openssl([
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "2", "-subj", `/CN=${name}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

beforeAll(async () => {
  makeCa("event-ca");
  makeCa("other-ca");
  openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n");
  openssl(["x509", "-req", "-in", "server.csr", "-CA", "event-ca.crt", "-CAkey", "event-ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf"]);
  caPem = readFileSync(join(dir, "event-ca.crt"), "utf8");
  otherCaPem = readFileSync(join(dir, "other-ca.crt"), "utf8");

  // The proxy's answers: alice's code-server shows its login page, carol's
  // (auth none) redirects, bob's socket is gone (502), nobody else exists (404).
  server = createServer({ key: readFileSync(join(dir, "server.key")), cert: readFileSync(join(dir, "server.crt")) }, (req, res) => {
    const routes: Record<string, number> = { "/alice/login": 200, "/bob/login": 502, "/carol/login": 302 };
    res.writeHead(routes[req.url ?? ""] ?? 404, routes[req.url ?? ""] === 302 ? { Location: "./" } : {});
    res.end();
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  port = (server.address() as { port: number }).port;
  // A port with nothing listening: bind, note, close.
  const tcp = createTcpServer();
  await new Promise<void>((res) => tcp.listen(0, "127.0.0.1", res));
  closedPort = (tcp.address() as { port: number }).port;
  await new Promise<void>((res) => tcp.close(() => res()));
});

afterAll(() => new Promise<void>((res) => server.close(() => res())));

function outputs(participants: Record<string, { group: string; state: string; url?: string }>, ca: string | null = caPem): string {
  const withUrls = Object.fromEntries(
    Object.entries(participants).map(([n, p]) => [n, { ...p, url: p.url ?? `https://127.0.0.1:${port}/${n}/`, password: "secret-not-printed" }]),
  );
  return JSON.stringify({ event: { name: "check", caCertUrl: `https://127.0.0.1:${port}/ca.crt` }, participants: withUrls, caCertPem: ca, caCertUrl: null });
}

async function check(json: string, extra: string[] = []) {
  const file = join(dir, `outputs-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, json);
  let out = "";
  let err = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), cwd: dir };
  const code = await main(["check", "--from", file, "--timeout", "5", ...extra], io);
  return { code, out, err };
}

describe("thon check", () => {
  it("reports every running participant up when the proxy answers their login page, and exits 0", async () => {
    const r = await check(outputs({ alice: { group: "a", state: "running" }, carol: { group: "b", state: "running" } }));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^up\s+alice\s+a\s+https:\/\/127\.0\.0\.1:\d+\/alice\/\s+HTTP 200$/m);
    expect(r.out).toMatch(/^up\s+carol\s+.*HTTP 302$/m);
    expect(r.out).toContain("all 2 running participants are up (TLS verified with the event CA from the stack outputs (caCertPem))");
    expect(r.out).not.toContain("secret-not-printed");
  });

  it("names who is down and why (proxy status, unknown participant, nothing listening), and exits 1", async () => {
    const r = await check(
      outputs({
        alice: { group: "a", state: "running" },
        bob: { group: "a", state: "running" },
        zoe: { group: "b", state: "running" },
        dan: { group: "b", state: "stopped" },
        eve: { group: "b", state: "running", url: `https://127.0.0.1:${closedPort}/eve/` },
      }),
    );
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^DOWN\s+bob\s+.*HTTP 502 \(the proxy cannot reach the sandbox/m);
    expect(r.out).toMatch(/^DOWN\s+zoe\s+.*HTTP 404 \(the proxy has no location/m);
    expect(r.out).toMatch(/^DOWN\s+eve\s+.*ECONNREFUSED/m);
    expect(r.out).toMatch(/^stopped\s+dan\s+.*stopped \(not probed\)$/m);
    expect(r.out).toMatch(/^up\s+alice/m);
    expect(r.out).toContain("3 of 4 running participants are DOWN");
  });

  it("verifies TLS with the event CA only: a proxy certificate from another CA is down", async () => {
    const r = await check(outputs({ alice: { group: "a", state: "running" } }, otherCaPem));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^DOWN\s+alice\s+.*(UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify|self[- ]signed)/im);
    // Without a CA in the outputs the system roots apply, which do not know the event CA either.
    const system = await check(outputs({ alice: { group: "a", state: "running" } }, null));
    expect(system.code).toBe(1);
    expect(system.out).toContain("TLS verified with the system's trusted roots");
    // --ca overrides the outputs.
    writeFileSync(join(dir, "given-ca.pem"), caPem);
    const given = await check(outputs({ alice: { group: "a", state: "running" } }, otherCaPem), ["--ca", "given-ca.pem"]);
    expect(given.code).toBe(0);
    expect(given.out).toContain("TLS verified with the CA given with --ca");
  });

  it("prints the results as JSON with --json", async () => {
    const r = await check(outputs({ alice: { group: "a", state: "running" }, bob: { group: "a", state: "running" } }), ["--json"]);
    expect(r.code).toBe(1);
    const parsed = JSON.parse(r.out) as { down: number; results: { name: string; up: boolean; status: number; probed: string }[] };
    expect(parsed.down).toBe(1);
    expect(parsed.results.map((x) => [x.name, x.up, x.status])).toEqual([["alice", true, 200], ["bob", false, 502]]);
    expect(parsed.results[0]!.probed).toBe(`https://127.0.0.1:${port}/alice/login`);
  });

  it("explains hidden secrets and bad timeouts", async () => {
    const hidden = await check(JSON.stringify({ participants: "[secret]" }));
    expect(hidden.code).toBe(1);
    expect(hidden.err).toMatch(/--show-secrets/);
    const bad = await check(outputs({ alice: { group: "a", state: "running" } }), ["--timeout", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--timeout must be a number of seconds/);
  });
});
