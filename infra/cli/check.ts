// `thon check`: after `pulumi up`, is every participant's VS Code reachable?
// Reads the stack outputs (like `thon credentials`), asks each running
// participant's `<url>login` through the proxy, and reports who is up. TLS is
// verified: against the event CA from the outputs (`caCertPem`) when the
// stack has one, else against the system's roots (tls.mode provided).
import { request as httpsRequest } from "node:https";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { parseStackOutputs, type CredentialRow } from "./credentials.ts";

export interface CheckResult {
  readonly name: string;
  readonly group: string;
  readonly state: string;
  readonly url: string;
  /** The URL probed (`<url>login`); undefined when not probed. */
  readonly probed: string | undefined;
  readonly up: boolean;
  /** HTTP status when the proxy answered. */
  readonly status: number | undefined;
  /** What went wrong (HTTP status, TLS or connection error), or "stopped". */
  readonly detail: string;
  readonly ms: number;
}

export interface CheckOptions {
  /** Per request, ms (default 10 s). */
  readonly timeoutMs?: number;
  /** Requests at a time (default 16): a big event is checked quickly without a burst. */
  readonly concurrency?: number;
  /** PEM of the CA to trust instead of the event CA from the outputs. */
  readonly ca?: string;
}

export interface StackCheck {
  readonly results: readonly CheckResult[];
  /** Where the trust came from, for the report. */
  readonly trust: string;
  readonly down: number;
}

/** The event CA certificate from `pulumi stack output --json` (top-level `caCertPem`), if any. */
export function caFromOutputs(json: string): string | undefined {
  const outputs = JSON.parse(json) as Record<string, unknown>;
  const pem = outputs.caCertPem;
  if (pem === "[secret]") throw new Error("caCertPem is hidden; run with --show-secrets");
  return typeof pem === "string" && pem.includes("BEGIN CERTIFICATE") ? pem : undefined;
}

/** One GET; resolves with the status, or rejects with a message naming the error. */
function get(url: URL, ca: string | undefined, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      res.resume(); // the status is enough; drain the body
      resolve(res.statusCode ?? 0);
    };
    const options = { method: "GET", timeout: timeoutMs, headers: { "User-Agent": "thon-check", Accept: "text/html" } };
    const req =
      url.protocol === "https:"
        ? httpsRequest(url, { ...options, ...(ca ? { ca } : {}), rejectUnauthorized: true }, onResponse)
        : httpRequest(url, options, onResponse);
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err: NodeJS.ErrnoException) => {
      // TLS errors carry a code such as UNABLE_TO_VERIFY_LEAF_SIGNATURE or ERR_TLS_CERT_ALTNAME_INVALID.
      reject(new Error(err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message));
    });
    req.end();
  });
}

async function probe(row: CredentialRow, ca: string | undefined, timeoutMs: number): Promise<CheckResult> {
  const base = { name: row.name, group: row.group, state: row.state, url: row.url };
  if (row.state === "stopped") return { ...base, probed: undefined, up: false, status: undefined, detail: "stopped (not probed)", ms: 0 };
  let target: URL;
  try {
    target = new URL("login", row.url.endsWith("/") ? row.url : `${row.url}/`);
  } catch {
    return { ...base, probed: undefined, up: false, status: undefined, detail: `not a URL: ${row.url}`, ms: 0 };
  }
  const t0 = Date.now();
  try {
    const status = await get(target, ca, timeoutMs);
    // code-server's login page is 200; with auth none it redirects (3xx). 404
    // means the proxy has no location for the participant, 502 that it has
    // one but the sandbox's socket does not answer.
    const up = status >= 200 && status < 400;
    return { ...base, probed: target.href, up, status, detail: up ? `HTTP ${status}` : `HTTP ${status}${HINTS[status] ?? ""}`, ms: Date.now() - t0 };
  } catch (err) {
    return { ...base, probed: target.href, up: false, status: undefined, detail: (err as Error).message, ms: Date.now() - t0 };
  }
}

const HINTS: Record<number, string> = {
  404: " (the proxy has no location for this participant: was `pulumi up` run after adding them?)",
  502: " (the proxy cannot reach the sandbox: is the container running? `docker ps -a --filter label=org.thon.user=<name>`)",
  504: " (the sandbox did not answer in time)",
};

/** Probes every participant in the stack outputs. */
export async function checkStack(outputsJson: string, opts: CheckOptions = {}): Promise<StackCheck> {
  const creds = parseStackOutputs(outputsJson);
  const fromOutputs = caFromOutputs(outputsJson);
  const ca = opts.ca ?? fromOutputs;
  const trust = opts.ca ? "the CA given with --ca" : fromOutputs ? "the event CA from the stack outputs (caCertPem)" : "the system's trusted roots";
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const rows = [...creds.rows];
  const results: CheckResult[] = new Array(rows.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < rows.length; i = next++) results[i] = await probe(rows[i]!, ca, timeoutMs);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 16, rows.length)) }, worker));
  return { results, trust, down: results.filter((r) => !r.up && r.state !== "stopped").length };
}

export function formatCheck(check: StackCheck): string {
  const rows = check.results.map((r) => [r.up ? "up" : r.state === "stopped" ? "stopped" : "DOWN", r.name, r.group, r.url, r.detail]);
  const header = ["", "NAME", "GROUP", "URL", "RESULT"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  const running = check.results.filter((r) => r.state !== "stopped").length;
  const summary =
    check.down === 0
      ? `all ${running} running participants are up (TLS verified with ${check.trust})`
      : `${check.down} of ${running} running participants are DOWN (TLS verified with ${check.trust})`;
  return [line(header), ...rows.map(line), "", summary, ""].join("\n");
}
