// code-server's GET /healthz over the participant's unix socket (no TLS, no
// proxy): {"status":"alive"|"expired","lastHeartbeat":<epoch ms, 0 if never>}.
// /healthz itself does not count as activity (code-server src/node/routes/health.ts).
import { request } from "node:http";

export type Healthz =
  | { readonly reachable: true; readonly status: "alive" | "expired"; readonly lastHeartbeat: number }
  | { readonly reachable: false; readonly error: string };

/** The one /healthz probe; the idle scheduler (console/idle/healthz.ts) reads through it too. */
export function probeHealthz(socketPath: string, timeoutMs = 2000): Promise<Healthz> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: "/healthz", method: "GET", timeout: timeoutMs, headers: { Host: "localhost" } }, (res) => {
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
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ reachable: false, error: err.code ?? err.message }));
    req.end();
  });
}
