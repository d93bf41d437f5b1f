// HTTP and WebSocket clients for code-server: on its unix socket, and
// through the proxy over TLS trusting the event CA only.
import { request, type ClientRequest, type IncomingMessage } from "node:http";
import { request as tlsRequest } from "node:https";
import WebSocket from "ws";

export interface HttpReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs?: number;
}

/** Sends one request made by `open` (with `opts`' method, path, headers, body and timeout) and reads the whole reply. */
function exchange(
  where: string,
  opts: RequestOptions,
  open: (common: RequestOptions & { headers: Record<string, string> }, onReply: (res: IncomingMessage) => void) => ClientRequest,
): Promise<HttpReply> {
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  const method = opts.method ?? "GET";
  const path = opts.path ?? "/";
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const req = open({ method, path, timeoutMs, headers: { ...(body ? { "Content-Length": String(body.length) } : {}), ...opts.headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${where}${path}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

/** An HTTP request to code-server on its unix socket. */
export function unixHttp(socketPath: string, opts: RequestOptions = {}): Promise<HttpReply> {
  return exchange(`${socketPath} `, opts, (c, onReply) =>
    request({ socketPath, method: c.method, path: c.path, headers: { Host: "localhost", ...c.headers }, timeout: c.timeoutMs }, onReply),
  );
}

/** Polls code-server's /healthz on the socket until it answers 200, or fails after `timeoutMs`. */
export async function waitHealthy(socketPath: string, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  let last = "";
  while (Date.now() - t0 < timeoutMs) {
    try {
      const r = await unixHttp(socketPath, { path: "/healthz", timeoutMs: 2_000 });
      if (r.status === 200) return Date.now() - t0;
      last = `HTTP ${r.status}`;
    } catch (err) {
      last = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`code-server on ${socketPath} not healthy after ${timeoutMs} ms (last: ${last})`);
}

/** The session cookie from code-server's `POST /login`, or undefined when it refused the password. */
export async function login(socketPath: string, password: string): Promise<{ reply: HttpReply; cookie: string | undefined }> {
  const reply = await unixHttp(socketPath, {
    method: "POST",
    path: "/login",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ password }).toString(),
  });
  const set = reply.headers["set-cookie"];
  const cookies = (Array.isArray(set) ? set : set ? [set] : []).map((c) => c.split(";")[0]!);
  const session = cookies.find((c) => c.startsWith("code-server-session=") && c.length > "code-server-session=".length);
  return { reply, cookie: session };
}

/** Opens a WebSocket on the socket; resolves with the status code of the handshake (101 when upgraded). */
export function wsHandshake(socketPath: string, path: string, headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${socketPath}:${path}`, { headers: { Host: "localhost", ...headers }, handshakeTimeout: timeoutMs });
    ws.on("upgrade", (res) => resolve(res.statusCode ?? 0));
    ws.on("open", () => ws.close());
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on("error", (err) => reject(err));
  });
}

/**
 * An HTTPS request to 127.0.0.1:`port` trusting `ca` only (no system roots
 * are consulted when `ca` is given); a fresh connection each time.
 */
export function httpsLoopback(port: number, opts: RequestOptions & { ca: string | undefined }): Promise<HttpReply> {
  return exchange(`https://127.0.0.1:${port}`, opts, (c, onReply) =>
    tlsRequest(
      {
        host: "127.0.0.1",
        port,
        method: c.method,
        path: c.path,
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
        rejectUnauthorized: true,
        agent: false,
        headers: c.headers,
        timeout: c.timeoutMs,
      },
      onReply,
    ),
  );
}

/** The session cookie from `POST <prefix>login` through the proxy. */
export async function loginTls(port: number, prefix: string, ca: string, password: string): Promise<{ reply: HttpReply; cookie: string | undefined }> {
  const reply = await httpsLoopback(port, {
    ca,
    method: "POST",
    path: `${prefix}login`,
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: `https://127.0.0.1:${port}` },
    body: new URLSearchParams({ password }).toString(),
  });
  const set = reply.headers["set-cookie"];
  const cookies = (Array.isArray(set) ? set : set ? [set] : []).map((c) => c.split(";")[0]!);
  return { reply, cookie: cookies.find((c) => c.startsWith("code-server-session=") && c.length > "code-server-session=".length) };
}

/** A WebSocket handshake through the proxy over TLS (trusting `ca` only); resolves with the status (101 when upgraded). */
export function wssHandshake(port: number, path: string, ca: string, headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, { ca, headers, origin: `https://127.0.0.1:${port}`, handshakeTimeout: timeoutMs });
    ws.on("upgrade", (res) => resolve(res.statusCode ?? 0));
    ws.on("open", () => ws.close());
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on("error", (err) => reject(err));
  });
}
