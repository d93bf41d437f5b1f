// code-server's GET /healthz: {"status":"alive"|"expired","lastHeartbeat":<epoch ms, 0 if never>}.
// /healthz itself does not count as activity (code-server src/node/routes/health.ts).
// Read over the participant's unix socket on this host (no TLS, no proxy), or,
// on a Swarm target, through their node's nginx (./nodeHealthz.ts). Which one
// is a HealthzTransport that console/ops/backend.ts picks once by target.kind;
// live status, the idle signals and the wake all read through it.
import { request, type IncomingMessage } from "node:http";
import type { ParticipantPlan } from "../../infra/plan.ts";

export type Healthz =
  | { readonly reachable: true; readonly status: "alive" | "expired"; readonly lastHeartbeat: number }
  | { readonly reachable: false; readonly error: string };

/** The participant a transport reads: the socket on this host (local); the node and path (swarm, from the plan). */
export type HealthzSubject = Pick<ParticipantPlan, "socketHostPath"> & Partial<Pick<ParticipantPlan, "name" | "node" | "endpointPath">>;

/** How the console reaches one participant's /healthz; never throws (an error reads as unreachable). */
export type HealthzTransport = (p: HealthzSubject, timeoutMs?: number) => Promise<Healthz>;

/** The local transport: the participant's socket on this host. */
export const socketHealthz: HealthzTransport = (p, timeoutMs) => probeHealthz(p.socketHostPath, timeoutMs);

/** The transport a backend facet (SandboxDocker, IdleDocker) carries; absent: the local socket. */
export const healthzOf = (backend: { readonly healthz?: HealthzTransport }): HealthzTransport => backend.healthz ?? socketHealthz;

/** The one /healthz probe over a unix socket; the idle scheduler (console/idle/healthz.ts) reads through it too. */
export function probeHealthz(socketPath: string, timeoutMs = 2000): Promise<Healthz> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: "/healthz", method: "GET", timeout: timeoutMs, headers: { Host: "localhost" } }, (res) => readHealthzAnswer(res, resolve));
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ reachable: false, error: err.code ?? err.message }));
    req.end();
  });
}

/** Reads /healthz's answer off a response: code-server's JSON, or unreachable (another page, e.g. nginx's unavailable page, is no answer). */
export function readHealthzAnswer(res: IncomingMessage, resolve: (h: Healthz) => void): void {
  let body = "";
  res.setEncoding("utf8");
  res.on("data", (c: string) => (body += c));
  res.on("end", () => {
    try {
      const j = JSON.parse(body) as { status?: unknown; lastHeartbeat?: unknown };
      if ((j.status === "alive" || j.status === "expired") && typeof j.lastHeartbeat === "number") {
        resolve({ reachable: true, status: j.status, lastHeartbeat: j.lastHeartbeat });
      } else resolve({ reachable: false, error: `unexpected /healthz answer (HTTP ${res.statusCode})` });
    } catch {
      resolve({ reachable: false, error: `unexpected /healthz answer (HTTP ${res.statusCode})` });
    }
  });
  res.on("error", (err: NodeJS.ErrnoException) => resolve({ reachable: false, error: err.code ?? err.message }));
}
