// Idle parking on a real Docker engine with the e2e image (thon-sandbox:offline,
// infra/image/build-offline.sh) and the program's own containers (applied by
// the e2e engine, with a real nginx as the program needs):
//
// 1. Wake latency: for each of N sandboxes, park (docker stop) then wake
//    (console/idle wakeParticipant: docker start, then code-server's /healthz
//    on the unix socket), against the cold start of the same sandbox (the
//    container created and started by the engine, to the first /healthz).
//    Measured at the API, not through the browser: the page's reload adds one
//    workbench load, the same with or without parking.
// 2. Memory: each running sandbox idle (no client) after a settle time, as
//    `docker stats` shows it (usage minus inactive file cache), and parked
//    (a stopped container: no processes, no cgroup charge, no shim).
// 3. Registered participants per 24 GiB host at a stated active share, with
//    parking off and on, extrapolated from those figures with the model
//    printed next to the result.
//
// `node --import tsx bench/idle.ts [--quick]` as root, with dockerd up
// (`bash scripts/start-dockerd.sh`) and the image built. Every container and
// volume carries org.thon.bench-run=<id> and is removed at the end.
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Dockerode from "dockerode";
import { evaluateEventFile } from "../infra/cli/plan.ts";
import { loadEvent } from "../infra/config/load.ts";
import { planEvent } from "../infra/plan.ts";
import { idleDocker } from "../console/idle/docker.ts";
import { waitForHealthz } from "../console/idle/healthz.ts";
import { parkParticipant, wakeParticipant } from "../console/idle/park.ts";
import { MemoryParkRecords } from "../console/idle/records.ts";
import { WakeQueue } from "../console/idle/wakeQueue.ts";
import { Engine } from "../test/e2e/support/engine.ts";
import { dockerAt } from "../test/e2e/support/docker.ts";
import { renderEventYaml } from "../test/e2e/support/event.ts";
import { freePort, startNginx } from "../test/support/nginx.ts";
import { fmt, median, table } from "./lib/stats.ts";
import { hostInfo, load } from "./lib/host.ts";
import { isMain, type BenchOptions, type Section } from "./lib/section.ts";

const log = (text: string) => process.stdout.write(`[idle] ${text}\n`);
const LABEL = "org.thon.bench-run";
const DOCKER_SOCKET = "/var/run/docker.sock";
const MiB = 2 ** 20;

/** Figures from bench/results/2026-11-25-2cpu-24gib.md (density): one browser session open, and the containerd shim per running container. */
const ACTIVE_MIB_MEASURED = 227;
const SHIM_MIB = 13;
const HOST_GIB = 24;
const RESERVED_GIB = 2;

interface Stats {
  memory_stats: { usage?: number; stats?: Record<string, number> };
}

export async function benchIdle(options: BenchOptions): Promise<Section> {
  const n = options.quick ? 2 : 3;
  const rounds = options.quick ? 1 : 3;
  const runId = randomBytes(3).toString("hex");
  const host = hostInfo();
  const loadAtStart = load();
  const image = process.env.THON_E2E_IMAGE ?? "thon-sandbox:offline";
  const dir = mkdtempSync(join(tmpdir(), `thon-bench-idle-${runId}-`));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, "sockets"), { mode: 0o755 });
  const prefix = join(dir, "nginx");
  mkdirSync(join(prefix, "conf.d"), { recursive: true, mode: 0o755 });
  const nginx = await startNginx(prefix, { includeGlob: join(prefix, "conf.d", "*.conf"), user: "www-data www-data" });
  const api = dockerAt(DOCKER_SOCKET);
  const docker = idleDocker(new Dockerode({ socketPath: DOCKER_SOCKET }));
  const engine = new Engine({ extraLabels: { [LABEL]: runId } });
  const users = Array.from({ length: n }, (_, i) => `p${i}-${runId}`);
  try {
    const file = join(dir, "thon.yaml");
    writeFileSync(
      file,
      renderEventYaml({
        name: `bench-idle-${runId}`,
        image,
        socketDir: join(dir, "sockets"),
        dockerHost: `unix://${DOCKER_SOCKET}`,
        users: users.map((name) => ({ name, group: "bench" })),
        proxy: { httpsPort: await freePort(), httpPort: 0, listenAddress: "127.0.0.1", configDir: join(prefix, "thon"), includeDir: join(prefix, "conf.d"), socketGroup: "www-data", nginx: nginx.command },
      }),
    );
    const evaluation = await evaluateEventFile(file);
    const plans = planEvent(loadEvent(file)).participants;

    // 1a. Cold start: the engine creates and starts every container at once (as pulumi up would); each one's time to /healthz.
    const t0 = Date.now();
    const up = engine.up(evaluation);
    const cold = await Promise.all(plans.map(async (p) => (await waitForHealthz(p.socketHostPath, 300_000, 100)) ?? NaN));
    await up;
    const coldAll = Date.now() - t0;
    log(`cold start to /healthz, ${n} at once: ${cold.map((ms) => fmt(ms)).join(", ")} ms`);

    // 2. Memory, idle: after a settle time, nobody connected.
    await new Promise((r) => setTimeout(r, options.quick ? 10_000 : 20_000));
    const idleMiB: number[] = [];
    for (const p of plans) {
      const s = (await api.getContainer(p.containerName).stats({ stream: false, "one-shot": true } as { stream: false })) as unknown as Stats;
      const inactive = s.memory_stats.stats?.inactive_file ?? s.memory_stats.stats?.total_inactive_file ?? 0;
      idleMiB.push(((s.memory_stats.usage ?? 0) - inactive) / MiB);
    }
    log(`memory idle: ${idleMiB.map((m) => fmt(m, 1)).join(", ")} MiB`);

    // 1b. Wake latency: park, then wake one at a time, `rounds` times each.
    const records = new MemoryParkRecords();
    const wakes: number[] = [];
    const parkedMiB: number[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const p of plans) {
        await parkParticipant(docker, p, records, "bench", { unlessConnected: false });
        const info = await api.getContainer(p.containerName).inspect();
        // A stopped container holds no memory (its cgroup is gone with its processes).
        if (!info.State.Running) parkedMiB.push(0);
        const r = await wakeParticipant(docker, p, records, { timeoutSeconds: 300, pollMs: 50 });
        wakes.push(r.readyMs);
      }
    }
    log(`wake (docker start to /healthz): median ${fmt(median(wakes))} ms over ${wakes.length}`);

    // 1c. The same condition as the cold start: all parked, all woken at once through the wake queue.
    for (const p of plans) await parkParticipant(docker, p, records, "bench", { unlessConnected: false });
    const queue = new WakeQueue({ concurrency: n, wake: (user) => wakeParticipant(docker, plans.find((p) => p.name === user)!, records, { timeoutSeconds: 300, pollMs: 50 }) });
    const tw = Date.now();
    const together = (await Promise.all(plans.map((p) => queue.request(p.name)))).map((r) => r.readyMs);
    const togetherAll = Date.now() - tw;
    log(`wake, ${n} at once: ${together.map((ms) => fmt(ms)).join(", ")} ms`);

    // 3. The model.
    const idle = median(idleMiB) + SHIM_MIB;
    const active = ACTIVE_MIB_MEASURED + SHIM_MIB;
    const avail = (HOST_GIB - RESERVED_GIB) * 1024;
    const rows: string[][] = [];
    for (const share of [0.2, 0.3, 0.5]) {
      // Off: everyone registered runs; `share` of them with the editor open, the rest idle.
      const off = Math.floor(avail / (share * active + (1 - share) * idle));
      // On: the non-active who left less than parkAfter ago still run (assumed a quarter of them); the rest are parked (0 MiB).
      const lingering = 0.25;
      const on = Math.floor(avail / (share * active + (1 - share) * lingering * idle));
      // And the memory-bound ceiling on active ones alone, which parking cannot raise.
      rows.push([`${Math.round(share * 100)} %`, String(off), String(on), `${fmt(on / off, 2)}×`, String(Math.floor(avail / active / share))]);
    }
    const body = [
      `Host: ${host.cores} cores, ${host.memGiB} GiB, ${host.cpuModel}; load at start: ${loadAtStart}. ${n} sandboxes of the program (thon-sandbox image, network none, 1 GiB limit), parked with \`docker stop\` and woken by \`wakeParticipant\`.`,
      "",
      table(
        ["figure", "value"],
        [
          [`cold start to /healthz (${n} created and started at once), median`, `${fmt(median(cold))} ms (all ${n}: ${fmt(coldAll)} ms)`],
          [`wake of the same ${n} at once (WakeQueue, concurrency ${n}), median`, `${fmt(median(together))} ms (all ${n}: ${fmt(togetherAll)} ms)`],
          [`wake one at a time: docker start to /healthz, median of ${wakes.length}`, `${fmt(median(wakes))} ms (min ${fmt(Math.min(...wakes))}, max ${fmt(Math.max(...wakes))})`],
          ["memory, idle (nobody connected), median", `${fmt(median(idleMiB), 1)} MiB`],
          ["memory, parked", `${fmt(median(parkedMiB), 0)} MiB (container stopped; the volume stays on disk)`],
        ],
      ),
      "",
      `**Registered participants per ${HOST_GIB} GiB host** (memory-bound; ${RESERVED_GIB} GiB kept for the OS, dockerd, nginx; no Lemonade on the host). Model: an *active* participant has the editor open, ${ACTIVE_MIB_MEASURED} MiB (bench/results density figure, one browser session) + ${SHIM_MIB} MiB shim; an *idle* one runs with nobody connected, ${fmt(median(idleMiB), 1)} MiB measured here + shim; a *parked* one costs 0. Parking off: every non-active participant is idle. Parking on: a quarter of the non-active are still within parkAfter of leaving (idle), the rest are parked. The last column is the most registered participants for which the active share alone still fits: the ceiling parking cannot lift.`,
      "",
      table(["active share", "parking off", "parking on", "gain", "active-only ceiling"], rows),
    ].join("\n");
    return { title: "Idle parking: wake latency and participants per host", body };
  } finally {
    const left = await api.listContainers({ all: true, filters: { label: [`${LABEL}=${runId}`] } }).catch(() => []);
    for (const c of left) await api.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    const vols = await api.listVolumes({ filters: { label: [`${LABEL}=${runId}`] } }).catch(() => ({ Volumes: [] }));
    for (const v of vols.Volumes ?? []) await api.getVolume(v.Name).remove().catch(() => undefined);
    await nginx.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  const section = await benchIdle({ quick: process.argv.includes("--quick") });
  process.stdout.write(`\n## ${section.title}\n\n${section.body}\n`);
}
