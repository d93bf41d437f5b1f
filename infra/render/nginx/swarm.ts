// nginx on a Swarm target (docs/swarm-routing.md): two hops, as pure text.
//
//   browser ──HTTPS──▶ edge (entry node, 443) ──HTTPS, event CA──▶ node server
//   (every node, nodePort) ──unix socket──▶ the participant's code-server
//
// The edge is today's public server (renderServer with `edge`); each
// participant's location there proxies the whole path to their node's
// upstream, one file per participant and one upstream file per node. The
// node server is today's per-participant locations and upstreams
// (renderParticipant, renderUpstream: the socket path), in an HTTPS server
// on nodePort that answers the edge only. Adding a participant writes one
// file on the edge and two on their node; nothing else changes.
import { isIP } from "node:net";
import type { Event } from "../../config/event.ts";
import type { ParticipantPlan } from "../../plan.ts";
import { ACCESS_LOG_BUFFER, checkEndpoint, TLS_PROTOCOLS, tlsLines, unavailableLines, upgradeMapLines, upstreamBlock } from "./config.ts";
import { nginxLayout, nodeLayout, type NginxLayout } from "./layout.ts";
import { hostLiteral, nginxIds, safe, serverNames } from "./names.ts";

/** A node as the edge sees it: its name and the address its nginx is reached at. */
export interface NodeAddress {
  readonly name: string;
  readonly address: string;
}

/**
 * Idle TLS connections to one node that each edge worker keeps. One pool
 * serves all of the node's participants (a per-participant upstream keeps
 * UPSTREAM_KEEPALIVE), and each new connection to a node costs a TLS
 * handshake, hence more.
 */
export const NODE_UPSTREAM_KEEPALIVE = 64;
/**
 * Shorter than the node server's own keepalive_timeout (NODE_KEEPALIVE_TIMEOUT),
 * so the edge never sends a request on a connection the node is just closing.
 */
export const NODE_UPSTREAM_KEEPALIVE_TIMEOUT = "60s";
export const NODE_KEEPALIVE_TIMEOUT = "75s";
/**
 * How long the edge waits for a node to accept a connection. A node on the
 * event's network answers in milliseconds; one that is down (its packets
 * dropped, not refused) would otherwise hold every request to its
 * participants for nginx's default 60 s before the unavailable page.
 */
export const NODE_CONNECT_TIMEOUT = "5s";

/** The edge's upstream of one node; a name no participant's upstream can take (those start "thon_"). */
export function nodeUpstreamName(eventName: string, node: string): string {
  return nginxIds(eventName).nodeUpstream(node);
}

/** The edge's file holding one node's upstream. */
export function nodeUpstreamFile(layout: NginxLayout, node: string): string {
  return `${layout.upstreamsDir}/${node}.conf`;
}

/**
 * The name the edge asks for (SNI) and checks the node's certificate
 * against. nginx checks it with OpenSSL's X509_check_host, which matches DNS
 * names only (an IP SAN never matches; the subject CN only when the
 * certificate has no DNS SAN). So: the event host when it is a DNS name;
 * for an IP host, the first DNS name among altNames; with none, the host
 * itself, which the certificate's CN carries (components/tls.ts).
 */
export function nodeTlsName(event: Pick<Event, "host" | "altNames">): string {
  const dns = (n: string) => isIP(n) === 0;
  if (dns(event.host)) return event.host.toLowerCase();
  const alt = [...new Set(event.altNames.map((n) => n.toLowerCase()))].filter(dns).sort();
  return alt[0] ?? event.host;
}

/** The CA file the edge trusts the nodes through: the event CA (mode ca) or the self-signed certificate (selfsigned). */
export function edgeTrustFile(event: Pick<Event, "name" | "proxy" | "tls">): string {
  const ca = nginxLayout(event).caCertFile;
  if (event.tls.mode === "provided" || ca === undefined) {
    throw new Error(
      "tls.mode provided cannot secure the hop from the edge to the nodes: the nodes have no copy of the ACME certificate, and there is no event CA to trust them through. Fix: use tls.mode ca (the default) or selfsigned on a swarm target",
    );
  }
  return ca;
}

export interface NodeServerOptions {
  /** The port every node's nginx listens on for the edge. */
  readonly nodePort: number;
  /** This node. */
  readonly node: NodeAddress;
  /** The entry node's address: where the edge's connections come from. */
  readonly entryAddress: string;
}

type EventForNode = Pick<Event, "name" | "host" | "altNames" | "proxy" | "tls" | "idle">;

/**
 * A node's server file: the upgrade map, its participants' upstreams and an
 * HTTPS server on nodePort with the event's server certificate.
 *
 * It listens on the node's address when that is an IP literal (the address
 * the edge connects to; nothing else of the node's is exposed), else on every
 * address. It answers the entry node's address only (`allow`, then `deny
 * all`): the edge is its one client, so the node port cannot become a second
 * way in past the edge, its log and its console. Other nodes are not
 * allowed: nothing on them talks to another node's nginx. `allow` takes
 * addresses only; with a host name as the entry's address the allow list
 * is left out (said in the file), and a firewall must keep the port private.
 */
export function renderNodeServer(event: EventForNode, options: NodeServerOptions): string {
  const layout = nodeLayout(event);
  const ids = nginxIds(event.name);
  const port = checkPort(options.nodePort);
  const address = safe(options.node.address, `the address of node ${options.node.name}`);
  const entry = safe(options.entryAddress, "the entry node's address");
  const listenOn = isIP(address) !== 0 ? `${hostLiteral(address)}:${port}` : String(port);
  const names = serverNames(event).map((n) => safe(n, "event host")).join(" ");
  const access =
    isIP(entry) !== 0
      ? ["    # The edge (on the entry node) is this server's only client.", `    allow ${entry};`, "    deny all;"]
      : [
          `    # The entry's address (${entry}) is a host name, which allow cannot take:`,
          "    # keep this port reachable from the entry node only with a firewall.",
        ];
  return [
    `# THON event "${event.name}": node ${options.node.name}'s server, for the edge only. Written by Pulumi`,
    `# (thon:proxy:NodeProxy); changes here are overwritten. Participants' locations: ${layout.participantsDir}/*.conf`,
    "",
    ...upgradeMapLines(ids.upgradeVar),
    "# One upstream per participant on this node: their code-server's socket.",
    `include ${safe(layout.upstreamsDir, "proxy.configDir")}/*.conf;`,
    "",
    "server {",
    `    listen ${listenOn} ssl;`,
    `    server_name ${names};`,
    "    server_tokens off;",
    "",
    ...tlsLines(layout, ids.sessionZone),
    "",
    ...access,
    "",
    `    access_log ${safe(layout.accessLog, "proxy.accessLog")} combined ${ACCESS_LOG_BUFFER};`,
    `    client_max_body_size ${safe(event.proxy.clientMaxBodySize, "proxy.clientMaxBodySize")};`,
    "    absolute_redirect off;",
    "    # Longer than the edge keeps an idle connection to this node.",
    `    keepalive_timeout ${NODE_KEEPALIVE_TIMEOUT};`,
    "",
    // The edge passes a node's answers unchanged, so the node says when a sandbox is away.
    ...unavailableLines(event),
    "    # Anything that is not one of this node's participants.",
    "    location / {",
    "        return 404;",
    "    }",
    "",
    `    include ${safe(layout.participantsDir, "proxy.configDir")}/*.conf;`,
    "}",
    "",
  ].join("\n");
}

/** The edge's upstream file of one node: its nginx at address:nodePort, idle TLS connections kept for reuse. */
export function renderNodeUpstream(event: Pick<Event, "name">, node: NodeAddress, nodePort: number): string {
  const address = safe(node.address, `the address of node ${node.name}`);
  return upstreamBlock(`THON node "${node.name}". Written by Pulumi (thon:proxy:EdgeProxy)`, nodeUpstreamName(event.name, node.name), `${hostLiteral(address)}:${checkPort(nodePort)}`, NODE_UPSTREAM_KEEPALIVE, NODE_UPSTREAM_KEEPALIVE_TIMEOUT);
}

/**
 * One participant's location on the edge: their path, whole, to their
 * node's nginx over TLS, trusting the event CA only and checking the
 * certificate's name (nodeTlsName). The node strips the prefix, as the
 * local proxy does, so the edge passes the URI unchanged.
 */
export function renderEdgeParticipant(
  event: Pick<Event, "name" | "host" | "altNames" | "proxy" | "tls">,
  p: Pick<ParticipantPlan, "name" | "endpointPath">,
  node: Pick<NodeAddress, "name">,
): string {
  checkEndpoint(p);
  const prefix = p.endpointPath;
  const bare = prefix.slice(0, -1);
  const { upgradeVar } = nginxIds(event.name);
  const tlsName = safe(nodeTlsName(event), "event host");
  return [
    `# THON participant "${p.name}", on node "${node.name}". Written by Pulumi (thon:proxy:EdgeProxy); changes here are overwritten.`,
    `location = ${bare} {`,
    `    return 301 ${prefix}$is_args$args;`,
    "}",
    "",
    `location ${prefix} {`,
    "    # No URI after the upstream: the node sees the whole path and strips the prefix itself.",
    `    proxy_pass https://${nodeUpstreamName(event.name, node.name)};`,
    "    # The node proves itself with the event's server certificate; only the event CA is trusted.",
    "    proxy_ssl_verify on;",
    `    proxy_ssl_trusted_certificate ${safe(edgeTrustFile(event), "the CA certificate file")};`,
    "    proxy_ssl_server_name on;",
    `    proxy_ssl_name ${tlsName};`,
    `    proxy_ssl_protocols ${TLS_PROTOCOLS};`,
    "    proxy_ssl_session_reuse on;",
    "    # A node that is down: its participants see the unavailable page soon, everyone else is untouched.",
    `    proxy_connect_timeout ${NODE_CONNECT_TIMEOUT};`,
    "    proxy_http_version 1.1;",
    "    # With the port: code-server compares a WebSocket's Origin with this Host; the node passes it on.",
    "    proxy_set_header Host $http_host;",
    "    proxy_set_header X-Real-IP $remote_addr;",
    "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "    proxy_set_header Upgrade $http_upgrade;",
    `    proxy_set_header Connection ${upgradeVar};`,
    "    # The editor is one long WebSocket; an idle one stays open for a day.",
    "    proxy_read_timeout 1d;",
    "    proxy_send_timeout 1d;",
    "    proxy_buffering off;",
    "    proxy_request_buffering off;",
    "}",
    "",
  ].join("\n");
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`target.nodePort ${port} is not a port (1-65535)`);
  return port;
}
