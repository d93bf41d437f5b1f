// Debian tools the benchmarks drive (wrk, nginx, openssl): installed when
// missing and we are root, as scripts/ensure-tools.sh does for the tests, so
// `npm run bench` works on a fresh machine.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

function has(command: string): boolean {
  if (spawnSync("sh", ["-c", `command -v ${command}`]).status === 0) return true;
  return ["/usr/sbin", "/usr/bin", "/sbin"].some((dir) => existsSync(`${dir}/${command}`));
}

/** Installs the packages whose command is missing; throws with the fix when that is not possible. */
export function ensureTools(wanted: Readonly<Record<string, string>>): void {
  const missing = Object.entries(wanted).filter(([command]) => !has(command));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map(([, pkg]) => pkg))];
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${missing.map(([c]) => c).join(", ")}. Fix: apt-get install -y ${packages.join(" ")} (as root), then run the benchmark again`);
  }
  process.stdout.write(`[tools] installing ${packages.join(" ")}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  // Another install may hold the dpkg lock: wait for it rather than fail.
  execFileSync("apt-get", ["update", "-qq"], { env, stdio: ["ignore", "ignore", "inherit"] });
  execFileSync("apt-get", ["-o", "DPkg::Lock::Timeout=300", "install", "-y", "-qq", "--no-install-recommends", ...packages], { env, stdio: ["ignore", "ignore", "inherit"] });
}
