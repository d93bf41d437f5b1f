// `thon console`: the console as a process on the event host. It listens on
// a unix socket (default, in the project's data folder) or on a loopback
// address only: the event's nginx reaches it on a reserved path, nothing
// else should. Its data (sign-in, audit: console/store) lives in --data.
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { isIP } from "node:net";
import { join, resolve } from "node:path";
import { createAdaptorServer, type ServerType } from "@hono/node-server";
import type { AuditLog, Auth } from "./auth/types.ts";
import { createConsoleApp } from "./api/app.ts";
import type { Applier } from "./apply/applier.ts";
import type { PagesOptions } from "./pages/deps.ts";
import { AutomationApplier } from "./apply/automation.ts";
import { DeclarativeRunner, mockPreview } from "./apply/declarative.ts";
import { OperationQueue } from "./apply/queue.ts";
import type { SandboxDocker } from "./ops/docker.ts";
import { sandboxBackend } from "./ops/backend.ts";
import type { OpServices } from "./ops/context.ts";
import { OpError } from "./ops/errors.ts";
import { Project } from "./ops/project.ts";
import { GatewayClient, LemonadeClient } from "./ops/services.ts";
import { StatusService } from "./ops/status.ts";

export type Listen = { readonly kind: "tcp"; readonly host: string; readonly port: number } | { readonly kind: "unix"; readonly path: string };

/** `host:port` (loopback only) or `unix:/path`. */
export function parseListen(value: string, cwd = process.cwd()): Listen {
  if (value.startsWith("unix:")) {
    const path = value.slice("unix:".length);
    if (path === "") throw new OpError("bad_input", "--listen unix: needs a path", "write --listen unix:/run/thon/console.sock", "listen");
    return { kind: "unix", path: resolve(cwd, path) };
  }
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  if (!m) throw new OpError("bad_input", `--listen ${value} is neither host:port nor unix:path`, "write --listen 127.0.0.1:8787 or --listen unix:/path/console.sock", "listen");
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port > 65535) throw new OpError("bad_input", `--listen port ${port} is out of range`, "use a port from 1 to 65535 (0: any free port)", "listen");
  const loopback = host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
  if (!loopback) {
    throw new OpError("bad_input", `--listen ${value}: the console listens on loopback or a unix socket only`, "use 127.0.0.1:<port>, [::1]:<port> or unix:<path>; the event's nginx serves it to the outside on its reserved path", "listen");
  }
  return { kind: "tcp", host, port };
}

export const DEFAULT_DATA_DIR = ".thon-console";

export interface ConsoleDeps {
  readonly projectDir: string;
  readonly stack: string;
  readonly auth: Auth;
  readonly audit: AuditLog;
  readonly docker?: SandboxDocker;
  readonly applier?: Applier;
  readonly env?: NodeJS.ProcessEnv;
  /** The pages' optional parts (console/pages/deps.ts): audit list, usage store, credentials; see productionPages. */
  readonly pages?: PagesOptions;
}

/** The operations' services for this project, from thon.yaml and the environment (admin keys never from thon.yaml). */
export function consoleServices(deps: Omit<ConsoleDeps, "auth">): OpServices {
  const env = deps.env ?? process.env;
  const project = new Project({ projectDir: deps.projectDir, stack: deps.stack });
  const docker = deps.docker ?? sandboxBackend(project.event(), env).sandboxes;
  const queue = new OperationQueue(deps.stack);
  const applier = deps.applier ?? new AutomationApplier({ projectDir: deps.projectDir, stack: deps.stack });
  const declarative = new DeclarativeRunner({ project, applier, queue, audit: deps.audit, offlinePreview: (a, b) => mockPreview(a, b) });
  const event = project.event();
  const lemonadeUrl = env.THON_LEMONADE_URL ?? (event.lemonade.enabled ? (event.lemonade.apiUrl ?? `http://127.0.0.1:${event.lemonade.port}`) : undefined);
  const gatewayUrl = env.THON_GATEWAY_ADMIN_URL ?? (event.gateway.enabled ? event.gateway.adminUrl : undefined);
  const lemonadeKey = env.THON_LEMONADE_ADMIN_KEY ?? env.LEMONADE_ADMIN_API_KEY;
  const gatewayKey = env.THON_GATEWAY_ADMIN_KEY;
  return {
    project,
    docker,
    status: new StatusService(docker),
    queue,
    declarative,
    audit: deps.audit,
    ...(lemonadeUrl ? { lemonade: new LemonadeClient(lemonadeUrl, lemonadeKey) } : {}),
    ...(gatewayUrl ? { gateway: new GatewayClient(gatewayUrl, gatewayKey) } : {}),
  };
}

export interface RunningConsole {
  /** http://127.0.0.1:port or unix:/path. */
  readonly address: string;
  close(): Promise<void>;
}

export async function startConsole(listen: Listen, deps: ConsoleDeps, services = consoleServices(deps)): Promise<RunningConsole> {
  const { audit: _audit, ...ops } = services;
  return serveApp(listen, createConsoleApp({ auth: deps.auth, audit: deps.audit, ops, ...(deps.pages ? { pages: deps.pages } : {}) }));
}

/** Serves an app (console/main.ts's whole console) on a unix socket or loopback. */
export async function serveApp(listen: Listen, app: { fetch: (request: Request) => Response | Promise<Response> }): Promise<RunningConsole> {
  if (listen.kind === "unix") {
    mkdirSync(resolve(listen.path, ".."), { recursive: true });
    rmSync(listen.path, { force: true }); // a socket left by a crashed run
  }
  const server: ServerType = createAdaptorServer({ fetch: app.fetch });
  await new Promise<void>((res, rej) => {
    server.once("error", rej);
    if (listen.kind === "unix") server.listen(listen.path, () => res());
    else server.listen(listen.port, listen.host, () => res());
  });
  if (listen.kind === "unix") chmodSync(listen.path, 0o660); // the socket's group (nginx's) may connect; others may not
  const port = listen.kind === "tcp" ? (server.address() as { port: number }).port : 0;
  const host = listen.kind === "tcp" && listen.host.includes(":") ? `[${listen.host}]` : listen.kind === "tcp" ? listen.host : "";
  return {
    address: listen.kind === "tcp" ? `http://${host}:${port}` : `unix:${listen.path}`,
    close: () =>
      new Promise<void>((res) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => res());
      }),
  };
}

export function defaultListen(projectDir: string): string {
  return `unix:${join(projectDir, DEFAULT_DATA_DIR, "console.sock")}`;
}

/** The systemd unit `thon console --install` writes: the console as a service of the organizer's account. */
export function renderConsoleUnit(o: { readonly user: string; readonly projectDir: string; readonly node: string; readonly thon: string; readonly listen: string; readonly dataDir: string; readonly stack: string }): string {
  for (const [k, v] of Object.entries({ projectDir: o.projectDir, node: o.node, thon: o.thon, dataDir: o.dataDir })) {
    if (!v.startsWith("/") || /[\s"'\\%]/.test(v)) throw new OpError("bad_input", `${k} ${JSON.stringify(v)} cannot go in a systemd unit`, "use an absolute path without spaces, quotes, backslashes or %", k);
  }
  if (!/^[a-z_][a-z0-9_-]*$/i.test(o.user)) throw new OpError("bad_input", `user ${JSON.stringify(o.user)} is not a user name`, "run --install as the organizer's account", "user");
  if (/[\s"'\\%]/.test(o.listen) || /[\s"'\\%]/.test(o.stack)) throw new OpError("bad_input", "--listen and --stack cannot hold spaces, quotes or %", "pick plain values", "listen");
  return `# Written by \`thon console --install\`. Secrets (THON_CONSOLE_PASSWORD, admin keys,
# PULUMI_CONFIG_PASSPHRASE) go in the EnvironmentFile, never in this unit.
[Unit]
Description=THON organizer console
Documentation=file://${o.projectDir}/docs/console.md
After=network-online.target docker.service
Wants=network-online.target

[Service]
Type=simple
User=${o.user}
WorkingDirectory=${o.projectDir}
EnvironmentFile=-${o.dataDir}/console.env
ExecStart=${o.node} ${o.thon} console --listen ${o.listen} --data ${o.dataDir} --stack ${o.stack}
Restart=on-failure
RestartSec=2
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full
ProtectHome=read-only
ReadWritePaths=${o.projectDir}
UMask=0007

[Install]
WantedBy=multi-user.target
`;
}
