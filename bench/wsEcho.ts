// WebSocket echo round trips, in its own process: `connections` sockets each
// send a small message, wait for the echo, and send the next, for `seconds`.
// What a participant feels when typing: every keystroke is such a round trip
// on the editor's one WebSocket.
//
//   node --import tsx bench/wsEcho.ts '{"url": "wss://127.0.0.1:8443/alice/ws", "ca": "...", "connections": 1, "seconds": 5}'
import WebSocket from "ws";
import { report } from "./lib/child.ts";
import { quantile } from "./lib/stats.ts";

export interface EchoSpec {
  readonly url: string;
  /** PEM of the CA to trust (wss only). */
  readonly ca?: string;
  readonly connections: number;
  readonly seconds: number;
  /** Message size in bytes. */
  readonly bytes?: number;
}

export interface EchoResult {
  readonly roundTrips: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function open(spec: EchoSpec): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const url = new URL(spec.url);
    const ws = new WebSocket(spec.url, {
      ...(spec.ca ? { ca: spec.ca } : {}),
      // code-server compares Origin with Host; send what a browser on this page would.
      origin: `${url.protocol === "wss:" ? "https" : "http"}://${url.host}`,
      handshakeTimeout: 5_000,
      perMessageDeflate: false,
    });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

async function run(spec: EchoSpec): Promise<EchoResult> {
  const sockets = await Promise.all(Array.from({ length: spec.connections }, () => open(spec)));
  const payload = Buffer.alloc(spec.bytes ?? 32, "k");
  const samples: number[] = [];
  // A short warm-up on each socket (TLS session, nginx worker, JIT), not counted.
  const warmUntil = performance.now() + 300;
  const end = warmUntil + spec.seconds * 1000;
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve, reject) => {
          let sent = 0;
          const next = () => {
            sent = performance.now();
            ws.send(payload);
          };
          ws.on("message", () => {
            const now = performance.now();
            if (now > warmUntil) samples.push(now - sent);
            if (now < end) next();
            else resolve();
          });
          ws.once("error", reject);
          next();
        }),
    ),
  );
  for (const ws of sockets) ws.terminate();
  return {
    roundTrips: samples.length,
    perSecond: samples.length / spec.seconds,
    p50Ms: quantile(samples, 0.5),
    p99Ms: quantile(samples, 0.99),
  };
}

if (process.argv[2]) {
  report(await run(JSON.parse(process.argv[2]) as EchoSpec));
  process.exit(0);
}
