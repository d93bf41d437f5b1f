// nginx identifiers and the syntax checks every renderer shares: values go
// into nginx's configuration unquoted, so anything that would need quoting is
// refused rather than escaped.
import type { Event } from "../../config/event.ts";

/**
 * nginx identifiers for this event: the upgrade map's variable and the TLS
 * session cache zone. Per event, so they cannot clash with an organizer's own
 * `$connection_upgrade` or with a second event on the same nginx.
 */
export function nginxIds(eventName: string): {
  readonly upgradeVar: string;
  readonly sessionZone: string;
  /** The participant's upstream group; upstream names are global to nginx's http context. */
  upstream(user: string): string;
  /** A swarm node's upstream on the edge; "thon-node_" so no participant's ("thon_…") can take its name. */
  nodeUpstream(node: string): string;
} {
  const id = eventName.replace(/[^A-Za-z0-9_]/g, "_");
  const upstream = (user: string) => {
    if (!/^[A-Za-z0-9_-]+$/.test(user)) throw new Error(`participant name "${user}" cannot name an nginx upstream (allowed: letters, digits, _ -)`);
    return `thon_${id}_${user}`;
  };
  const nodeUpstream = (node: string) => {
    if (!/^[A-Za-z0-9_-]+$/.test(node)) throw new Error(`node name "${node}" cannot name an nginx upstream (allowed: letters, digits, _ -)`);
    return `thon-node_${id}_${node}`;
  };
  return { upgradeVar: `$thon_${id}_connection`, sessionZone: `thon_${id}`, upstream, nodeUpstream };
}

// Paths and names go into nginx's syntax unquoted; refuse anything that would
// need quoting (space, ';', '{', '$', quotes) rather than escape it.
const NGINX_SAFE = /^[A-Za-z0-9._/:@+-]+$/;

export function safe(value: string, what: string): string {
  if (!NGINX_SAFE.test(value)) {
    throw new Error(`${what} "${value}" has characters nginx would misread (allowed: letters, digits, . _ / : @ + -)`);
  }
  return value;
}

/** A host as nginx's server_name and the redirect see it: IPv6 literals in brackets. */
export function hostLiteral(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

export function listen(address: string | undefined, port: number): string {
  return address === undefined ? String(port) : `${hostLiteral(address)}:${port}`;
}

/** The names the server answers to: the event host first, then the other names, sorted. */
export function serverNames(event: Pick<Event, "host" | "altNames">): string[] {
  const rest = [...new Set(event.altNames.map((n) => n.toLowerCase()))].filter((n) => n !== event.host.toLowerCase()).sort();
  return [event.host.toLowerCase(), ...rest].map(hostLiteral);
}
