// nginx configuration for the event's one HTTPS entry, as pure text
// renderers: the server file, and per participant an upstream and a location.
// The Proxy component writes what these return; the tests run the same text
// through a real nginx.
import type { Event } from "../../config/event.ts";
import type { ParticipantPlan } from "../../plan.ts";
import { nginxLayout, type NginxLayout } from "./layout.ts";
import { listen, nginxIds, safe, serverNames } from "./names.ts";
import { unavailablePage, UNAVAILABLE_RETRY_SECONDS } from "./page.ts";

type EventForNginx = Pick<Event, "name" | "host" | "altNames" | "proxy" | "tls" | "console" | "idle">;

/** The organizer console's reserved path on the HTTPS entry. NAME_PATTERN refuses a leading "_", so no participant can own it. */
export const CONSOLE_LOCATION = "/_thon/";

/**
 * Idle connections to a participant's code-server each nginx worker keeps
 * for the next request. Without an upstream block nginx opens a connection
 * per request and closes it; bench/proxy.ts measured that at about a third
 * of the throughput of a kept-alive upstream. A browser loading the
 * workbench over HTTP/2 asks for dozens of files at once, hence 16.
 */
export const UPSTREAM_KEEPALIVE = 16;
/**
 * Shorter than code-server's own idle timeout (node's http server closes an
 * idle keep-alive connection after 5 s), so nginx never sends a request on a
 * connection the backend is just closing; idle connections also go soon.
 */
export const UPSTREAM_KEEPALIVE_TIMEOUT = "4s";

/**
 * Mozilla's "intermediate" profile (TLS 1.2 and 1.3, forward-secret AEAD
 * suites only). The DHE suites of that profile are left out: they need a
 * dhparam file, and every browser of the last decade speaks ECDHE.
 */
export const TLS_PROTOCOLS = "TLSv1.2 TLSv1.3";
export const TLS_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

/**
 * Access log lines are collected in memory and written in blocks (at most a
 * second late, or on `nginx -s reopen`): one write per request cost about
 * 5 % of the throughput of a small response (bench/proxy.ts).
 */
export const ACCESS_LOG_BUFFER = "buffer=64k flush=1s";

/**
 * The server file: the upgrade map, the HTTP redirect and the HTTPS server.
 * With `edge` (a Swarm target), the same server on the entry node, whose
 * participants' locations lead to their nodes (renderEdgeParticipant).
 */
export function renderServer(event: EventForNginx, options: { readonly edge?: boolean } = {}): string {
  const layout = nginxLayout(event);
  const accessLog = `access_log ${safe(layout.accessLog, "proxy.accessLog")} combined ${ACCESS_LOG_BUFFER};`;
  const { proxy } = event;
  const ids = nginxIds(event.name);
  const names = serverNames(event).map((n) => safe(n, "event host")).join(" ");
  const address = proxy.listenAddress === undefined ? undefined : safe(proxy.listenAddress, "proxy.listenAddress");
  const httpsSuffix = proxy.httpsPort === 443 ? "" : `:${proxy.httpsPort}`;
  const out: string[] = [
    options.edge
      ? `# THON event "${event.name}": the one HTTPS entry, the edge of a swarm. Written by Pulumi (thon:proxy:EdgeProxy);`
      : `# THON event "${event.name}": the one HTTPS entry. Written by Pulumi (thon:proxy:Proxy);`,
    `# changes here are overwritten. Participants' locations: ${layout.participantsDir}/*.conf`,
    "",
    ...upgradeMapLines(ids.upgradeVar),
    options.edge ? "# One upstream per node: its nginx (the node server), over TLS." : "# One upstream per participant: their code-server's socket.",
    `include ${safe(layout.upstreamsDir, "proxy.configDir")}/*.conf;`,
    "",
  ];
  if (proxy.httpPort !== 0) {
    out.push(
      "server {",
      `    listen ${listen(address, proxy.httpPort)};`,
      `    server_name ${names};`,
      "    server_tokens off;",
      `    ${accessLog}`,
      `    return 301 https://$host${httpsSuffix}$request_uri;`,
      "}",
      "",
    );
  }
  out.push(
    "server {",
    `    listen ${listen(address, proxy.httpsPort)} ssl http2;`,
    `    server_name ${names};`,
    "    server_tokens off;",
    "",
    ...tlsLines(layout, ids.sessionZone),
    "    # No HSTS: with the event's own CA, a participant who has not imported it yet",
    "    # must still be able to click through the warning to download /ca.crt.",
    "",
    `    ${accessLog}`,
    `    client_max_body_size ${safe(proxy.clientMaxBodySize, "proxy.clientMaxBodySize")};`,
    "    # Redirects say /alice/, not http://host:port/alice/: right behind port forwarding too.",
    "    absolute_redirect off;",
    "",
  );
  if (layout.caCertFile !== undefined) {
    out.push(
      "    # The certificate participants import to trust this event.",
      "    location = /ca.crt {",
      `        alias ${safe(layout.caCertFile, "the CA certificate file")};`,
      "        types { }",
      "        default_type application/x-x509-ca-cert;",
      '        add_header Cache-Control "no-cache";',
      "    }",
      "",
    );
  }
  out.push(
    ...unavailableLines(event),
    ...(event.console ? consoleLocation(layout.consoleSocket) : []),
    "    # Anything that is not a participant's path: never someone else's sandbox.",
    "    location / {",
    "        return 404;",
    "    }",
    "",
    `    include ${safe(layout.participantsDir, "proxy.configDir")}/*.conf;`,
    "}",
    "",
  );
  return out.join("\n");
}

/**
 * WebSocket upgrades pass through; plain requests send no Connection header.
 * On the entry node the edge's and the node's server files both declare it:
 * nginx accepts a map variable declared twice (the last one wins), and both
 * are the same text, so either file stands alone.
 */
export function upgradeMapLines(upgradeVar: string): string[] {
  return [
    "# WebSocket upgrades pass through; plain requests send no Connection header,",
    "# so their upstream connection stays open for the next one (upstream keepalive).",
    `map $http_upgrade ${upgradeVar} {`,
    "    default upgrade;",
    "    ''      '';",
    "}",
    "",
  ];
}

/** The server certificate, TLS versions and ciphers, and the session cache: the same on the edge and on every node. */
export function tlsLines(layout: NginxLayout, sessionZone: string): string[] {
  return [
    `    ssl_certificate ${safe(layout.certFile, "the certificate file")};`,
    `    ssl_certificate_key ${safe(layout.keyFile, "the key file")};`,
    `    ssl_protocols ${TLS_PROTOCOLS};`,
    `    ssl_ciphers ${TLS_CIPHERS};`,
    "    ssl_prefer_server_ciphers off;",
    `    ssl_session_cache shared:${sessionZone}:10m;`,
    "    ssl_session_timeout 1d;",
    "    ssl_session_tickets off;",
  ];
}

/** The page for a sandbox nginx cannot reach, for 502 and 504. */
export function unavailableLines(event: Pick<Event, "idle">): string[] {
  return [
    "    # A sandbox nginx cannot reach (paused, starting, restarting) gets a page that",
    "    # says so and tries again, not a bare \"502 Bad Gateway\". The status stays 502;",
    "    # code-server's own error answers pass unchanged (proxy_intercept_errors is off).",
    "    error_page 502 504 @thon_unavailable;",
    "    location @thon_unavailable {",
    "        default_type text/html;",
    '        add_header Cache-Control "no-store" always;',
    `        add_header Retry-After ${UNAVAILABLE_RETRY_SECONDS} always;`,
    `        return 502 '${unavailablePage({ wake: event.idle.enabled })}';`,
    "    }",
    "",
  ];
}

/** The console's location: its unix socket, with the prefix stripped, the client's address, and no buffering (its progress and logs are Server-Sent Events). */
function consoleLocation(socket: string): string[] {
  const bare = CONSOLE_LOCATION.slice(0, -1);
  return [
    "    # The organizer console (thon console) on its reserved path.",
    `    location = ${bare} {`,
    `        return 301 ${CONSOLE_LOCATION};`,
    "    }",
    `    location ${CONSOLE_LOCATION} {`,
    `        proxy_pass http://unix:${safe(socket, "the console socket")}:/;`,
    "        proxy_http_version 1.1;",
    "        proxy_set_header Host $http_host;",
    "        proxy_set_header X-Real-IP $remote_addr;",
    "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "        proxy_set_header X-Forwarded-Proto $scheme;",
    `        proxy_set_header X-Forwarded-Prefix ${bare};`,
    '        proxy_set_header Connection "";',
    "        # Operation progress and logs are Server-Sent Events: each reaches the browser",
    "        # as it happens, and a followed log may stay open for long.",
    "        proxy_buffering off;",
    "        proxy_cache off;",
    "        proxy_read_timeout 1h;",
    "    }",
    "",
  ];
}

// A participant's path prefix: "/alice/" (or deeper, "/team/alice/"), no regex
// or nginx syntax, ending in the slash that proxy_pass's URI replaces.
const ENDPOINT = /^(\/[a-z0-9_-]+)+\/$/;

export function checkEndpoint(p: Pick<ParticipantPlan, "name" | "endpointPath">): void {
  if (!ENDPOINT.test(p.endpointPath)) {
    throw new Error(`endpoint path "${p.endpointPath}" of ${p.name} must look like /name/ (lower-case letters, digits, '-', '_')`);
  }
}

/** One participant's upstream file: their code-server's unix socket, with idle connections kept for reuse. */
export function renderUpstream(event: Pick<Event, "name">, p: Pick<ParticipantPlan, "name" | "socketHostPath">): string {
  const socket = safe(p.socketHostPath, `the socket path of ${p.name}`);
  return upstreamBlock(`THON participant "${p.name}". Written by Pulumi (thon:proxy:Proxy)`, nginxIds(event.name).upstream(p.name), `unix:${socket}`, UPSTREAM_KEEPALIVE, UPSTREAM_KEEPALIVE_TIMEOUT);
}

/** An upstream file: one server, with idle connections kept (the participant's socket, or a swarm node's nginx). */
export function upstreamBlock(writer: string, name: string, server: string, keepalive: number, keepaliveTimeout: string): string {
  return [`# ${writer}; changes here are overwritten.`, `upstream ${name} {`, `    server ${server};`, `    keepalive ${keepalive};`, `    keepalive_timeout ${keepaliveTimeout};`, "}", ""].join("\n");
}

/** One participant's location file: their path, proxied to their upstream with the prefix stripped. */
export function renderParticipant(
  event: Pick<Event, "name">,
  p: Pick<ParticipantPlan, "name" | "endpointPath">,
): string {
  checkEndpoint(p);
  const prefix = p.endpointPath;
  const bare = prefix.slice(0, -1);
  const { upgradeVar, upstream } = nginxIds(event.name);
  return [
    `# THON participant "${p.name}". Written by Pulumi (thon:proxy:Proxy); changes here are overwritten.`,
    `location = ${bare} {`,
    `    return 301 ${prefix}$is_args$args;`,
    "}",
    "",
    `location ${prefix} {`,
    `    # The URI after the upstream replaces ${prefix}: code-server sees /, so it needs no base path`,
    "    # and its relative URLs resolve under the prefix in the browser.",
    `    proxy_pass http://${upstream(p.name)}/;`,
    "    proxy_http_version 1.1;",
    "    # With the port: code-server compares a WebSocket's Origin with this Host.",
    "    proxy_set_header Host $http_host;",
    "    proxy_set_header X-Real-IP $remote_addr;",
    "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "    proxy_set_header X-Forwarded-Proto $scheme;",
    `    proxy_set_header X-Forwarded-Prefix ${bare};`,
    "    proxy_set_header Upgrade $http_upgrade;",
    `    proxy_set_header Connection ${upgradeVar};`,
    "    # The editor is one long WebSocket; an idle one stays open for a day.",
    "    proxy_read_timeout 1d;",
    "    proxy_send_timeout 1d;",
    "    # Stream both ways: terminal output and uploads are not held in nginx's buffers.",
    "    proxy_buffering off;",
    "    proxy_request_buffering off;",
    "}",
    "",
  ].join("\n");
}
