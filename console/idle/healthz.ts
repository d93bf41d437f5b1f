// code-server's GET /healthz, read over the participant's unix socket (no
// TLS, no proxy, no password: /healthz is open and does not count as
// activity, so reading it never keeps a sandbox awake). node:http is enough
// for one GET on a socket; a client library would add nothing.
import { request } from "node:http";
import type { HealthzReading } from "./decide.ts";

/** /healthz's answer, or undefined if code-server does not answer within `timeoutMs` (no socket, not listening yet, stopped). */
export function readHealthz(socketPath: string, timeoutMs = 2000): Promise<HealthzReading | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: "/healthz", method: "GET", timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        try {
          const parsed = JSON.parse(body) as { status?: unknown; lastHeartbeat?: unknown };
          if ((parsed.status === "alive" || parsed.status === "expired") && typeof parsed.lastHeartbeat === "number") {
            resolve({ status: parsed.status, lastHeartbeat: parsed.lastHeartbeat });
          } else resolve(undefined);
        } catch {
          resolve(undefined);
        }
      });
      res.on("error", () => resolve(undefined));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.end();
  });
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
