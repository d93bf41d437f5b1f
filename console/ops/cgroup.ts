// Memory and CPU of a container read from its cgroup files, when the console
// runs on the Docker host (the local target). The Engine API's stats answer
// at once only the first time: while its collector runs, even a one-shot
// request waits for the next 1 s tick, which would make one status refresh
// take a second. cgroup v2 (cgroupfs or systemd driver) and v1 are read;
// anything else falls back to the Engine API (docker.ts).
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { ContainerSample } from "./docker.ts";

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

const statField = (text: string | undefined, key: string): number | undefined => {
  const m = text ? new RegExp(`^${key} (\\d+)$`, "m").exec(text) : null;
  return m ? Number(m[1]) : undefined;
};

const UNLIMITED = 2 ** 60; // v1 says 9223372036854771712 for "no limit"

/** One sample, or undefined when this host has no cgroup folder for the container. */
export function cgroupSample(id: string, root = "/sys/fs/cgroup", now = process.hrtime.bigint()): ContainerSample | undefined {
  const cpus = availableParallelism();
  // Wall time times CPUs as the "system" base: docker's formula then gives 100% per busy CPU, as `docker stats` shows.
  const system = Number(now) * cpus;
  for (const dir of [`${root}/docker/${id}`, `${root}/system.slice/docker-${id}.scope`]) {
    const current = read(`${dir}/memory.current`);
    if (current === undefined) continue;
    const stat = read(`${dir}/memory.stat`);
    const max = read(`${dir}/memory.max`)?.trim();
    const usage = statField(read(`${dir}/cpu.stat`), "usage_usec") ?? 0;
    return {
      memoryUsed: Math.max(0, Number(current) - (statField(stat, "inactive_file") ?? 0)),
      memoryLimit: max && max !== "max" ? Number(max) : 0,
      cpuTotal: usage * 1000,
      systemCpu: system,
      onlineCpus: cpus,
    };
  }
  for (const mem of [`${root}/memory/docker/${id}`, `${root}/memory/system.slice/docker-${id}.scope`]) {
    const usage = read(`${mem}/memory.usage_in_bytes`);
    if (usage === undefined) continue;
    const limit = Number(read(`${mem}/memory.limit_in_bytes`) ?? 0);
    const cpuDir = mem.replace(`${root}/memory/`, `${root}/cpuacct/`);
    const cpu = read(`${cpuDir}/cpuacct.usage`) ?? read(`${cpuDir.replace("/cpuacct/", "/cpu,cpuacct/")}/cpuacct.usage`);
    return {
      memoryUsed: Math.max(0, Number(usage) - (statField(read(`${mem}/memory.stat`), "total_inactive_file") ?? 0)),
      memoryLimit: limit >= UNLIMITED ? 0 : limit,
      cpuTotal: Number(cpu ?? 0),
      systemCpu: system,
      onlineCpus: cpus,
    };
  }
  return undefined;
}
