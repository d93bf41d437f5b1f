// Docker Engine checks: reachable and new enough, its storage, and the
// sandbox image (present, or buildable from what is on the host).
import { existsSync, readFileSync, statfsSync } from "node:fs";
import { join } from "node:path";
import Docker from "dockerode";
import { versionAtLeast } from "../apisix/versions.ts";
import { swarmTargetOf } from "../config/swarmTarget.ts";
import { fail, ok, reason, warn, type Check, type DoctorContext } from "./check.ts";

/**
 * The oldest Engine API THON supports: Docker 20.10 (API 1.41), the oldest
 * engine still in the distributions' support windows; the Docker provider's
 * client negotiates the API version down to what the engine speaks.
 */
export const MIN_DOCKER_API = "1.41";

/** A workspace's planning figure for free disk (a participant's checkout, dependencies and build output). */
export const WORKSPACE_DISK_MIB = 1024;

/**
 * dockerode options for a docker host URL (unix:///path, tcp://host:port,
 * ssh://user@host[:port]: docker-modem dials `docker system dial-stdio` over
 * ssh2, with the private key given or the SSH agent).
 */
export function dockerOptions(dockerHost: string, ssh: { privateKey?: Buffer | string } = {}): Docker.DockerOptions {
  const url = new URL(dockerHost);
  if (url.protocol === "unix:") return { socketPath: url.pathname };
  if (url.protocol === "ssh:") {
    const auth = ssh.privateKey ? { privateKey: ssh.privateKey } : process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {};
    return { protocol: "ssh", host: url.hostname, port: Number(url.port || 22), username: decodeURIComponent(url.username || "root"), sshOptions: auth } as Docker.DockerOptions;
  }
  if (url.protocol === "tcp:" || url.protocol === "http:") return { host: url.hostname, port: Number(url.port || 2375), protocol: "http" };
  if (url.protocol === "https:") return { host: url.hostname, port: Number(url.port || 2376), protocol: "https" };
  throw new Error(`unsupported docker host ${dockerHost}`);
}

/** What the engine reports, for the checks after the first. */
export interface EngineFacts {
  readonly docker: Docker;
  readonly rootDir: string;
}

export async function checkEngine(ctx: DoctorContext): Promise<{ checks: Check[]; engine?: EngineFacts }> {
  const name = "Docker Engine";
  // A swarm's engine here is its manager's (target.dockerHost, as for local); the nodes are checked in swarm.ts.
  const swarm = swarmTargetOf(ctx.event);
  const target = swarm ? { kind: "local" as const, dockerHost: swarm.dockerHost } : ctx.event.target;
  if (target.kind === "ssh") {
    return { checks: [warn(name, `the target is ${target.user}@${target.host} over SSH; this host's engine is not the one used`, `run \`npx thon doctor\` on ${target.host}`)] };
  }
  const docker = new Docker({ ...dockerOptions(target.dockerHost), timeout: 5000 });
  let version: Docker.DockerVersion;
  let info: { Driver?: string; DockerRootDir?: string; [k: string]: unknown };
  try {
    version = await docker.version();
    info = (await docker.info()) as typeof info;
  } catch (err) {
    return {
      checks: [fail(name, `no engine answers at ${target.dockerHost} (${reason(err)})`, "start Docker (`systemctl start docker`), or set target.dockerHost in thon.yaml")],
    };
  }
  const checks: Check[] = [];
  if (!versionAtLeast(version.ApiVersion, MIN_DOCKER_API)) {
    checks.push(fail(name, `Docker ${version.Version} speaks API ${version.ApiVersion}; THON needs ${MIN_DOCKER_API} (Docker 20.10) or later`, "upgrade Docker Engine"));
  } else {
    checks.push(ok(name, `Docker ${version.Version} (API ${version.ApiVersion}) at ${target.dockerHost}`));
  }
  const rootDir = info.DockerRootDir ?? "/var/lib/docker";
  const driver = info.Driver ?? "unknown";
  checks.push(
    driver === "overlay2" || driver === "overlayfs"
      ? ok("Docker storage driver", driver)
      : warn("Docker storage driver", `${driver}: sandboxes start slower and use more disk than with overlay2`, "configure the overlay2 storage driver (daemon.json \"storage-driver\")"),
  );
  return { checks, engine: { docker, rootDir } };
}

async function imageSizeMiB(docker: Docker, image: string): Promise<number | undefined> {
  try {
    const inspected = await docker.getImage(image).inspect();
    return Math.ceil(inspected.Size / 2 ** 20);
  } catch {
    return undefined;
  }
}

/** The base images a Dockerfile starts FROM (stage names excluded). */
export function baseImages(dockerfile: string): string[] {
  const stages = new Set<string>();
  const bases: string[] = [];
  for (const line of dockerfile.split("\n")) {
    const m = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!m) continue;
    if (!stages.has(m[1]!.toLowerCase())) bases.push(m[1]!);
    if (m[2]) stages.add(m[2].toLowerCase());
  }
  return bases;
}

export async function checkImage(ctx: DoctorContext, engine: EngineFacts): Promise<Check> {
  const name = "Sandbox image";
  const { sandbox } = ctx.event;
  const size = await imageSizeMiB(engine.docker, sandbox.image);
  if (size !== undefined) return ok(name, `${sandbox.image} is present (${size} MiB)`);
  if (!sandbox.build) {
    return fail(name, `${sandbox.image} is not on this host, and pulling it needs the network`, `the day before, with internet: \`npx thon prepare\` (or \`docker pull ${sandbox.image}\`)`);
  }
  const file = join(sandbox.build.context, sandbox.build.dockerfile);
  if (!existsSync(file)) return fail(name, `${sandbox.image} is to be built from ${file}, which does not exist`, "fix sandbox.build in thon.yaml");
  const missing: string[] = [];
  for (const base of baseImages(readFileSync(file, "utf8"))) {
    if (base !== "scratch" && (await imageSizeMiB(engine.docker, base)) === undefined) missing.push(base);
  }
  if (missing.length > 0) {
    return fail(name, `${sandbox.image} is built from ${file}, whose base image${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} not on this host`, `the day before, with internet: \`npx thon prepare\` (or \`docker pull ${missing[0]}\`)`);
  }
  return ok(name, `${sandbox.image} will be built from ${file} at \`pulumi up\`; its base images are present (no network needed)`);
}

export async function checkDisk(ctx: DoctorContext, engine: EngineFacts): Promise<Check> {
  const name = "Free disk";
  let freeMiB: number;
  try {
    const s = statfsSync(engine.rootDir);
    freeMiB = Math.floor((s.bavail * s.bsize) / 2 ** 20);
  } catch (err) {
    return warn(name, `cannot read the free space of ${engine.rootDir} (${reason(err)})`, "run thon doctor on the engine's host, as root");
  }
  const { event } = ctx;
  const workspaces = event.workspace.mode === "ephemeral" ? 0 : event.participants.length;
  const image = (await imageSizeMiB(engine.docker, event.sandbox.image)) ?? 0;
  const imageNeeded = image === 0 ? 2048 : 0; // not there yet: room for a code-server image
  const need = workspaces * WORKSPACE_DISK_MIB + imageNeeded;
  const detail = `${freeMiB} MiB free in ${engine.rootDir}; ${workspaces} workspaces at ${WORKSPACE_DISK_MIB} MiB${imageNeeded ? " and the image" : ""} want ${need} MiB`;
  if (freeMiB < imageNeeded) return fail(name, detail, "free disk space for the image, or move Docker's data-root");
  if (freeMiB < need) return warn(name, detail, "free disk space, or use workspace.mode bind on a bigger disk");
  return ok(name, detail);
}
