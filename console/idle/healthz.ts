// code-server's GET /healthz for the idle scheduler, read through the one
// probe in console/ops/healthz.ts (no TLS, no proxy, no password: /healthz is
// open and does not count as activity, so reading it never keeps a sandbox awake).
import { probeHealthz } from "../ops/healthz.ts";
import type { HealthzReading } from "./decide.ts";

/** /healthz's answer, or undefined if code-server does not answer within `timeoutMs` (no socket, not listening yet, stopped). */
export async function readHealthz(socketPath: string, timeoutMs = 2000): Promise<HealthzReading | undefined> {
  const h = await probeHealthz(socketPath, timeoutMs);
  return h.reachable ? { status: h.status, lastHeartbeat: h.lastHeartbeat } : undefined;
}

/** Polls /healthz until code-server answers; the time it took in ms, or undefined at the deadline. */
export async function waitForHealthz(socketPath: string, timeoutMs: number, pollMs = 200): Promise<number | undefined> {
  const start = Date.now();
  for (;;) {
    const left = timeoutMs - (Date.now() - start);
    if (left <= 0) return undefined;
    if (await readHealthz(socketPath, Math.min(2000, left))) return Date.now() - start;
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, timeoutMs - (Date.now() - start)))));
  }
}
