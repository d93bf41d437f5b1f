// What the figures were measured on, for the results file and docs/performance.md.
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { execFileSync } from "node:child_process";

export interface HostInfo {
  readonly date: string;
  readonly cores: number;
  readonly memGiB: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly kernel: string;
}

export function hostInfo(): HostInfo {
  let kernel = "";
  try {
    kernel = execFileSync("uname", ["-r"], { encoding: "utf8" }).trim();
  } catch {
    kernel = "unknown";
  }
  return {
    date: new Date().toISOString().slice(0, 10),
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    node: process.version,
    kernel,
  };
}

/** The 1-minute load average: other work on the host skews wall times; each section prints it. */
export function load(): string {
  const [one] = loadavg();
  return `load ${one!.toFixed(1)}, ${Math.round(freemem() / 2 ** 30)} GiB free`;
}
