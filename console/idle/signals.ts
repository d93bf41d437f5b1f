// Reading one participant's signals from outside the sandbox: Docker for the
// container and CPU, the backend's transport for /healthz, the host's copy of the
// workspace for file times. The LLM time comes from the gateway's counters,
// which the console's usage snapshots hold; it is passed in.
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { ParticipantPlan } from "../../infra/plan.ts";
import type { Signals } from "./decide.ts";
import type { IdleDocker } from "./docker.ts";
import { readHealthz } from "./healthz.ts";
import { healthzOf, type HealthzSubject } from "../ops/healthz.ts";

/** Folders whose churn a build makes (the CPU signal sees the build); walking them would cost more than it tells. */
const SKIPPED = new Set(["node_modules", ".venv", "venv", "__pycache__", "target", ".cache"]);

/**
 * The newest mtime under `dir` (files and folders), walking at most
 * `maxEntries` entries breadth first; undefined if the folder cannot be read.
 * For a volume, `dir` is its Mountpoint on the host (`docker volume inspect`);
 * for a bind workspace, the plan's hostPath.
 */
export async function newestChange(dir: string, maxEntries = 20_000): Promise<Date | undefined> {
  let newest: number | undefined;
  let seen = 0;
  const queue = [dir];
  while (queue.length > 0 && seen < maxEntries) {
    const here = queue.shift()!;
    let names: string[];
    try {
      names = await readdir(here);
    } catch {
      if (here === dir) return undefined;
      continue;
    }
    for (const name of names) {
      if (++seen > maxEntries) break;
      const path = join(here, name);
      try {
        const st = await lstat(path);
        if (newest === undefined || st.mtimeMs > newest) newest = st.mtimeMs;
        if (st.isDirectory() && !SKIPPED.has(name)) queue.push(path);
      } catch {
        // Deleted while walking: a change, but its time is gone with it.
      }
    }
  }
  return newest === undefined ? undefined : new Date(newest);
}

export interface SignalInputs {
  /** The last LLM call (from the gateway counters' last growth), if known. */
  readonly lastLlmCallAt?: Date;
  /** The workspace's folder on the host, if the console may read it. */
  readonly workspaceDir?: string;
  /** The caller's last CPU sample above the threshold, kept between rounds. */
  readonly cpuLastBusyAt?: Date;
  /** Skip the CPU sample (it takes about a second per container). */
  readonly skipCpu?: boolean;
}

/** Reads the signals of one participant (the decision's input: `assess({ ..., signals })`). */
export async function readSignals(docker: IdleDocker, plan: Pick<ParticipantPlan, "containerName"> & HealthzSubject, inputs: SignalInputs = {}): Promise<Signals> {
  const container = await docker.inspect(plan.containerName);
  const running = container?.running === true;
  const [healthz, percent, changed] = await Promise.all([
    running ? readHealthz(plan, 2000, healthzOf(docker)) : undefined,
    running && !inputs.skipCpu ? docker.cpuPercent(plan.containerName).catch(() => undefined) : undefined,
    inputs.workspaceDir ? newestChange(inputs.workspaceDir) : undefined,
  ]);
  return {
    ...(container ? { container: { running: container.running, ...(container.startedAt ? { startedAt: container.startedAt } : {}) } } : {}),
    ...(healthz ? { healthz } : {}),
    ...(inputs.lastLlmCallAt ? { lastLlmCallAt: inputs.lastLlmCallAt } : {}),
    ...(percent !== undefined ? { cpu: { percent, at: new Date(), ...(inputs.cpuLastBusyAt ? { lastBusyAt: inputs.cpuLastBusyAt } : {}) } } : {}),
    ...(changed ? { workspaceChangedAt: changed } : {}),
  };
}
