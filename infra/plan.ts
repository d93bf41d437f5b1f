// The pure planner: Event -> everything the program declares, named. No
// Pulumi here, so the rules that matter most are tested as plain functions;
// infra/program.ts declares the components from this plan and nothing else.
//
// Stable identity is the point. Every name and path below comes from the
// participant's name alone (infra/resourceNames.ts), never from their group
// or position in the list: moving alice from alpha to beta, or adding bob
// before her, leaves her container, volume, socket folder and URL exactly as
// they were. The group only reaches things that change in place (stack
// outputs, and in gateway.mode per-group the key she uses and the group
// consumers' budgets).
import { sandboxFor, type Event, type Participant } from "./config/event.ts";
import { placeParticipants } from "./placement.ts";
import type { RunState } from "./config/schema.ts";
import { llmNodes, planLemonade, SANDBOX_HOST, urlHost, type LemonadePlan, type LlmNode } from "./lemonade/plan.ts";
import { apisixLabels, consumerTokenLimit, type LimitOptions } from "./render/apisix.ts";
import type { KiloConfigOptions } from "./render/kilo.ts";
import {
  COMPONENT_NAMES,
  consumerResourceNames,
  consumerUsername,
  LABELS,
  participantResourceNames,
  groupImageName,
  homeVolumeName,
  routeId,
  SWARM_EDGE_PROXY,
  swarmNodeResourceNames,
  workspaceVolumeName,
} from "./resourceNames.ts";
import { sha256 } from "./hash.ts";

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
  /**
   * target.kind swarm: where the Kilo config's Swarm secret is mounted. Not
   * kiloConfig itself: a mount inside the home volume would make Docker create
   * ~/.config and ~/.config/kilo there as root. The entrypoint copies it into
   * place at each start (THON_KILO_CONFIG_FILE names it).
   */
  kiloSecret: "/run/secrets/thon-kilo.json",
} as const;

export type WorkspacePlan =
  | { readonly kind: "volume"; readonly volumeName: string }
  | { readonly kind: "bind"; readonly hostPath: string }
  | { readonly kind: "ephemeral" };

/** Whose API key a participant's tools send. */
export type KeyPlan =
  /** Lemonade's one shared key (gateway off). */
  | { readonly from: "lemonade" }
  /** A gateway consumer's key: the participant's own (per-user) or their group's (per-group). */
  | { readonly from: "consumer"; readonly consumer: string };

/** What one participant gets from the local LLM. */
export interface ParticipantLlmPlan {
  readonly key: KeyPlan;
  /** Where the Kilo Code config goes in the sandbox; its content is LlmPlan.kilo with this participant's key. */
  readonly kiloPath: string;
}

/** The home folder: a volume kept like the workspace (extensions, settings, shell history), or the container's own. */
export type HomePlan = { readonly kind: "volume"; readonly volumeName: string } | { readonly kind: "container" };

export interface ParticipantPlan {
  readonly name: string;
  readonly group: string;
  readonly state: RunState;
  /** Pulumi logical names; also the Docker object names where one exists. */
  readonly resourceNames: ReturnType<typeof participantResourceNames>;
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
  /** Undefined with lemonade.enabled: false. */
  readonly llm: ParticipantLlmPlan | undefined;
  /** target.kind swarm: the node the participant's service is pinned to (infra/placement.ts); undefined otherwise. */
  readonly node: string | undefined;
}

/** target.kind swarm: one node, what THON applies to it and who runs there. */
export interface SwarmNodePlan {
  readonly name: string;
  readonly address: string;
  /** Capacity for placement (target.nodes[].memory). */
  readonly memoryMiB: number;
  /** The node's labels: the organizer's, plus { "org.thon.node": name }. */
  readonly labels: Readonly<Record<string, string>>;
  /** The participants placed here, sorted. */
  readonly participants: readonly string[];
  /** Their sandbox memory, summed (MiB). */
  readonly usedMiB: number;
  /** The manager command that applies `labels` (docker node update --label-add). */
  readonly labelsResourceName: string;
  /** The node's nginx (participants' locations, behind the edge). */
  readonly proxyResourceName: string;
}

/** target.kind swarm: the nodes, the entry and the placement. */
export interface SwarmPlan {
  /** The node running the edge nginx (target.entry, else the first node). */
  readonly entry: string;
  /** The port each node's nginx listens on for the edge. */
  readonly nodePort: number;
  /** In declaration order. */
  readonly nodes: readonly SwarmNodePlan[];
  /** The overlay network: thon-net-<event>. */
  readonly network: string;
  readonly edgeResourceName: string;
  /** Participants placed in this run, not yet in thon.placement.yaml, sorted. */
  readonly added: readonly string[];
  /** thon.placement.yaml after this update: the old lock plus `added` (removed participants keep their entry). */
  readonly lock: Readonly<Record<string, string>>;
}

/** One APISIX consumer: a participant (per-user) or a group with members (per-group). */
export interface ConsumerPlan {
  readonly kind: "user" | "group";
  /** The user or group it is named after. */
  readonly owner: string;
  /** The participants whose tools send its key, sorted. */
  readonly members: readonly string[];
  /** Pulumi names of the Consumer and of the random key behind it. */
  readonly resourceNames: { readonly consumer: string; readonly key: string };
  readonly username: string;
  /** Its token budget (per-group: sized for the group); false with gateway.limit: false. */
  readonly limit: LimitOptions | false;
  readonly desc: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface RoutePlan {
  readonly which: "chat" | "embeddings";
  readonly resourceName: string;
  readonly routeId: string;
}

export interface GatewayPlan {
  readonly resourceName: string;
  readonly mode: "per-user" | "per-group";
  readonly event: string;
  readonly apisixVersion: string;
  readonly adminUrl: string;
  /** target.kind swarm: the node APISIX runs on (gateway.node, else Lemonade's); undefined on one host. */
  readonly node: LlmNode | undefined;
  /** Lemonade as APISIX reaches it, without a trailing slash. */
  readonly lemonadeUrl: string;
  readonly chatModel: string;
  readonly routes: readonly RoutePlan[];
  /** Sorted by owner. */
  readonly consumers: readonly ConsumerPlan[];
  /** The OpenAI-compatible base URL as seen from inside a sandbox. */
  readonly sandboxBaseUrl: string;
}

/** The `llm` stack output: what participants' tools use, from inside a sandbox. */
export interface LlmOutputs {
  readonly baseUrl: string;
  readonly via: "gateway" | "lemonade";
  readonly gatewayMode?: "per-user" | "per-group";
  readonly chatModel: string;
  readonly embeddingModel?: string;
  readonly lemondUnit: string;
}

export interface LlmPlan {
  /** The Lemonade component's name. */
  readonly resourceName: string;
  readonly lemonade: LemonadePlan;
  readonly gateway: GatewayPlan | undefined;
  /** The Kilo Code config every sandbox gets, but for the key (ParticipantLlmPlan.key). */
  readonly kilo: Omit<KiloConfigOptions, "apiKey">;
  readonly outputs: LlmOutputs;
}

export interface EventPlan {
  readonly event: string;
  readonly baseUrl: string;
  readonly caCertUrl: string;
  /** Pulumi names of the event-wide components. */
  readonly componentNames: {
    readonly image: string;
    readonly tls: string;
    readonly proxy: string;
    /** Groups whose template names another image, and the name of that image's resource. */
    readonly groupImages: Readonly<Record<string, string>>;
  };
  /** Sorted by name. */
  readonly participants: readonly ParticipantPlan[];
  /** The local LLM: Lemonade, the gateway, Kilo Code; undefined with lemonade.enabled: false. */
  readonly llm: LlmPlan | undefined;
  /** The event's own network and firewall rules; undefined when sandbox.network names another. */
  readonly network: NetworkPlan | undefined;
  /** target.kind swarm: nodes and placement; undefined on other targets. */
  readonly swarm: SwarmPlan | undefined;
}

/** The root URL participants use: https://host[:port]/ */
export function baseUrl(event: Pick<Event, "host" | "proxy">): string {
  const host = event.host.includes(":") ? `[${event.host}]` : event.host; // IPv6 literal
  const port = event.proxy.httpsPort === 443 ? "" : `:${event.proxy.httpsPort}`;
  return `https://${host}${port}/`;
}

/**
 * Where a user's workspace lives, whether or not they are still in the event:
 * the sandbox mounts it, and `thon purge <user>` deletes it after they left.
 */
export function planWorkspace(event: Pick<Event, "workspace">, user: string): WorkspacePlan {
  return event.workspace.mode === "volume"
    ? { kind: "volume", volumeName: workspaceVolumeName(user) }
    : event.workspace.mode === "bind"
      ? { kind: "bind", hostPath: `${event.workspace.hostDir.replace(/\/+$/, "")}/${user}` }
      : { kind: "ephemeral" };
}

/** Whose key a participant uses: see KeyPlan. */
function planKey(event: Pick<Event, "gateway">, p: Participant): KeyPlan {
  if (!event.gateway.enabled) return { from: "lemonade" };
  return event.gateway.mode === "per-user"
    ? { from: "consumer", consumer: consumerResourceNames("user", p.name).consumer }
    : { from: "consumer", consumer: consumerResourceNames("group", p.group).consumer };
}

/**
 * One participant's plan. Also plans someone no longer in the event, from
 * their name alone: `thon purge` finds their volume or folder this way
 * (planWorkspace gives just that part).
 */
export function planParticipant(event: Event, p: Participant, node?: string): ParticipantPlan {
  const n = p.name;
  const socketHostDir = `${event.proxy.socketDir.replace(/\/+$/, "")}/${n}`;
  return {
    name: n,
    group: p.group,
    state: p.state,
    resourceNames: participantResourceNames(n),
    containerName: participantResourceNames(n).container,
    workspace: planWorkspace(event, n),
    // No home volume for ephemeral workspaces: nothing of the participant's is meant to last.
    home: event.workspace.mode === "ephemeral" ? { kind: "container" } : { kind: "volume", volumeName: homeVolumeName(n) },
    socketHostDir,
    socketHostPath: `${socketHostDir}/code-server.sock`,
    endpointPath: `/${n}/`,
    url: `${baseUrl(event)}${n}/`,
    labels: {
      [LABELS.event]: event.name,
      [LABELS.managedBy]: "pulumi",
      [LABELS.user]: n,
    },
    llm: event.lemonade.enabled ? { key: planKey(event, p), kiloPath: SANDBOX_PATHS.kiloConfig } : undefined,
    node,
  };
}

/**
 * target.kind swarm: where everyone runs (infra/placement.ts) and what each
 * node gets; undefined on other targets. Throws PlacementError when the
 * placement rules cannot be met.
 */
export function planSwarm(event: Event): SwarmPlan | undefined {
  const target = event.target;
  if (target.kind !== "swarm") return undefined;
  const placement = placeParticipants({
    nodes: target.nodes.map((n) => ({ name: n.name, memoryMiB: n.memory })),
    participants: event.participants.map((p) => ({
      name: p.name,
      memoryMiB: sandboxFor(event, p.group).memory,
      ...(p.host !== undefined ? { host: p.host } : {}),
    })),
    lock: event.placementLock,
  });
  const here = new Map<string, string[]>(target.nodes.map((n) => [n.name, []]));
  for (const [user, node] of Object.entries(placement.assignment)) here.get(node)!.push(user);
  const lock = { ...event.placementLock };
  for (const user of placement.added) lock[user] = placement.assignment[user]!;
  return {
    entry: target.entry ?? target.nodes[0]!.name,
    nodePort: target.nodePort,
    nodes: target.nodes.map((n) => ({
      name: n.name,
      address: n.address,
      memoryMiB: n.memory,
      labels: { ...n.labels, [LABELS.node]: n.name },
      participants: here.get(n.name)!.sort(),
      usedMiB: placement.usedMiB[n.name]!,
      labelsResourceName: swarmNodeResourceNames(n.name).labels,
      proxyResourceName: swarmNodeResourceNames(n.name).proxy,
    })),
    network: planNetwork(event).name,
    edgeResourceName: SWARM_EDGE_PROXY,
    added: placement.added,
    lock: Object.fromEntries(Object.entries(lock).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

/** The gateway's consumers: one per participant, or one per group with members. */
function planConsumers(event: Pick<Event, "name" | "gateway" | "groups" | "participants">): ConsumerPlan[] {
  const gw = event.gateway;
  const consumer = (kind: "user" | "group", owner: string, members: readonly string[]): ConsumerPlan => {
    const size = members.length;
    return {
      kind,
      owner,
      members: [...members].sort(),
      resourceNames: consumerResourceNames(kind, owner),
      username: consumerUsername(event.name, kind, owner),
      limit:
        gw.limit === false
          ? false
          : {
              apisixVersion: gw.apisixVersion,
              tokens: consumerTokenLimit(gw.mode, gw.limit.tokens, size),
              windowSeconds: gw.limit.windowSeconds,
              redis: gw.redis,
            },
      desc: kind === "user" ? `THON ${event.name}: participant ${owner}` : `THON ${event.name}: group ${owner} (${size} participants)`,
      labels: apisixLabels(event.name),
    };
  };
  return gw.mode === "per-user"
    ? event.participants.map((p) => consumer("user", p.name, [p.name]))
    : event.groups.filter((g) => g.users.length > 0).map((g) => consumer("group", g.name, g.users));
}

/** The local LLM; undefined with lemonade.enabled: false. */
export function planLlm(event: Event): LlmPlan | undefined {
  if (!event.lemonade.enabled) return undefined;
  const lemonade = planLemonade(event);
  const gw = event.gateway;
  const name = COMPONENT_NAMES.gateway;
  // On a swarm, sandboxes on every node reach APISIX at its node's address,
  // and APISIX reaches lemond on loopback beside it, else at Lemonade's node's
  // address (where lemond then listens: planLemonade).
  const nodes = llmNodes(event);
  const apisixHost = nodes ? urlHost(nodes.gateway.address) : SANDBOX_HOST;
  const lemonadeFromApisix = nodes && nodes.gateway.name !== nodes.lemonade.name ? urlHost(nodes.lemonade.address) : "127.0.0.1";
  const gateway: GatewayPlan | undefined = gw.enabled
    ? {
        resourceName: name,
        mode: gw.mode,
        event: event.name,
        apisixVersion: gw.apisixVersion,
        adminUrl: gw.adminUrl,
        node: nodes?.gateway,
        lemonadeUrl: (gw.lemonadeUrl ?? `http://${lemonadeFromApisix}:${lemonade.port}`).replace(/\/+$/, ""),
        chatModel: lemonade.chat.id,
        routes: (lemonade.embedding ? (["chat", "embeddings"] as const) : (["chat"] as const)).map((which) => ({
          which,
          resourceName: `${name}-${which}`,
          routeId: routeId(event.name, which),
        })),
        consumers: planConsumers(event),
        sandboxBaseUrl: `http://${apisixHost}:${gw.port}/v1`,
      }
    : undefined;
  const sandboxBaseUrl = gateway ? gateway.sandboxBaseUrl : lemonade.sandboxBaseUrl;
  const kilo = event.lemonade.kilo;
  return {
    resourceName: COMPONENT_NAMES.lemonade,
    lemonade,
    gateway,
    kilo: {
      providerName: `THON ${event.name}`,
      baseURL: sandboxBaseUrl,
      chat: { id: lemonade.chat.id, displayName: lemonade.chat.displayName, context: lemonade.chat.guaranteedCtx, output: lemonade.chat.outputTokens },
      indexing: lemonade.embedding && kilo.indexing ? { model: lemonade.embedding.id, dimension: lemonade.embedding.dimension } : undefined,
      bash: kilo.bash,
    },
    outputs: {
      baseUrl: sandboxBaseUrl,
      via: gateway ? "gateway" : "lemonade",
      ...(gateway ? { gatewayMode: gateway.mode } : {}),
      chatModel: lemonade.chat.id,
      ...(lemonade.embedding ? { embeddingModel: lemonade.embedding.id } : {}),
      lemondUnit: lemonade.unitName,
    },
  };
}

/** Plans the whole event; participants sorted by name. */
export function planEvent(event: Event): EventPlan {
  const root = baseUrl(event);
  const swarm = planSwarm(event);
  return {
    event: event.name,
    baseUrl: root,
    caCertUrl: `${root}ca.crt`,
    componentNames: {
      image: COMPONENT_NAMES.image,
      tls: COMPONENT_NAMES.tls,
      proxy: COMPONENT_NAMES.proxy,
      groupImages: Object.fromEntries(
        Object.entries(event.groupSandboxes ?? {})
          .filter(([, s]) => s.image !== event.sandbox.image)
          .map(([group]) => [group, groupImageName(group)]),
      ),
    },
    participants: event.participants.map((p) => planParticipant(event, p, swarm?.lock[p.name])),
    llm: planLlm(event),
    network: event.sandbox.network === undefined ? planNetwork(event) : undefined,
    swarm,
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
  const tag = sha256(event.name).slice(0, 8);
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
