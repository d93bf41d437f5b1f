// Where the event's nginx files live on the host (defaults in brackets):
//   <includeDir>/thon-<event>.conf      the server blocks, included by nginx.conf's
//                                        `include /etc/nginx/conf.d/*.conf;` (http context)
//   <configDir>/participants/<user>.conf one `location` per participant, included
//                                        inside the HTTPS server block [/etc/nginx/thon]
//   <configDir>/upstreams/<user>.conf    one `upstream` per participant (their socket,
//                                        with keepalive), included in the http context
//   <configDir>/tls/{ca.crt,server.crt,server.key}   made by the program (mode ca/selfsigned)
//
// On a Swarm target (docs/swarm-routing.md) the entry node's nginx runs the
// files above as the edge (each participant's location proxies to their
// node), and every node's nginx, the entry's included, runs the node server
// from nodeLayout(): the same kind of files under <configDir>/node and
// <includeDir>/thon-<event>-node.conf, so edge and node never share a file.
//
// Files per participant are the point: adding bob writes his two files and
// reloads nginx; alice's files, the server file and the certificates stay
// byte for byte the same, so Pulumi shows bob's creates and one reload.
// (Two files because an `upstream` may only stand in the http context and a
// `location` only in a server.)
import type { Event } from "../../config/event.ts";

export interface NginxLayout {
  /** The server file, in the folder nginx.conf includes in its http context. */
  readonly serverFile: string;
  /** One file per participant, included inside the HTTPS server block. */
  readonly participantsDir: string;
  /** One upstream file per participant, included in the http context. */
  readonly upstreamsDir: string;
  readonly tlsDir: string;
  /** The server certificate (chain) nginx presents. */
  readonly certFile: string;
  readonly keyFile: string;
  /** What `/ca.crt` serves; undefined when the certificate comes from a public CA (mode provided). */
  readonly caCertFile: string | undefined;
  readonly accessLog: string;
  /** The organizer console's socket (thon console listens there; nginx proxies /_thon/ to it). A leading "_" is never a participant's folder. */
  readonly consoleSocket: string;
}

const trim = (dir: string) => dir.replace(/\/+$/, "") || "";

/** Where every file of the event's proxy lives. */
export function nginxLayout(event: Pick<Event, "name" | "proxy" | "tls">): NginxLayout {
  const config = trim(event.proxy.configDir);
  const tlsDir = `${config}/tls`;
  const provided = event.tls.mode === "provided";
  const certFile = provided ? event.tls.certFile! : `${tlsDir}/server.crt`;
  return {
    serverFile: `${trim(event.proxy.includeDir)}/thon-${event.name}.conf`,
    participantsDir: `${config}/participants`,
    upstreamsDir: `${config}/upstreams`,
    tlsDir,
    certFile,
    keyFile: provided ? event.tls.keyFile! : `${tlsDir}/server.key`,
    // A self-signed server certificate is its own trust anchor: /ca.crt serves it.
    caCertFile: event.tls.mode === "ca" ? `${tlsDir}/ca.crt` : event.tls.mode === "selfsigned" ? certFile : undefined,
    accessLog: event.proxy.accessLog ?? `/var/log/nginx/thon-${event.name}.access.log`,
    consoleSocket: `${trim(event.proxy.socketDir)}/_thon/console.sock`,
  };
}

/**
 * Where a Swarm node's server keeps its files: beside the edge's, never the
 * same paths (the entry node runs both), with its own copy of the server
 * certificate, so the two components never write, or delete, one file.
 */
export function nodeLayout(event: Pick<Event, "name" | "proxy" | "tls">): NginxLayout {
  const config = `${trim(event.proxy.configDir)}/node`;
  const tlsDir = `${config}/tls`;
  const edge = nginxLayout(event);
  return {
    serverFile: `${trim(event.proxy.includeDir)}/thon-${event.name}-node.conf`,
    participantsDir: `${config}/participants`,
    upstreamsDir: `${config}/upstreams`,
    tlsDir,
    certFile: `${tlsDir}/server.crt`,
    keyFile: `${tlsDir}/server.key`,
    // The node serves no /ca.crt: only the edge talks to it.
    caCertFile: undefined,
    accessLog: edge.accessLog.endsWith(".log") ? `${edge.accessLog.slice(0, -4)}.node.log` : `${edge.accessLog}.node`,
    consoleSocket: edge.consoleSocket,
  };
}

/** The file holding one participant's location. */
export function participantFile(layout: NginxLayout, user: string): string {
  return `${layout.participantsDir}/${user}.conf`;
}

/** The file holding one participant's upstream. */
export function upstreamFile(layout: NginxLayout, user: string): string {
  return `${layout.upstreamsDir}/${user}.conf`;
}

/**
 * Where the Proxy's file resources write: beside the live file, under a
 * name nginx's `*.conf` includes do not match. Only the reload puts a
 * staged file in place, and takes it back if nginx rejects the result, so
 * the live files are always a configuration that passed `nginx -t`: an
 * nginx restart (a reboot) between a failed and a fixed `pulumi up` still
 * starts.
 */
export function stagedPath(path: string): string {
  return `${path}.thon-staged`;
}
