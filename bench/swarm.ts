// The swarm target on a real three-node swarm of dockerds in namespaces on
// this one machine (test/e2e/support/swarm.ts), with the e2e image imported
// on each node and participants' Services applied through the e2e engine
// stand-in's Swarm rules (test/e2e/support/swarmParticipant.ts):
//
// 1. Per-node overhead: dockerd + containerd resident memory of each node,
//    idle (swarm formed, nothing scheduled) and with its participants running.
// 2. Readiness of 9 participants: the time from creating their Services (all
//    at once, as `pulumi up` would) to each code-server answering /healthz on
//    its node-local socket, spread 3 per node over 3 nodes, against all 9
//    pinned to one node, in the same run and the same swarm (rounds
//    alternate; fresh names per round, so no warm volumes).
//
// All three nodes share this machine's cores: "3 nodes" measures the swarm's
// scheduling and per-node engines, not three machines' worth of CPU.
// Nothing leaves the nodes' namespaces (loopback-range link, no route out).
import { spawnSync } from "node:child_process";
import type { Evaluation } from "../infra/preview/evaluate.ts";
import { Engine } from "../test/e2e/support/engine.ts";
import { waitHealthy } from "../test/e2e/support/http.ts";
import { startSwarm, type Swarm } from "../test/e2e/support/swarm.ts";
import { labelNodes, participantSocket, swarmBase, swarmParticipant } from "../test/e2e/support/swarmParticipant.ts";
import { evaluation } from "../test/support/recorded.ts";
import { ROOT } from "./lib/child.ts";
import { fmt, median, table } from "./lib/stats.ts";
import { isMain, type BenchOptions, type Section } from "./lib/section.ts";

const log = (text: string) => process.stdout.write(`[swarm] ${text}\n`);
const MiB = 2 ** 20;
const COUNT = 9;

function sh(cmd: string, args: string[], timeoutMs = 600_000): string {
  const res = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * MiB });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${res.status ?? res.signal}:\n${(res.stderr || res.stdout).slice(-3000)}`);
  return res.stdout;
}

interface Round {
  readonly layout: "3 nodes" | "1 node";
  /** ms from the create to each participant's /healthz answering, in user order. */
  readonly readyMs: number[];
  /** dockerd + containerd per node with the round's participants running, MiB. */
  readonly busyMiB: Record<string, number>;
}

function memoryMiB(swarm: Swarm): Record<string, number> {
  return Object.fromEntries(swarm.nodes.map((n) => [n.name, swarm.nodeMemory(n.name).totalBytes / MiB]));
}

/** One round on `base` (the manager's provider and the overlay, applied already): create 9 participants, wait for each, remove them again. */
async function round(swarm: Swarm, engine: Engine, base: ReturnType<typeof swarmBase>, image: string, layout: Round["layout"], tag: string): Promise<Round> {
  const before = evaluation([base.provider, base.network]);
  const users = Array.from({ length: COUNT }, (_, i) => `${tag}${i + 1}`);
  const nodeOf = (i: number) => (layout === "3 nodes" ? swarm.nodes[i % swarm.nodes.length]!.name : swarm.nodes[1 % swarm.nodes.length]!.name);
  const participants = users.flatMap((user, i) => swarmParticipant(swarm, base, { user, node: nodeOf(i), replicas: 1, password: `bench-${user}`, image }));
  const e: Evaluation = evaluation([base.provider, base.network, ...participants]);
  const t0 = Date.now();
  await engine.apply(before, e);
  const readyMs = await Promise.all(users.map(async (user, i) => (await waitHealthy(participantSocket(swarm, nodeOf(i), user), 300_000), Date.now() - t0)));
  const busyMiB = memoryMiB(swarm);
  log(`${layout}: all ${COUNT} ready after ${fmt(Math.max(...readyMs) / 1000)} s`);
  // Remove the round's services, secrets and folders (volumes stay; the swarm goes at the end).
  await engine.apply(e, before);
  for (const n of swarm.nodes) {
    const api = swarm.docker(n.name);
    const deadline = Date.now() + 120_000;
    while ((await api.listContainers()).length > 0) {
      if (Date.now() > deadline) throw new Error(`containers of the ${layout} round still running on ${n.name}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return { layout, readyMs, busyMiB };
}

export async function benchSwarm(o: BenchOptions): Promise<Section> {
  if (spawnSync("docker", ["info"], { timeout: 20_000, stdio: "ignore" }).status !== 0) {
    log("starting dockerd (scripts/start-dockerd.sh)");
    sh("bash", ["scripts/start-dockerd.sh"], 300_000);
  }
  const image = sh("bash", ["infra/image/build-offline.sh"], 3_600_000).trim().split("\n").at(-1)!;
  const t0 = Date.now();
  const swarm = await startSwarm({ image, nodeDirs: ["sockets"], runId: "bench", log });
  try {
    const setupMs = Date.now() - t0;
    await labelNodes(swarm);
    await new Promise((r) => setTimeout(r, 5_000)); // let the fresh engines settle before reading their memory
    const idle = memoryMiB(swarm);
    const engine = new Engine({ extraLabels: { "org.thon.bench-run": swarm.id }, remote: swarm.remoteShell() });
    const base = swarmBase(swarm);
    await engine.up(evaluation([base.provider, base.network]));
    const reps = o.quick ? 1 : 2;
    const rounds: Round[] = [];
    for (let r = 0; r < reps; r++) {
      // Alternate which layout goes first, so neither always gets the cold start.
      const order: Round["layout"][] = r % 2 === 0 ? ["3 nodes", "1 node"] : ["1 node", "3 nodes"];
      for (const layout of order) rounds.push(await round(swarm, engine, base, image, layout, `${layout === "3 nodes" ? "s" : "o"}${r}u`));
    }
    const overhead = table(
      ["node", "role", "idle: dockerd + containerd (MiB)", "9 on 3 nodes: busy (MiB)", "9 on one node: busy (MiB)"],
      swarm.nodes.map((n) => [
        n.name,
        n.role,
        fmt(idle[n.name]!, 0),
        fmt(median(rounds.filter((x) => x.layout === "3 nodes").map((x) => x.busyMiB[n.name]!)), 0),
        fmt(median(rounds.filter((x) => x.layout === "1 node").map((x) => x.busyMiB[n.name]!)), 0),
      ]),
    );
    const readiness = table(
      ["layout", "rounds", "first ready (s)", "median (s)", "all 9 ready (s)"],
      (["3 nodes", "1 node"] as const).map((layout) => {
        const rs = rounds.filter((x) => x.layout === layout);
        return [
          layout === "3 nodes" ? "9 on 3 nodes (3 each)" : "9 on one node (n2)",
          String(rs.length),
          fmt(median(rs.map((x) => Math.min(...x.readyMs))) / 1000),
          fmt(median(rs.map((x) => median(x.readyMs))) / 1000),
          fmt(median(rs.map((x) => Math.max(...x.readyMs))) / 1000),
        ];
      }),
    );
    const body = [
      `A swarm of ${swarm.nodes.length} dockerds (one manager, ${swarm.nodes.length - 1} workers) in namespaces on this one machine, formed in ${fmt(setupMs / 1000)} s including importing the image on every node (docker save | docker load, no registry). Participants are Services applied through the e2e engine stand-in's Swarm rules, with real code-server; ready = /healthz answering on the participant's node-local socket.`,
      "",
      "Per-node overhead of the swarm (dockerd + containerd resident memory):",
      "",
      overhead,
      "",
      `Readiness of ${COUNT} participants, created at once (median over the rounds):`,
      "",
      readiness,
      "",
      "The nodes share this machine's cores, so the spread layout gains no CPU here; what it shows is the swarm's scheduling across nodes against one node's engine doing all the work.",
    ].join("\n");
    return { title: "Swarm: per-node overhead and readiness of 9 participants, 3 nodes against 1", body };
  } finally {
    await swarm.close();
  }
}

if (isMain(import.meta.url)) {
  const section = await benchSwarm({ quick: process.argv.includes("--quick") });
  process.stdout.write(`\n## ${section.title}\n\n${section.body}\n`);
  process.exit(0);
}
