// Can this host limit a workspace's size? Docker's local volume driver takes
// a `size` option (sandbox.workspaceSize) only where the volumes folder is on
// XFS mounted with project quotas (pquota/prjquota): moby/moby#41330. On any
// other filesystem, creating such a volume fails, so `thon doctor` says so
// before `pulumi up` does. The decision is pure (facts in, verdict out);
// readWorkspaceQuotaFacts gathers the facts on the local target.
import { readFileSync } from "node:fs";

export interface WorkspaceQuotaFacts {
  /** `docker info`: DockerRootDir (volumes live in <root>/volumes). */
  readonly dockerRootDir: string;
  /** `/proc/mounts` of the Docker host. */
  readonly mounts: string;
}

export interface WorkspaceQuotaVerdict {
  readonly supported: boolean;
  /** The mount holding the volumes folder, its filesystem and options (for the message). */
  readonly mountPoint?: string;
  readonly message: string;
}

/** Undoes /proc/mounts' octal escapes (\040 for a space). */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function workspaceQuotaSupport(facts: WorkspaceQuotaFacts): WorkspaceQuotaVerdict {
  const volumes = `${facts.dockerRootDir.replace(/\/+$/, "")}/volumes`;
  let best: { point: string; fs: string; options: string[] } | undefined;
  for (const line of facts.mounts.split("\n")) {
    const [, point, fs, options] = line.split(" ");
    if (!point || !fs || !options) continue;
    const p = unescape(point);
    const covers = p === "/" || volumes === p || volumes.startsWith(`${p}/`);
    if (covers && (!best || p.length >= best.point.length)) best = { point: p, fs, options: options.split(",") };
  }
  if (!best) return { supported: false, message: `no mount found for ${volumes}; sandbox.workspaceSize cannot be checked` };
  const where = `${volumes} is on ${best.point} (${best.fs}, ${best.options.join(",")})`;
  if (best.fs !== "xfs") {
    return { supported: false, mountPoint: best.point, message: `${where}: workspace size limits need XFS with project quotas. Leave sandbox.workspaceSize unset, or move Docker's data root to an XFS filesystem mounted with pquota` };
  }
  if (!best.options.some((o) => o === "prjquota" || o === "pquota" || o === "pqnoenforce")) {
    return { supported: false, mountPoint: best.point, message: `${where}: XFS without project quotas. Mount it with pquota (for the root filesystem: rootflags=pquota on the kernel command line), or leave sandbox.workspaceSize unset` };
  }
  return { supported: true, mountPoint: best.point, message: `${where}: sandbox.workspaceSize can be enforced` };
}

/** The facts on this machine (local target): Docker's data root from the engine, mounts from /proc. */
export async function readWorkspaceQuotaFacts(dockerSocket = "/var/run/docker.sock"): Promise<WorkspaceQuotaFacts> {
  const { default: Docker } = await import("dockerode");
  const info = (await new Docker({ socketPath: dockerSocket }).info()) as { DockerRootDir?: string };
  return { dockerRootDir: info.DockerRootDir ?? "/var/lib/docker", mounts: readFileSync("/proc/mounts", "utf8") };
}

/** For `thon doctor`: the verdict on this machine. */
export async function checkWorkspaceQuota(dockerSocket?: string): Promise<WorkspaceQuotaVerdict> {
  return workspaceQuotaSupport(await readWorkspaceQuotaFacts(dockerSocket));
}
