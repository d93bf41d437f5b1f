// Stand-in for code-server's health route on its unix socket
// (code-server src/node/routes/health.ts): GET /healthz answers
// {"status":"alive"|"expired","lastHeartbeat":<epoch ms>} and does not count
// as activity; any other path redirects to the login page, as code-server
// does for a client without a session. It records the paths it was asked
// for, so a test sees what a proxy in front of it passed on.
import { mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { dirname } from "node:path";

export interface HealthzAnswer {
  status: "alive" | "expired";
  lastHeartbeat: number;
}

export interface CodeServerHealthzStandIn {
  /** What /healthz answers; change it to change the next answer. */
  readonly answer: HealthzAnswer;
  /** Every request's URL, in order. */
  readonly urls: readonly string[];
  close(): Promise<void>;
}

export async function startCodeServerHealthz(socketPath: string, answer: HealthzAnswer): Promise<CodeServerHealthzStandIn> {
  const urls: string[] = [];
  const server = createServer((req, res) => {
    urls.push(req.url ?? "");
    if (req.method === "GET" && req.url === "/healthz") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(answer));
    } else res.writeHead(302, { Location: "./login" }).end();
  });
  mkdirSync(dirname(socketPath), { recursive: true });
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  let closed: Promise<void> | undefined;
  return {
    answer,
    urls,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}
