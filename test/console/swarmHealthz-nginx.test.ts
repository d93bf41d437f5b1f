// code-server's /healthz on a Swarm target, read the way the console on the
// entry node must: through the participant's node's nginx over TLS, trusting
// the event CA only (console/ops/nodeHealthz.ts). The nginx hops are the real
// ones of test/swarm-routing-nginx.test.ts (test/support/swarmNginx.ts):
// n1 = the entry on 127.0.0.1 (its own node server in the edge's nginx), n2's
// nginx on 127.0.0.2; behind each, a code-server /healthz stand-in on the
// socket the node's plan names. The console's event is a swarm event with the
// entry's files, so its own socket paths never reach n2's sockets.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxBackend, type Backend } from "../../console/ops/backend.ts";
import { socketHealthz } from "../../console/ops/healthz.ts";
import { nodeHealthz } from "../../console/ops/nodeHealthz.ts";
import { describe as describeStatus, StatusService } from "../../console/ops/status.ts";
import { readHealthz, waitForHealthz } from "../../console/idle/healthz.ts";
import { readSignals } from "../../console/idle/signals.ts";
import { parkParticipant, wakeParticipant } from "../../console/idle/park.ts";
import { MemoryParkRecords } from "../../console/idle/records.ts";
import type { IdleDocker } from "../../console/idle/docker.ts";
import { parseThonFile } from "../../infra/config/load.ts";
import { toEvent, type Event } from "../../infra/config/event.ts";
import { planEvent, type ParticipantPlan } from "../../infra/plan.ts";
import { edgeTrustFile, nodeLayout, nodeTlsName } from "../../infra/render/nginx.ts";
import { DockerStandIn } from "../support/consoleFixture.ts";
import { startCodeServerHealthz, type CodeServerHealthzStandIn } from "../support/codeServerHealthzStandIn.ts";
import { waitFor } from "../support/nginx.ts";
import { startSwarmNginx, type SwarmNginx } from "../support/swarmNginx.ts";

const ENTRY = { name: "n1", address: "127.0.0.1" };
const OTHER = { name: "n2", address: "127.0.0.2" };
const PLACEMENT = { alice: "n1", bob: "n2" } as const;

/** The console's thon.yaml on the entry: the entry's files, the two loopback nodes, each participant's host. */
function swarmEvent(s: SwarmNginx, names: string): Event {
  const nodes = [ENTRY, OTHER].map((n) => `    - { name: ${n.name}, address: ${n.address}, memory: 8GiB }`).join("\n");
  const users = Object.entries(PLACEMENT).map(([u, n]) => `{ name: ${u}, host: ${n} }`).join(", ");
  return toEvent(
    parseThonFile(
      `${s.proxyYamlOf(ENTRY.name)}event:\n  name: sw\n${names}target:\n  kind: swarm\n  dockerHost: unix:///nonexistent/docker.sock\n  nodePort: ${s.nodePort}\n` +
        `  ssh: { privateKeyFile: ./id_ed25519 }\n  nodes:\n${nodes}\ngroups:\n  alpha:\n    users: [${users}]\n`,
    ),
  );
}

/** A running sandbox as idle parking sees it; CPU is not read here. */
const runningIdleDocker = (healthz: Backend["healthz"]): IdleDocker => ({
  inspect: async (name) => ({ id: `id-${name}`, running: true }),
  stop: async () => {},
  start: async () => {},
  cpuPercent: async () => 0,
  healthz,
});

// The name the node's certificate is checked for, as the edge checks it (nodeTlsName).
describe.each([
  ["an IP host with a DNS altName (checked by the altName, sent as SNI)", "  host: 127.0.0.1\n  altNames: [thon.test]\n"],
  ["an IP host alone (checked by the address, no SNI)", "  host: 127.0.0.1\n"],
  ["a DNS host, mode selfsigned (the certificate is its own anchor)", "  host: localhost\ntls:\n  mode: selfsigned\n"],
])("/healthz through the node's nginx, %s", (_label, names) => {
  let swarm: SwarmNginx;
  let event: Event;
  let backend: Backend;
  let plans: Map<string, ParticipantPlan>;
  const standIns = new Map<string, CodeServerHealthzStandIn>();
  /** Where each participant's code-server listens: the socket path of their node's own plan. */
  const socketOnNode = (user: keyof typeof PLACEMENT) => planEvent(swarm.events[PLACEMENT[user]]!).participants.find((p) => p.name === user)!.socketHostPath;
  const nodeLog = (node: string) => readFileSync(nodeLayout(swarm.events[node]!).accessLog, "utf8");

  beforeAll(async () => {
    swarm = await startSwarmNginx({ nodes: [ENTRY, OTHER], placement: PLACEMENT, names });
    event = swarmEvent(swarm, names);
    backend = sandboxBackend(event, {});
    plans = new Map(planEvent(event).participants.map((p) => [p.name, p]));
    // bob's code-server starts in the wake test.
    standIns.set("alice", await startCodeServerHealthz(socketOnNode("alice"), { status: "alive", lastHeartbeat: Date.now() - 20_000 }));
  }, 60_000);

  afterAll(async () => {
    for (const s of standIns.values()) await s.close();
    await swarm?.stop();
  }, 30_000);

  it("the swarm backend reads /healthz through the nodes for status, idle and wake alike; the local one keeps the socket", () => {
    expect(backend.healthz).not.toBe(socketHealthz);
    expect(backend.sandboxes.healthz).toBe(backend.healthz);
    expect(backend.idle.healthz).toBe(backend.healthz);
    expect(plans.get("bob")).toMatchObject({ node: "n2", endpointPath: "/bob/" });
    const local = sandboxBackend({ ...event, target: { kind: "local", dockerHost: "unix:///nonexistent/docker.sock" } }, {});
    expect(local.healthz).toBe(socketHealthz);
    expect(local.sandboxes.healthz).toBeUndefined();
    expect(local.idle.healthz).toBeUndefined();
  });

  it("waitForHealthz returns once bob's code-server answers behind n2's nginx, not before", async () => {
    const bob = plans.get("bob")!;
    // No code-server yet: n2 answers its unavailable page, which is no /healthz answer.
    expect(await readHealthz(bob, 2000, backend.healthz)).toBeUndefined();
    const started = Date.now();
    const waited = waitForHealthz(bob, 15_000, 100, backend.healthz);
    await new Promise((r) => setTimeout(r, 600));
    const startedAt = Date.now();
    standIns.set("bob", await startCodeServerHealthz(socketOnNode("bob"), { status: "expired", lastHeartbeat: Date.now() - 600_000 }));
    const ms = await waited;
    expect(ms).toBeDefined();
    expect(started + ms!).toBeGreaterThanOrEqual(startedAt);
    // n2's nginx stripped /bob/: code-server was asked for /healthz.
    expect(standIns.get("bob")!.urls).toContain("/healthz");
    expect(new Set(standIns.get("bob")!.urls)).toEqual(new Set(["/healthz"]));
  }, 30_000);

  it("live status reads status and heartbeat through each node's nginx (the entry's own and another)", async () => {
    const docker = Object.assign(new DockerStandIn(), { healthz: backend.healthz });
    docker.add("alice");
    docker.add("bob");
    const now = Date.now();
    const live = await new StatusService(docker, { now: () => now }).refresh("sw", [...plans.values()]);
    expect(live.get("alice")!.codeServer).toEqual({ status: "alive", lastHeartbeat: new Date(standIns.get("alice")!.answer.lastHeartbeat).toISOString(), connected: true });
    expect(live.get("bob")!.codeServer).toEqual({ status: "expired", lastHeartbeat: new Date(standIns.get("bob")!.answer.lastHeartbeat).toISOString(), connected: false });
    // Through the node servers (each logs the request with its prefix), not through a socket here:
    // bob's socket is on n2, where the entry's plan path does not lead.
    await waitFor(() => nodeLog(OTHER.name).includes("GET /bob/healthz "), "bob's probe in n2's node log", 5_000);
    await waitFor(() => nodeLog(ENTRY.name).includes("GET /alice/healthz "), "alice's probe in n1's node log", 5_000);
    expect(nodeLog(OTHER.name)).not.toContain("/alice/");
    expect(await socketHealthz(plans.get("bob")!)).toMatchObject({ reachable: false });
  });

  it("the idle signals, the park check and the wake read the same transport", async () => {
    const docker = runningIdleDocker(backend.healthz);
    const bob = plans.get("bob")!;
    const records = new MemoryParkRecords();
    standIns.get("bob")!.answer.status = "alive";
    const signals = await readSignals(docker, bob, { skipCpu: true });
    expect(signals.healthz).toEqual({ status: "alive", lastHeartbeat: standIns.get("bob")!.answer.lastHeartbeat });
    // A client connected (alive, read through n2): the park is refused.
    await expect(parkParticipant(docker, bob, records, "idle")).rejects.toMatchObject({ code: "connected" });
    standIns.get("bob")!.answer.status = "expired";
    // Running already: the wake only waits for /healthz, through n2.
    expect(await wakeParticipant(docker, bob, records, { timeoutSeconds: 5 })).toMatchObject({ user: "bob", started: false });
  });

  it("fails closed: another CA, a wrong name or no CA file read unreachable, and nothing reaches code-server", async () => {
    const pki = join(swarm.root, "other-ca");
    mkdirSync(pki);
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=another event CA", "-days", "1"], { cwd: pki, stdio: "pipe" });
    const caFile = join(pki, "trusted.crt");
    writeFileSync(caFile, readFileSync(join(pki, "ca.crt")));
    const target = { nodes: [ENTRY, OTHER], nodePort: swarm.nodePort, tlsName: nodeTlsName(event) };
    const bob = plans.get("bob")!;
    const asked = standIns.get("bob")!.urls.length;

    const wrongCa = nodeHealthz({ ...target, caFile });
    const refused = await wrongCa(bob);
    expect(refused.reachable).toBe(false);
    expect(refused).toMatchObject({ error: expect.stringMatching(/CERT|SIGNATURE|ISSUER/) });
    expect(await readHealthz(bob, 2000, wrongCa)).toBeUndefined();
    const facts = { id: "s1", status: "running", running: true, restarting: false, oomKilled: false, exitCode: 0, restartCount: 0, startedAt: null, finishedAt: null, image: "i", memoryLimit: 0, node: "n2" };
    expect(describeStatus(bob, facts, undefined, null, refused, Date.now()).summary).toBe(`running, but code-server does not answer through node n2's nginx (${(refused as { error: string }).error})`);
    expect(await waitForHealthz(bob, 500, 100, wrongCa)).toBeUndefined();

    const wrongName = await nodeHealthz({ ...target, caFile: edgeTrustFile(event), tlsName: "not-the-event.test" })(bob);
    expect(wrongName).toEqual({ reachable: false, error: "ERR_TLS_CERT_ALTNAME_INVALID" });
    const noFile = await nodeHealthz({ ...target, caFile: join(pki, "absent.crt") })(bob);
    expect(noFile).toEqual({ reachable: false, error: `cannot read the event CA ${join(pki, "absent.crt")}: ENOENT` });
    expect(standIns.get("bob")!.urls.length).toBe(asked);

    // The file is read again when it changes: with the event CA in it, the same transport reads bob.
    writeFileSync(caFile, readFileSync(edgeTrustFile(event)));
    expect(await wrongCa(bob)).toMatchObject({ reachable: true, status: "expired" });
    // The file the transport trusts is the edge's own (what /ca.crt serves, or the self-signed certificate).
    expect(readFileSync(edgeTrustFile(event), "utf8")).toBe(swarm.ca);
  });
});
