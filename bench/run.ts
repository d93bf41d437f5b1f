// `npm run bench [-- --quick] [-- --only scale,blast,proxy,density,idle,swarm]`: runs
// every benchmark, prints each figure as it is measured, and writes the
// results as markdown to bench/results/<date>-<cores>cpu-<memory>gib.md
// (with -quick for a quick run). A section that fails is reported in the
// file and makes the exit code 1; the others still run.
//
// Needs root (nginx workers as www-data, dockerd, containers) and installs
// what is missing from Debian (wrk, nginx-light, docker-compose, chromium,
// libnss3-tools; docker.io through scripts/start-dockerd.sh).
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./lib/child.ts";
import { hostInfo, load } from "./lib/host.ts";
import type { BenchOptions, Section } from "./lib/section.ts";
import { benchScale } from "./scale.ts";
import { benchBlast } from "./blast.ts";
import { benchProxy } from "./proxy.ts";
import { benchDensity } from "./density.ts";
import { benchIdle } from "./idle.ts";
import { benchImage } from "./image.ts";
import { benchSwarmPlan } from "./swarmPlan.ts";
import { benchSwarm } from "./swarm.ts";

const BENCHES: Record<string, (o: BenchOptions) => Promise<Section>> = {
  blast: benchBlast,
  scale: benchScale,
  proxy: benchProxy,
  density: benchDensity,
  idle: benchIdle,
  image: () => benchImage(),
  "swarm-plan": benchSwarmPlan,
  swarm: benchSwarm,
};

function commit(): string {
  try {
    const id = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: ROOT, encoding: "utf8" }).trim() !== "";
    return dirty ? `${id} (with uncommitted changes)` : id;
  } catch {
    return "unknown";
  }
}

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? "").split(",").filter(Boolean) : Object.keys(BENCHES);
const unknown = only.filter((n) => !(n in BENCHES));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(", ")}; choose from ${Object.keys(BENCHES).join(", ")}\n`);
  process.exit(2);
}

const host = hostInfo();
const started = Date.now();
const loadAtStart = load();
const sections: string[] = [];
let failed = 0;
for (const name of only) {
  const t0 = Date.now();
  process.stdout.write(`\n== ${name} ==\n`);
  try {
    const s = await BENCHES[name]!({ quick });
    sections.push(`## ${s.title}\n\n${s.body}\n\n_${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s_`);
  } catch (err) {
    failed++;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`bench ${name} failed: ${message}\n`);
    sections.push(`## ${name}\n\nFAILED: ${message.split("\n").slice(0, 10).join("\n")}`);
  }
}
const minutes = (Date.now() - started) / 60_000;
const header = [
  `# THON benchmarks, ${host.date}${quick ? " (quick run)" : ""}`,
  "",
  `${host.cores} cores (${host.cpuModel}), ${host.memGiB} GiB, Linux ${host.kernel}, Node ${host.node}; commit ${commit()}; ` +
    `${loadAtStart} at the start, ${load()} at the end; ${minutes.toFixed(1)} min. ` +
    "The host may be shared: the load average shows how quiet it was. Produced by `npm run bench" + (quick ? " -- --quick" : "") + "` (bench/run.ts).",
  "",
].join("\n");
const markdown = `${header}\n${sections.join("\n\n")}\n`;
const dir = join(ROOT, "bench", "results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `${host.date}-${host.cores}cpu-${host.memGiB}gib${quick ? "-quick" : ""}${only.length < Object.keys(BENCHES).length ? `-${only.join("-")}` : ""}.md`);
writeFileSync(file, markdown);
process.stdout.write(`\n${markdown}\nbench: wrote ${file}\n`);
// Pulumi's runtime and child handles may linger; the results are written.
process.exit(failed > 0 ? 1 : 0);
