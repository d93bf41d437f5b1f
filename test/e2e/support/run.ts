// The e2e run's surroundings: its id, the image, the Docker CLI, timings
// and cleanup by label. scripts/e2e.sh sets the environment (it starts
// dockerd and builds the image first); these helpers fail with the command
// to run when it is missing.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";

const exec = promisify(execFile);

export const RUN_LABEL = "org.thon.e2e-run";
export const REPO = join(import.meta.dirname, "../../..");
export const RESULTS = join(REPO, "test-results");

/** Lower-case letters and digits, so it fits in THON names (user-<id>). */
export const runId: string = process.env.THON_E2E_RUN_ID ?? randomBytes(4).toString("hex").slice(0, 6);

export function requiredImage(): string {
  const image = process.env.THON_E2E_IMAGE;
  if (!image) throw new Error("THON_E2E_IMAGE is not set: run the suite with `npm run test:e2e` (scripts/e2e.sh builds the image and sets it)");
  return image;
}

export const dockerHost = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";

/** Runs the docker CLI against the same engine; bounded. */
export async function docker(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const child = exec("docker", args, { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, DOCKER_HOST: dockerHost } });
  if (opts.input !== undefined) {
    child.child.stdin?.end(opts.input);
  }
  const { stdout } = await child;
  return stdout.trim();
}

/** `docker exec` as the sandbox user; resolves with stdout and the exit code. */
export async function execIn(container: string, script: string, user = "1000:1000"): Promise<{ code: number; out: string }> {
  try {
    return { code: 0, out: await docker(["exec", "-u", user, container, "sh", "-c", script], { timeoutMs: 30_000 }) };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code === "number") return { code: e.code, out: `${e.stdout ?? ""}${e.stderr ?? ""}`.trim() };
    throw err;
  }
}

/** Removes every container, volume and image carrying this run's label; bounded, never throws. */
export async function cleanupRun(id = runId): Promise<string[]> {
  const done: string[] = [];
  const filter = `label=${RUN_LABEL}=${id}`;
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      done.push(`${what}: ${(err as Error).message.split("\n")[0]}`);
    }
  };
  await attempt("containers", async () => {
    const ids = (await docker(["ps", "-aq", "--filter", filter], { timeoutMs: 20_000 })).split("\n").filter(Boolean);
    if (ids.length) await docker(["rm", "-f", "-v", ...ids], { timeoutMs: 60_000 });
    done.push(`removed ${ids.length} containers`);
  });
  await attempt("volumes", async () => {
    const names = (await docker(["volume", "ls", "-q", "--filter", filter], { timeoutMs: 20_000 })).split("\n").filter(Boolean);
    if (names.length) await docker(["volume", "rm", "-f", ...names], { timeoutMs: 60_000 });
    done.push(`removed ${names.length} volumes`);
  });
  await attempt("networks", async () => {
    const ids = (await docker(["network", "ls", "-q", "--filter", filter], { timeoutMs: 20_000 })).split("\n").filter(Boolean);
    if (ids.length) await docker(["network", "rm", ...ids], { timeoutMs: 60_000 });
    done.push(`removed ${ids.length} networks`);
  });
  await attempt("images", async () => {
    const refs = (await docker(["images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", filter], { timeoutMs: 20_000 })).split("\n").filter(Boolean);
    if (refs.length) await docker(["rmi", ...refs], { timeoutMs: 60_000 });
    done.push(`removed ${refs.length} images`);
  });
  return done;
}

/** Adds facts to test-results/e2e-timing.json (read by scripts/e2e.sh for its summary). */
export function recordTiming(facts: Record<string, number | string>): void {
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, "e2e-timing.json");
  const old = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : {};
  writeFileSync(file, JSON.stringify({ ...old, ...facts }, null, 2) + "\n");
}
