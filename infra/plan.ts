// The pure planner: Event -> what each participant gets, named. No Pulumi
// here, so the rules that matter most are tested as plain functions.
//
// Stable identity is the point. Every name and path below comes from the
// participant's name alone, never from their group or position in the list:
// moving alice from alpha to beta, or adding bob before her, leaves her
// container, volume, socket folder and URL exactly as they were. The group
// only reaches things that change in place (stack outputs, gateway consumers).
import type { Event, Participant } from "./config/event.ts";
import type { RunState } from "./config/schema.ts";

/** Paths inside the sandbox image (infra/image/Dockerfile creates them). */
export const SANDBOX_PATHS = {
  home: "/home/coder",
  workspace: "/workspace",
  /** The participant's socket folder is bind-mounted here. */
  socketDir: "/run/thon",
  socket: "/run/thon/code-server.sock",
  vscodeSettings: "/home/coder/.local/share/code-server/User/settings.json",
  kiloConfig: "/home/coder/.config/kilo/config.json",
} as const;

export type WorkspacePlan =
  | { readonly kind: "volume"; readonly volumeName: string }
  | { readonly kind: "bind"; readonly hostPath: string }
  | { readonly kind: "ephemeral" };

export interface ParticipantPlan {
  readonly name: string;
  readonly group: string;
  readonly state: RunState;
  /** Pulumi logical names; also the Docker object names where one exists. */
  readonly resourceNames: {
    readonly sandbox: string;
    readonly container: string;
    readonly volume: string;
    readonly password: string;
    readonly socketDir: string;
    readonly workspaceDir: string;
    readonly stop: string;
    /** The participant's nginx location file (components/proxy.ts). */
    readonly proxyConfig: string;
    /** The participant's nginx upstream file (their socket, with keepalive). */
    readonly proxyUpstream: string;
  };
  readonly containerName: string;
  readonly workspace: WorkspacePlan;
  /** Host folder holding only this participant's code-server socket. */
  readonly socketHostDir: string;
  readonly socketHostPath: string;
  /** URL path prefix the proxy serves this participant under, with slashes. */
  readonly endpointPath: string;
  readonly url: string;
  /** Docker labels; identity only (labels force a container replacement when they change). */
  readonly labels: Readonly<Record<string, string>>;
}

export interface EventPlan {
  readonly event: string;
  readonly baseUrl: string;
  readonly caCertUrl: string;
  readonly participants: readonly ParticipantPlan[];
}

/** The root URL participants use: https://host[:port]/ */
export function baseUrl(event: Pick<Event, "host" | "proxy">): string {
  const host = event.host.includes(":") ? `[${event.host}]` : event.host; // IPv6 literal
  const port = event.proxy.httpsPort === 443 ? "" : `:${event.proxy.httpsPort}`;
  return `https://${host}${port}/`;
}

export function planParticipant(event: Event, p: Participant): ParticipantPlan {
  const n = p.name;
  const workspace: WorkspacePlan =
    event.workspace.mode === "volume"
      ? { kind: "volume", volumeName: `thon-workspace-${n}` }
      : event.workspace.mode === "bind"
        ? { kind: "bind", hostPath: `${event.workspace.hostDir.replace(/\/+$/, "")}/${n}` }
        : { kind: "ephemeral" };
  const socketHostDir = `${event.proxy.socketDir.replace(/\/+$/, "")}/${n}`;
  return {
    name: n,
    group: p.group,
    state: p.state,
    resourceNames: {
      sandbox: `thon-${n}`,
      container: `thon-${n}`,
      volume: `thon-workspace-${n}`,
      password: `thon-password-${n}`,
      socketDir: `thon-sockets-${n}`,
      workspaceDir: `thon-workspace-dir-${n}`,
      stop: `thon-stop-${n}`,
      proxyConfig: `thon-nginx-${n}`,
      // Not thon-nginx-upstream-<user>: that is also thon-nginx-<user> for a user named "upstream-<user>".
      proxyUpstream: `thon-upstream-${n}`,
    },
    containerName: `thon-${n}`,
    workspace,
    socketHostDir,
    socketHostPath: `${socketHostDir}/code-server.sock`,
    endpointPath: `/${n}/`,
    url: `${baseUrl(event)}${n}/`,
    labels: {
      "org.thon.event": event.name,
      "org.thon.managed-by": "pulumi",
      "org.thon.user": n,
    },
  };
}

/** Plans every participant, sorted by name. */
export function planEvent(event: Event): EventPlan {
  const root = baseUrl(event);
  return {
    event: event.name,
    baseUrl: root,
    caCertUrl: `${root}ca.crt`,
    participants: event.participants.map((p) => planParticipant(event, p)),
  };
}

/**
 * code-server's arguments. It listens on a unix socket in the participant's
 * own folder (no host ports to keep track of), readable by the socket's group
 * only (the folder is setgid to the proxy's group, see Sandbox).
 */
export function codeServerArgs(auth: "password" | "none"): string[] {
  return [
    "--socket",
    SANDBOX_PATHS.socket,
    "--socket-mode",
    "660",
    "--auth",
    auth,
    "--disable-telemetry",
    "--disable-update-check",
    "--disable-workspace-trust",
    SANDBOX_PATHS.workspace,
  ];
}
