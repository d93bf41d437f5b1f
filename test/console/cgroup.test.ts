// Memory and CPU from cgroup files (console/ops/cgroup.ts), on trees laid out
// as cgroup v2 (cgroupfs and systemd drivers) and v1 write them; the e2e run
// reads the real host's.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cgroupSample } from "../../console/ops/cgroup.ts";

let root: string | undefined;
afterEach(() => root && rmSync(root, { recursive: true, force: true }));

const files = (dir: string, f: Record<string, string>) => {
  mkdirSync(dir, { recursive: true });
  for (const [k, v] of Object.entries(f)) writeFileSync(join(dir, k), v);
};

describe("cgroupSample", () => {
  it("v2, systemd driver: memory.current minus inactive_file, memory.max, cpu.stat usage_usec", () => {
    root = mkdtempSync(join(tmpdir(), "cg-"));
    files(join(root, "system.slice", "docker-abc.scope"), { "memory.current": "1000000\n", "memory.stat": "anon 1\ninactive_file 200000\n", "memory.max": "2000000\n", "cpu.stat": "usage_usec 1500\nuser_usec 1000\n" });
    expect(cgroupSample("abc", root, 10n)).toMatchObject({ memoryUsed: 800000, memoryLimit: 2000000, cpuTotal: 1500000 });
  });
  it("v2 without a limit, cgroupfs driver", () => {
    root = mkdtempSync(join(tmpdir(), "cg-"));
    files(join(root, "docker", "abc"), { "memory.current": "5", "memory.stat": "", "memory.max": "max\n", "cpu.stat": "usage_usec 0\n" });
    expect(cgroupSample("abc", root)).toMatchObject({ memoryUsed: 5, memoryLimit: 0 });
  });
  it("v1: usage_in_bytes minus total_inactive_file, cpuacct.usage in ns; the unlimited value reads as no limit", () => {
    root = mkdtempSync(join(tmpdir(), "cg-"));
    files(join(root, "memory", "docker", "abc"), { "memory.usage_in_bytes": "3000", "memory.stat": "cache 1\ntotal_inactive_file 1000\n", "memory.limit_in_bytes": "9223372036854771712" });
    files(join(root, "cpuacct", "docker", "abc"), { "cpuacct.usage": "777" });
    expect(cgroupSample("abc", root)).toMatchObject({ memoryUsed: 2000, memoryLimit: 0, cpuTotal: 777 });
  });
  it("no folder for the container: undefined (the Engine API answers instead)", () => {
    root = mkdtempSync(join(tmpdir(), "cg-"));
    expect(cgroupSample("nope", root)).toBeUndefined();
  });
});
