// code-server's GET /healthz for the idle scheduler, read through the
// backend's transport (console/ops/healthz.ts: the socket on this host, or the
// node's nginx on a swarm). No password: /healthz is open and does not count
// as activity, so reading it never keeps a sandbox awake.
import { socketHealthz, type HealthzSubject, type HealthzTransport } from "../ops/healthz.ts";
import type { HealthzReading } from "./decide.ts";

/** A socket path on this host, or a participant's plan for the transport. */
export type HealthzTarget = string | HealthzSubject;

const subject = (t: HealthzTarget): HealthzSubject => (typeof t === "string" ? { socketHostPath: t } : t);

/** /healthz's answer, or undefined if code-server does not answer within `timeoutMs` (no socket, not listening yet, stopped, node unreachable). */
export async function readHealthz(target: HealthzTarget, timeoutMs = 2000, transport: HealthzTransport = socketHealthz): Promise<HealthzReading | undefined> {
  const h = await transport(subject(target), timeoutMs);
  return h.reachable ? { status: h.status, lastHeartbeat: h.lastHeartbeat } : undefined;
}

/** Polls /healthz until code-server answers; the time it took in ms, or undefined at the deadline. */
export async function waitForHealthz(target: HealthzTarget, timeoutMs: number, pollMs = 200, transport: HealthzTransport = socketHealthz): Promise<number | undefined> {
  const start = Date.now();
  for (;;) {
    const left = timeoutMs - (Date.now() - start);
    if (left <= 0) return undefined;
    if (await readHealthz(target, Math.min(2000, left), transport)) return Date.now() - start;
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, timeoutMs - (Date.now() - start)))));
  }
}
