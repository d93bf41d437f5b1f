// A small Docker Engine API client over the engine's unix socket (node:http,
// no library): the calls the Docker provider makes for the resources THON
// declares, plus what the e2e suite inspects. Every error names the engine,
// the call, the HTTP status and the engine's message.
import { request } from "node:http";

export class EngineError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

export interface EngineResponse {
  readonly status: number;
  readonly body: Buffer;
  json<T = unknown>(): T;
}

/** The socket path of a Docker host URL such as unix:///var/run/docker.sock. */
export function socketPathOf(dockerHost: string): string {
  const m = /^unix:\/\/(\/.+)$/.exec(dockerHost);
  if (!m) {
    throw new Error(`docker host "${dockerHost}": the e2e engine client speaks to unix:// sockets only (use target.dockerHost: unix:///path/to/docker.sock)`);
  }
  return m[1]!;
}

export class DockerApi {
  constructor(
    readonly socketPath: string,
    /** Bound for each call, in ms. */
    readonly timeoutMs = 120_000,
  ) {}

  raw(method: string, path: string, body?: Buffer | string | object, headers: Record<string, string> = {}): Promise<EngineResponse> {
    let payload: Buffer | undefined;
    const h: Record<string, string> = { Host: "docker", ...headers };
    if (Buffer.isBuffer(body)) payload = body;
    else if (typeof body === "string") payload = Buffer.from(body);
    else if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body));
      h["Content-Type"] = "application/json";
    }
    if (payload) h["Content-Length"] = String(payload.length);
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, method, path, headers: h, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const buf = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, body: buf, json: <T>() => JSON.parse(buf.toString("utf8")) as T });
        });
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new EngineError(`Docker engine at ${this.socketPath}: ${method} ${path} took longer than ${this.timeoutMs} ms`, undefined)));
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (err instanceof EngineError) return reject(err);
        reject(
          new EngineError(
            `Docker engine at ${this.socketPath}: ${method} ${path} failed (${err.code ?? err.message}). Is dockerd running? Start it with scripts/start-dockerd.sh`,
            undefined,
          ),
        );
      });
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** A call that must answer with one of `ok` (default: any 2xx). */
  async call<T = unknown>(method: string, path: string, body?: Buffer | string | object, opts: { ok?: number[]; headers?: Record<string, string> } = {}): Promise<T> {
    const res = await this.raw(method, path, body, opts.headers);
    const ok = opts.ok ? opts.ok.includes(res.status) : res.status >= 200 && res.status < 300;
    if (!ok) {
      let message = res.body.toString("utf8").trim();
      try {
        message = (JSON.parse(message) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new EngineError(`Docker engine at ${this.socketPath}: ${method} ${path} answered HTTP ${res.status}: ${message}`, res.status);
    }
    if (res.body.length === 0) return undefined as T;
    const type = res.body.subarray(0, 1).toString();
    return (type === "{" || type === "[" ? res.json<T>() : (res.body.toString("utf8") as T));
  }

  /** GET that answers undefined on 404. */
  async inspect<T = Record<string, unknown>>(path: string): Promise<T | undefined> {
    const res = await this.raw("GET", path);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new EngineError(`Docker engine at ${this.socketPath}: GET ${path} answered HTTP ${res.status}: ${res.body.toString("utf8").trim()}`, res.status);
    return res.json<T>();
  }
}

export const q = (params: Record<string, string | number | boolean | undefined>): string => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined) as [string, string | number | boolean][];
  return entries.length ? "?" + entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join("&") : "";
};
