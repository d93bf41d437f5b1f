// What a swarm leaves on this host and how it goes: the record of each live
// swarm (/run/thon-swarm/<id>.json, naming its owner process), and the
// removal of one swarm's processes, namespaces, cgroups, mounts and folder,
// used by Swarm.close() and by the sweep of swarms whose owner died.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { killNetnsProcesses, must, netnsInode, run, sleep, startTime } from "./hostProcesses.ts";

/** Every name a swarm makes starts with this and its id: netns, cgroup parent. */
export const SWARM_PREFIX = "thon-sw-";
export const REGISTRY = "/run/thon-swarm";

export interface SwarmRecord {
  readonly id: string;
  readonly ownerPid: number;
  readonly ownerStart: string;
  readonly root: string;
  readonly netns: string[];
  readonly cgroupParents: string[];
}

/** Removes a cgroup subtree under every v1 controller (and the unified tree); only empty cgroups can go, so retried briefly. */
async function removeCgroups(parent: string, timeoutMs = 10_000): Promise<void> {
  const base = "/sys/fs/cgroup";
  const trees: string[] = [];
  for (const ctrl of readdirSync(base)) {
    const dir = join(base, ctrl, parent);
    if (existsSync(dir)) trees.push(dir);
  }
  if (existsSync(join(base, parent))) trees.push(join(base, parent));
  const removeTree = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(join(dir, e.name));
    rmdirSync(dir);
  };
  const deadline = Date.now() + timeoutMs;
  for (const dir of trees) {
    for (;;) {
      try {
        if (existsSync(dir)) removeTree(dir);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`swarm harness: cannot remove cgroup ${dir}: ${(err as Error).message}`);
        await sleep(100);
      }
    }
  }
}

function listCgroupParents(): string[] {
  const names = new Set<string>();
  for (const ctrl of readdirSync("/sys/fs/cgroup")) {
    try {
      for (const e of readdirSync(join("/sys/fs/cgroup", ctrl))) if (e.startsWith(SWARM_PREFIX)) names.add(e);
    } catch {
      // a file, not a controller
    }
  }
  return [...names];
}

/** Unmounts whatever is mounted under `root` in this (the host's) mount namespace, deepest first: the nodes' tmpfs data-roots. */
async function unmountUnder(root: string): Promise<void> {
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((p): p is string => p !== undefined && p.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
  for (const p of points) await must("umount", [p], { timeoutMs: 10_000 });
}

/** Removes what one swarm record names: processes, namespaces, cgroups, folders, the record. Every step runs; errors are collected. */
export async function removeRecorded(rec: SwarmRecord, log: (line: string) => void = () => undefined): Promise<string[]> {
  const errors: string[] = [];
  const step = async (what: string, fn: () => Promise<void> | void) => {
    const t0 = Date.now();
    try {
      await fn();
    } catch (err) {
      errors.push(`${what}: ${(err as Error).message}`);
    }
    if (Date.now() - t0 > 1_000) log(`swarm: ${what} took ${Date.now() - t0} ms`);
  };
  // Nodes first (their death frees the mounts and cgroups), the hub last.
  await Promise.all(rec.netns.map((ns) => step(`kill ${ns}`, () => killNetnsProcesses(ns))));
  for (const ns of rec.netns) {
    await step(`delete netns ${ns}`, async () => {
      if (netnsInode(ns) !== undefined) await must("ip", ["netns", "delete", ns], { timeoutMs: 10_000 });
    });
  }
  for (const cg of rec.cgroupParents) await step(`cgroup ${cg}`, () => removeCgroups(cg));
  await step(`mounts under ${rec.root}`, () => unmountUnder(rec.root));
  await step(`folder ${rec.root}`, () => rmSync(rec.root, { recursive: true, force: true, maxRetries: 3 }));
  await step("record", () => rmSync(join(REGISTRY, `${rec.id}.json`), { force: true }));
  return errors;
}

/**
 * Removes every swarm whose owning process is gone (a crashed or killed run):
 * recorded ones completely, and namespaces or cgroups named thon-sw-* that no
 * live record claims. Answers what it removed; never touches a live run's swarm.
 */
export async function sweepSwarms(log: (line: string) => void = () => undefined): Promise<string[]> {
  const removed: string[] = [];
  const live = new Set<string>();
  mkdirSync(REGISTRY, { recursive: true });
  for (const file of readdirSync(REGISTRY)) {
    if (!file.endsWith(".json")) continue;
    let rec: SwarmRecord;
    try {
      rec = JSON.parse(readFileSync(join(REGISTRY, file), "utf8")) as SwarmRecord;
    } catch {
      rmSync(join(REGISTRY, file), { force: true });
      continue;
    }
    if (startTime(rec.ownerPid) === rec.ownerStart) {
      live.add(rec.id);
      continue;
    }
    const errors = await removeRecorded(rec);
    removed.push(`swarm ${rec.id} (owner ${rec.ownerPid} gone)${errors.length ? `, with errors: ${errors.join("; ")}` : ""}`);
  }
  const idOf = (name: string) => name.slice(SWARM_PREFIX.length).split("-")[0]!;
  let netns: string[] = [];
  try {
    netns = readdirSync("/run/netns").filter((n) => n.startsWith(SWARM_PREFIX));
  } catch {
    // no namespaces at all
  }
  for (const ns of netns.filter((n) => !live.has(idOf(n))).sort((a, b) => Number(a.endsWith("-hub")) - Number(b.endsWith("-hub")))) {
    await killNetnsProcesses(ns).catch(() => undefined);
    await run("ip", ["netns", "delete", ns], { timeoutMs: 10_000 });
    removed.push(`netns ${ns}`);
  }
  for (const cg of listCgroupParents().filter((c) => !live.has(idOf(c)))) {
    await removeCgroups(cg, 2_000).then(
      () => removed.push(`cgroup ${cg}`),
      () => undefined,
    );
  }
  for (const line of removed) log(`swarm sweep: removed ${line}`);
  return removed;
}
