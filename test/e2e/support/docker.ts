// The Docker Engine API for the e2e suite and the benchmarks, through
// dockerode over the engine's unix socket, plus the two things the suite adds:
// a 404 read as "absent", and error messages that name the engine and the call.
import { PassThrough } from "node:stream";
import Docker from "dockerode";

export type { Docker };

/** The socket path of a Docker host URL such as unix:///var/run/docker.sock. */
export function socketPathOf(dockerHost: string): string {
  const m = /^unix:\/\/(\/.+)$/.exec(dockerHost);
  if (!m) {
    throw new Error(`docker host "${dockerHost}": the e2e engine client speaks to unix:// sockets only (use target.dockerHost: unix:///path/to/docker.sock)`);
  }
  return m[1]!;
}

/** A client for the engine at `socketPath`; each call bounded by `timeoutMs`. */
export function dockerAt(socketPath: string, timeoutMs = 120_000): Docker {
  return new Docker({ socketPath, timeout: timeoutMs });
}

export class EngineError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

interface ModemError {
  readonly statusCode?: number;
  readonly json?: { message?: string } | null;
  readonly code?: string;
  readonly message: string;
}

const socketOf = (docker: Docker) => (docker.modem as unknown as { socketPath?: string }).socketPath ?? "(default)";

/**
 * Runs one engine call. Statuses in `ok` (e.g. 304 "already started", 404
 * "already gone") count as success and answer undefined; any other failure
 * becomes an EngineError naming the engine, the call and the engine's message.
 */
export async function engineCall<T>(docker: Docker, what: string, call: () => Promise<T>, ok: readonly number[] = []): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    const e = err as ModemError;
    if (e.statusCode !== undefined && ok.includes(e.statusCode)) return undefined;
    const at = `Docker engine at ${socketOf(docker)}: ${what}`;
    if (e.statusCode === undefined) {
      throw new EngineError(`${at} failed (${e.code ?? e.message}). Is dockerd running? Start it with scripts/start-dockerd.sh`, undefined);
    }
    throw new EngineError(`${at} answered HTTP ${e.statusCode}: ${e.json?.message ?? e.message}`, e.statusCode);
  }
}

/** Like engineCall, for reads: undefined when the object does not exist (404). */
export function inspectOrAbsent<T>(docker: Docker, what: string, call: () => Promise<T>): Promise<T | undefined> {
  return engineCall(docker, what, call, [404]);
}

/** A call that must succeed (its result is never undefined). */
export async function mustCall<T>(docker: Docker, what: string, call: () => Promise<T>): Promise<T> {
  return (await engineCall(docker, what, call)) as T;
}

/** The last `tail` lines of a container's log, stdout and stderr (dockerode's demultiplexer). */
export async function containerLogs(docker: Docker, id: string, tail = 50): Promise<string> {
  const raw = await mustCall(docker, `logs of ${id}`, () => docker.getContainer(id).logs({ stdout: true, stderr: true, tail, follow: false }));
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const source = new PassThrough();
  docker.modem.demuxStream(source, out, out);
  await new Promise<void>((resolve) => {
    source.on("end", resolve);
    source.end(raw);
  });
  return Buffer.concat(chunks).toString("utf8");
}
