// Every name THON gives a resource or server object, from the event's name
// and a user's (or group's) name alone: never an index or, for a
// participant's own things, their group, so adding, removing or moving
// someone renames nothing of anybody else. The planner (infra/plan.ts)
// builds its plans from these; the policy pack reads the same functions.
//
// Imports nothing: the policy pack is compiled as CommonJS by Pulumi's
// policy runner (policies/tsconfig.json) and loads this file as it is.

/** Docker labels on every sandbox (and the keys the policy pack reads). */
export const LABELS = {
  event: "org.thon.event",
  managedBy: "org.thon.managed-by",
  user: "org.thon.user",
  purpose: "org.thon.purpose",
  /** On workspace volumes of older stacks (kept: a label change replaces a volume); the pack reads the Sandbox's workspace input instead. */
  onDelete: "org.thon.on-delete",
  /** target.kind swarm: the swarm node label naming the node; a participant's service is pinned by node.labels.org.thon.node==<node>. */
  node: "org.thon.node",
} as const;

/** Pulumi names of the event-wide components. */
export const COMPONENT_NAMES = {
  image: "thon-sandbox-image",
  tls: "thon-tls",
  proxy: "thon-proxy",
  lemonade: "thon-lemonade",
  gateway: "thon-gateway",
} as const;

/** The Docker volume holding a participant's workspace (workspace.mode volume); `thon purge` deletes it. */
export function workspaceVolumeName(user: string): string {
  return `thon-workspace-${user}`;
}

/** The image resource of a group whose template names another image. */
export function groupImageName(group: string): string {
  return `${COMPONENT_NAMES.image}-${group}`;
}

/** A participant's home volume: named from the user alone, like the workspace. */
export function homeVolumeName(user: string): string {
  return `thon-home-${user}`;
}

/** Pulumi logical names of a participant's resources; also the Docker object names where one exists. */
export function participantResourceNames(user: string) {
  return {
    sandbox: `thon-${user}`,
    container: `thon-${user}`,
    volume: workspaceVolumeName(user),
    password: `thon-password-${user}`,
    socketDir: `thon-sockets-${user}`,
    workspaceDir: `thon-workspace-dir-${user}`,
    stop: `thon-stop-${user}`,
    /** The participant's nginx location file (components/proxy.ts). */
    proxyConfig: `thon-nginx-${user}`,
    // Not thon-nginx-upstream-<user>: that is also thon-nginx-<user> for a user named "upstream-<user>".
    /** The participant's nginx upstream file (their socket, with keepalive). */
    proxyUpstream: `thon-upstream-${user}`,
    /** The command that sets the container's pids limit (the Docker provider has no field for it). */
    pidsLimit: `thon-pids-${user}`,
    /** The participant's home volume (extensions, settings, shell history), kept like the workspace. */
    homeVolume: homeVolumeName(user),
    /** target.kind swarm: the participant's docker.Service (the container's name, another resource type). */
    service: `thon-${user}`,
    /** target.kind swarm: the Swarm secret holding the participant's password. */
    passwordSecret: `thon-password-secret-${user}`,
    /** target.kind swarm: prefix of the per-file secrets and configs of the participant (thon-files-<user>-<file>). */
    configFiles: `thon-files-${user}`,
  } as const;
}

/** target.kind swarm: the placement constraint pinning a participant's service to its node. */
export function nodeConstraint(node: string): string {
  return `node.labels.${LABELS.node}==${node}`;
}

/** target.kind swarm: Pulumi names of a node's own resources (its labels command, its nginx). */
export function swarmNodeResourceNames(node: string): { readonly labels: string; readonly proxy: string } {
  return { labels: `thon-node-labels-${node}`, proxy: `thon-proxy-${node}` };
}

/** target.kind swarm: the edge nginx on the entry node. */
export const SWARM_EDGE_PROXY = "thon-proxy-edge";

/**
 * The edge's own files: a participant's location and a node's upstream. No
 * name of one can be a name of the other ("thon-edge-nginx-" and
 * "thon-edge-upstream-" differ before any user or node name starts).
 */
export const edgeResourceNames = {
  participant: (user: string) => `thon-edge-nginx-${user}`,
  node: (node: string) => `thon-edge-upstream-${node}`,
} as const;

/** A gateway consumer's Pulumi names: the consumer and the random key behind it. */
export function consumerResourceNames(kind: "user" | "group", owner: string): { readonly consumer: string; readonly key: string } {
  // "group-" keeps a group's names apart from a user's of the same name.
  const suffix = kind === "user" ? owner : `group-${owner}`;
  return { consumer: `thon-consumer-${suffix}`, key: `thon-llm-key-${suffix}` };
}

/** The APISIX consumer username: thon_<event>_<user> per participant, thon_<event>_group_<group> per group. */
export function consumerUsername(event: string, kind: "user" | "group", name: string): string {
  return kind === "user" ? `thon_${event}_${name}` : `thon_${event}_group_${name}`;
}

/** The APISIX route id (and route name) of the event's chat or embeddings route. */
export function routeId(event: string, which: "chat" | "embeddings"): string {
  return `thon-${event}-${which}`;
}
