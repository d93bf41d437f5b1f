// The pure planner: Event -> what each participant gets, named. No Pulumi
// here, so the rules that matter most are tested as plain functions.
//
// Stable identity is the point. Every name and path below comes from the
// participant's name alone, never from their group or position in the list:
// moving alice from alpha to beta, or adding bob before her, leaves her
// container, volume, socket folder and URL exactly as they were. The group
// only reaches things that change in place (stack outputs, gateway consumers).
import { createHash } from "node:crypto";
import type { Event, Participant } from "./config/event.ts";
import type { RunState } from "./config/schema.ts";

/** Paths inside the sandbox image (infra/image/Dockerfile creates them). */
export const SANDBOX_PATHS = {
  home: "/home/coder",
  workspace: "/workspace",
  /** The participant's socket folder is bind-mounted here. */
  socketDir: "/run/thon",
  socket: "/run/thon/code-server.sock",
  /** The participant's own VS Code settings (in the home volume; the entrypoint merges the organizer's in). */
  vscodeSettings: "/home/coder/.local/share/code-server/User/settings.json",
  /** The organizer's settings, written by the program, merged over the participant's at each start. */
  organizerSettings: "/etc/thon/vscode-settings.json",
  kiloConfig: "/home/coder/.config/kilo/config.json",
} as const;

export type WorkspacePlan =
  | { readonly kind: "volume"; readonly volumeName: string }
  | { readonly kind: "bind"; readonly hostPath: string }
  | { readonly kind: "ephemeral" };

/** The home folder: a volume kept like the workspace (extensions, settings, shell history), or the container's own. */
export type HomePlan = { readonly kind: "volume"; readonly volumeName: string } | { readonly kind: "container" };

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
    /** The command that sets the container's pids limit (the Docker provider has no field for it). */
    readonly pidsLimit: string;
    readonly homeVolume: string;
  };
  readonly containerName: string;
  readonly workspace: WorkspacePlan;
  readonly home: HomePlan;
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
      pidsLimit: `thon-pids-${n}`,
      homeVolume: `thon-home-${n}`,
    },
    containerName: `thon-${n}`,
    workspace,
    // No home volume for ephemeral workspaces: nothing of the participant's is meant to last.
    home: event.workspace.mode === "ephemeral" ? { kind: "container" } : { kind: "volume", volumeName: `thon-home-${n}` },
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

/** The event's own Docker network and the host firewall rules around it. */
export interface NetworkPlan {
  /** Pulumi name and Docker name: thon-net-<event>. */
  readonly name: string;
  /** The Linux bridge's name (at most 15 characters, so derived from a hash of the event name). */
  readonly bridge: string;
  /** Pulumi name of the firewall rules (a host command with its own delete). */
  readonly rulesName: string;
  /** Tag of the iptables chains (THON-<tag>-FWD, THON-<tag>-IN). */
  readonly chainTag: string;
  /** Host TCP ports sandboxes may reach: the gateway's (or Lemonade's, without a gateway). */
  readonly hostPorts: readonly number[];
}

export function planNetwork(event: Pick<Event, "name" | "gateway" | "lemonade">): NetworkPlan {
  const tag = createHash("sha256").update(event.name).digest("hex").slice(0, 8);
  const hostPorts = event.gateway.enabled ? [event.gateway.port] : event.lemonade.enabled ? [event.lemonade.port] : [];
  return {
    name: `thon-net-${event.name}`,
    bridge: `thon-${tag}`,
    rulesName: `thon-egress-${event.name}`,
    chainTag: tag.toUpperCase(),
    hostPorts,
  };
}

/** The Docker network a sandbox joins: the one sandbox.network names, else the event's. */
export function sandboxNetwork(network: string | undefined, plan: NetworkPlan): string {
  return network ?? plan.name;
}
