// The backend of the proxy benchmark, in its own process: one node HTTP
// server that answers a small static response and echoes WebSocket
// messages, listening on a unix socket (what nginx reaches, as it reaches
// code-server) and on a loopback TCP port (what the "direct" client uses; wrk
// cannot speak to a unix socket). Same handler on both.
//
//   node --import tsx bench/proxyBackend.ts '{"socket": "/path.sock", "port": 0}'
// prints {"port": N} once both listen; stops on SIGTERM.
import { chmodSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { WebSocketServer } from "ws";

export interface BackendSpec {
  readonly socket: string;
  /** 0: any free loopback port. */
  readonly port: number;
}

/** The static response: about the size of a small JSON answer. */
export const BODY = "hello from the sandbox\n";

function serve(): Server {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(BODY) });
    res.end(BODY);
  });
  // Connections the client keeps alive stay open (node's default closes idle ones after 5 s).
  server.keepAliveTimeout = 60_000;
  const wss = new WebSocketServer({ server });
  wss.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
  return server;
}

if (process.argv[2]) {
  const spec = JSON.parse(process.argv[2]) as BackendSpec;
  rmSync(spec.socket, { force: true });
  const onSocket = serve();
  const onPort = serve();
  await new Promise<void>((resolve, reject) => {
    onSocket.once("error", reject);
    onSocket.listen(spec.socket, () => resolve());
  });
  // code-server --socket-mode 660: the owner and the folder's (setgid) group, nginx's workers.
  chmodSync(spec.socket, 0o660);
  const port = await new Promise<number>((resolve, reject) => {
    onPort.once("error", reject);
    onPort.listen(spec.port, "127.0.0.1", () => resolve((onPort.address() as { port: number }).port));
  });
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.on("SIGTERM", () => {
    onSocket.close();
    onPort.close();
    rmSync(spec.socket, { force: true });
    process.exit(0);
  });
}
