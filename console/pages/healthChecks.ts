// The health page's checks, in the style of Coder's /health: each item is
// ok, warn or fail, says what it saw and, when not ok, the fix. Every check
// runs on its own with a time bound, so one hanging server does not hold the
// page.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, statfsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { connect, type PeerCertificate } from "node:tls";
import { promisify } from "node:util";
import type { OpServices } from "../ops/context.ts";

export type HealthStatus = "ok" | "warn" | "fail";

export interface HealthItem {
  readonly id: string;
  readonly name: string;
  readonly status: HealthStatus;
  readonly detail: string;
  readonly fix?: string;
}

export type HealthCheck = (s: OpServices) => Promise<HealthItem | readonly HealthItem[]>;

const exec = promisify(execFile);
const DAY = 86_400_000;

export const dockerCheck: HealthCheck = async (s) => {
  try {
    const listed = await s.docker.list(s.project.event().name);
    return { id: "docker", name: "Docker", status: "ok", detail: `the Engine API answers; ${listed.length} sandbox container${listed.length === 1 ? "" : "s"}` };
  } catch (err) {
    return { id: "docker", name: "Docker", status: "fail", detail: `the Engine API does not answer: ${(err as Error).message}`, fix: "start it (sudo systemctl start docker) and check the console may use /var/run/docker.sock (docker group)" };
  }
};

/** nginx and its certificate in one TLS handshake on the host's HTTPS port (loopback, with the event's host name). */
export function proxyChecks(o: { host?: string; port?: number; now?: () => number } = {}): HealthCheck {
  return async (s) => {
    const event = s.project.event();
    const port = o.port ?? event.proxy.httpsPort;
    const servername = event.host;
    const cert = await new Promise<{ ok: true; cert: PeerCertificate } | { ok: false; error: string }>((resolve) => {
      const sock = connect({ host: o.host ?? "127.0.0.1", port, servername: /^[\d.:]+$/.test(servername) ? undefined : servername, rejectUnauthorized: false, timeout: 2000 }, () => {
        resolve({ ok: true, cert: sock.getPeerCertificate() });
        sock.end();
      });
      sock.on("timeout", () => sock.destroy(new Error("no answer within 2 s")));
      sock.on("error", (err: NodeJS.ErrnoException) => resolve({ ok: false, error: err.code ?? err.message }));
    });
    if (!cert.ok) {
      const fail = { status: "fail" as const, detail: `nothing answers TLS on 127.0.0.1:${port} (${cert.error})` };
      return [
        { id: "nginx", name: "nginx", ...fail, fix: "sudo systemctl start nginx; then sudo nginx -t to see a configuration error" },
        { id: "certificate", name: "Certificate", status: "warn", detail: "not checked: nginx does not answer", fix: "start nginx first" },
      ];
    }
    const days = Math.floor((Date.parse(cert.cert.valid_to) - (o.now ?? Date.now)()) / DAY);
    const certItem: HealthItem =
      days < 0
        ? { id: "certificate", name: "Certificate", status: "fail", detail: `expired ${-days} days ago (${cert.cert.valid_to})`, fix: "renew it: pulumi up renews a THON-issued certificate; a provided one comes from tls.certFile" }
        : days < 14
          ? { id: "certificate", name: "Certificate", status: "warn", detail: `expires in ${days} days (${cert.cert.valid_to})`, fix: "renew it before the event ends (pulumi up, or replace tls.certFile)" }
          : { id: "certificate", name: "Certificate", status: "ok", detail: `valid for ${days} more days (until ${cert.cert.valid_to})` };
    return [{ id: "nginx", name: "nginx", status: "ok", detail: `answers TLS on 127.0.0.1:${port} for ${servername}` }, certItem];
  };
}

export const diskCheck: HealthCheck = async (s) => {
  try {
    const st = statfsSync(s.project.projectDir);
    const free = (st.bavail * st.bsize) / (st.blocks * st.bsize);
    const gib = ((st.bavail * st.bsize) / 1024 ** 3).toFixed(1);
    const detail = `${gib} GiB free (${Math.round(free * 100)}%) where the project lives`;
    if (free < 0.05) return { id: "disk", name: "Disk", status: "fail", detail, fix: "free space: docker system prune (images, stopped containers); workspaces are volumes and are kept" };
    if (free < 0.15) return { id: "disk", name: "Disk", status: "warn", detail, fix: "free some space soon (docker image prune)" };
    return { id: "disk", name: "Disk", status: "ok", detail };
  } catch (err) {
    return { id: "disk", name: "Disk", status: "warn", detail: `cannot read: ${(err as Error).message}` };
  }
};

export const lemonadeCheck: HealthCheck = async (s) => {
  if (!s.lemonade) return { id: "lemonade", name: "Lemonade", status: "ok", detail: "not enabled in thon.yaml" };
  const h = (await s.lemonade.overview()).health;
  if (!h.ok) return { id: "lemonade", name: "Lemonade", status: "fail", detail: h.error, fix: "sudo systemctl status lemond; journalctl -u lemond" };
  const d = h.data as { version?: string; model_loaded?: string | null };
  return d.model_loaded
    ? { id: "lemonade", name: "Lemonade", status: "ok", detail: `version ${d.version ?? "?"}, ${d.model_loaded} loaded` }
    : { id: "lemonade", name: "Lemonade", status: "warn", detail: `version ${d.version ?? "?"}, no model loaded`, fix: "load one on the LLM page" };
};

export const gatewayCheck: HealthCheck = async (s) => {
  if (!s.gateway) return { id: "apisix", name: "APISIX", status: "ok", detail: "not enabled in thon.yaml" };
  const g = await s.gateway.overview();
  if (!g.routes.ok) return { id: "apisix", name: "APISIX", status: "fail", detail: g.routes.error, fix: "docker ps for the gateway container; pulumi up recreates it" };
  return { id: "apisix", name: "APISIX", status: "ok", detail: `Admin API answers; ${(g.routes.data as unknown[]).length} routes` };
};

export function pulumiCheck(bin = "pulumi"): HealthCheck {
  return async () => {
    try {
      const { stdout } = await exec(bin, ["version"], { timeout: 5000 });
      return { id: "pulumi", name: "Pulumi CLI", status: "ok", detail: `pulumi ${stdout.trim()}` };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return { id: "pulumi", name: "Pulumi CLI", status: "fail", detail: e.code === "ENOENT" ? "not installed where the console runs: declarative changes cannot apply" : `pulumi version failed: ${e.message.split("\n")[0]}`, fix: "install it (https://www.pulumi.com/docs/install/), or set console.changes: propose and apply from CI" };
    }
  };
}

/** A DIY (file://) backend's lock files for this stack; the console's own running update is not a problem. */
export function stackLockCheck(backendDir = diyBackendDir()): HealthCheck {
  return async (s) => {
    if (!backendDir) return { id: "lock", name: "Stack lock", status: "ok", detail: "not a file:// backend: the service holds the lock" };
    const stack = s.project.stack;
    const dirs = [join(backendDir, ".pulumi", "locks", "organization", s.project.projectName, stack), join(backendDir, ".pulumi", "locks", stack)];
    const locks = dirs.filter((d) => existsSync(d)).flatMap((d) => readdirSync(d).filter((f) => f.endsWith(".json")));
    if (locks.length === 0) return { id: "lock", name: "Stack lock", status: "ok", detail: `stack ${stack} is not locked` };
    if (s.queue.busy) return { id: "lock", name: "Stack lock", status: "ok", detail: `locked by this console's running operation (${s.queue.busy.action})` };
    return { id: "lock", name: "Stack lock", status: "warn", detail: `stack ${stack} is locked (${locks.length} lock file${locks.length === 1 ? "" : "s"}) by an update outside this console`, fix: `wait for it; if a crashed run left it, pulumi cancel --stack ${stack}` };
  };
}

function diyBackendDir(): string | undefined {
  const url = process.env.PULUMI_BACKEND_URL;
  if (url?.startsWith("file://")) return url.slice("file://".length).replace(/^~/, homedir());
  if (!url) return homedir();
  return undefined;
}

export function defaultChecks(): HealthCheck[] {
  return [dockerCheck, proxyChecks(), diskCheck, lemonadeCheck, gatewayCheck, pulumiCheck(), stackLockCheck()];
}

export async function runChecks(checks: readonly HealthCheck[], s: OpServices, timeoutMs = 6000): Promise<HealthItem[]> {
  const out = await Promise.all(
    checks.map((c, i) =>
      Promise.race([
        c(s).catch((err: Error): HealthItem => ({ id: `check-${i}`, name: "Check", status: "fail", detail: err.message })),
        new Promise<HealthItem>((r) => setTimeout(() => r({ id: `check-${i}`, name: "Check", status: "warn", detail: `no answer within ${timeoutMs} ms` }), timeoutMs).unref()),
      ]),
    ),
  );
  return out.flat();
}
