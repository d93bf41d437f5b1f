// nginx configuration for the event's one HTTPS entry, as pure text
// renderers. The Proxy component writes what these return; the tests run the
// same text through a real nginx.
//
// Layout on the host (defaults in brackets):
//   <includeDir>/thon-<event>.conf      the server blocks, included by nginx.conf's
//                                        `include /etc/nginx/conf.d/*.conf;` (http context)
//   <configDir>/participants/<user>.conf one `location` per participant, included
//                                        inside the HTTPS server block [/etc/nginx/thon]
//   <configDir>/tls/{ca.crt,server.crt,server.key}   made by the program (mode ca/selfsigned)
//
// One file per participant is the point: adding bob writes bob.conf and
// reloads nginx; alice's file, the server file and the certificates stay
// byte for byte the same, so Pulumi shows one create and one reload.
import type { Event } from "../config/event.ts";
import type { ParticipantPlan } from "../plan.ts";

export interface NginxLayout {
  /** The server file, in the folder nginx.conf includes in its http context. */
  readonly serverFile: string;
  /** One file per participant, included inside the HTTPS server block. */
  readonly participantsDir: string;
  readonly tlsDir: string;
  /** The server certificate (chain) nginx presents. */
  readonly certFile: string;
  readonly keyFile: string;
  /** What `/ca.crt` serves; undefined when the certificate comes from a public CA (mode provided). */
  readonly caCertFile: string | undefined;
  readonly accessLog: string;
}

type EventForNginx = Pick<Event, "name" | "host" | "altNames" | "proxy" | "tls">;

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
    tlsDir,
    certFile,
    keyFile: provided ? event.tls.keyFile! : `${tlsDir}/server.key`,
    // A self-signed server certificate is its own trust anchor: /ca.crt serves it.
    caCertFile: event.tls.mode === "ca" ? `${tlsDir}/ca.crt` : event.tls.mode === "selfsigned" ? certFile : undefined,
    accessLog: event.proxy.accessLog ?? `/var/log/nginx/thon-${event.name}.access.log`,
  };
}

/** The file holding one participant's location. */
export function participantFile(layout: NginxLayout, user: string): string {
  return `${layout.participantsDir}/${user}.conf`;
}

/**
 * nginx identifiers for this event: the upgrade map's variable and the TLS
 * session cache zone. Per event, so they cannot clash with an organizer's own
 * `$connection_upgrade` or with a second event on the same nginx.
 */
export function nginxIds(eventName: string): { readonly upgradeVar: string; readonly sessionZone: string } {
  const id = eventName.replace(/[^A-Za-z0-9_]/g, "_");
  return { upgradeVar: `$thon_${id}_connection`, sessionZone: `thon_${id}` };
}

// Paths and names go into nginx's syntax unquoted; refuse anything that would
// need quoting (space, ';', '{', '$', quotes) rather than escape it.
const NGINX_SAFE = /^[A-Za-z0-9._/:@+-]+$/;

function safe(value: string, what: string): string {
  if (!NGINX_SAFE.test(value)) {
    throw new Error(`${what} "${value}" has characters nginx would misread (allowed: letters, digits, . _ / : @ + -)`);
  }
  return value;
}

/** A host as nginx's server_name and the redirect see it: IPv6 literals in brackets. */
function hostLiteral(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function listen(address: string | undefined, port: number): string {
  return address === undefined ? String(port) : `${hostLiteral(address)}:${port}`;
}

/** The names the server answers to: the event host first, then the other names, sorted. */
export function serverNames(event: Pick<Event, "host" | "altNames">): string[] {
  const rest = [...new Set(event.altNames.map((n) => n.toLowerCase()))].filter((n) => n !== event.host.toLowerCase()).sort();
  return [event.host.toLowerCase(), ...rest].map(hostLiteral);
}

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

/** The server file: the upgrade map, the HTTP redirect and the HTTPS server. */
export function renderServer(event: EventForNginx): string {
  const layout = nginxLayout(event);
  const { proxy } = event;
  const ids = nginxIds(event.name);
  const names = serverNames(event).map((n) => safe(n, "event host")).join(" ");
  const address = proxy.listenAddress === undefined ? undefined : safe(proxy.listenAddress, "proxy.listenAddress");
  const httpsSuffix = proxy.httpsPort === 443 ? "" : `:${proxy.httpsPort}`;
  const out: string[] = [
    `# THON event "${event.name}": the one HTTPS entry. Written by Pulumi (thon:proxy:Proxy);`,
    `# changes here are overwritten. Participants' locations: ${layout.participantsDir}/*.conf`,
    "",
    "# WebSocket upgrades pass through; plain requests close the upstream connection.",
    `map $http_upgrade ${ids.upgradeVar} {`,
    "    default upgrade;",
    "    ''      close;",
    "}",
    "",
  ];
  if (proxy.httpPort !== 0) {
    out.push(
      "server {",
      `    listen ${listen(address, proxy.httpPort)};`,
      `    server_name ${names};`,
      "    server_tokens off;",
      `    access_log ${safe(layout.accessLog, "proxy.accessLog")};`,
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
    `    ssl_certificate ${safe(layout.certFile, "the certificate file")};`,
    `    ssl_certificate_key ${safe(layout.keyFile, "the key file")};`,
    `    ssl_protocols ${TLS_PROTOCOLS};`,
    `    ssl_ciphers ${TLS_CIPHERS};`,
    "    ssl_prefer_server_ciphers off;",
    `    ssl_session_cache shared:${ids.sessionZone}:10m;`,
    "    ssl_session_timeout 1d;",
    "    ssl_session_tickets off;",
    "    # No HSTS: with the event's own CA, a participant who has not imported it yet",
    "    # must still be able to click through the warning to download /ca.crt.",
    "",
    `    access_log ${safe(layout.accessLog, "proxy.accessLog")};`,
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

// A participant's path prefix: "/alice/" (or deeper, "/team/alice/"), no regex
// or nginx syntax, ending in the slash that proxy_pass's URI replaces.
const ENDPOINT = /^(\/[a-z0-9_-]+)+\/$/;

/** One participant's file: their path, proxied to their code-server's unix socket with the prefix stripped. */
export function renderParticipant(
  event: Pick<Event, "name">,
  p: Pick<ParticipantPlan, "name" | "endpointPath" | "socketHostPath">,
): string {
  if (!ENDPOINT.test(p.endpointPath)) {
    throw new Error(`endpoint path "${p.endpointPath}" of ${p.name} must look like /name/ (lower-case letters, digits, '-', '_')`);
  }
  const prefix = p.endpointPath;
  const bare = prefix.slice(0, -1);
  const socket = safe(p.socketHostPath, `the socket path of ${p.name}`);
  const { upgradeVar } = nginxIds(event.name);
  return [
    `# THON participant "${p.name}". Written by Pulumi (thon:proxy:Proxy); changes here are overwritten.`,
    `location = ${bare} {`,
    `    return 301 ${prefix}$is_args$args;`,
    "}",
    "",
    `location ${prefix} {`,
    `    # The URI after "unix:...:" replaces ${prefix}: code-server sees /, so it needs no base path`,
    "    # and its relative URLs resolve under the prefix in the browser.",
    `    proxy_pass http://unix:${socket}:/;`,
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

export interface ManifestEntry {
  readonly path: string;
  /** sha256 of the file's content, hex. */
  readonly sha256: string;
}

/** `sha256sum -c` input, sorted by path: what the reload checks before it runs. */
export function renderManifest(entries: readonly ManifestEntry[]): string {
  return [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.path}\n`)
    .join("");
}

/**
 * The reload: stdin is the manifest of every file this deployment wrote
 * (except the private key, whose hash would make the whole input secret; a
 * new key always comes with a new certificate, which is in the manifest).
 *
 * 1. Participant files not in the manifest are removed first. Pulumi deletes
 *    a removed participant's file resource only after every update, that is
 *    after this reload; pruning here makes this very reload drop them.
 * 2. `sha256sum -c`: nginx is only reloaded with exactly the files Pulumi
 *    wrote, not with a hand edit it would silently keep.
 * 3. `nginx -t` checks the whole configuration; if it fails, the running
 *    nginx keeps serving the previous one and the deployment stops here.
 * 4. `nginx -s reload` is graceful: the master starts new workers and old
 *    ones finish their open connections (WebSockets included) before exiting.
 *    It is what Debian's `systemctl reload nginx` runs.
 */
export function renderReloadScript(options: { readonly nginx: string; readonly participantsDir: string }): string {
  const nginx = options.nginx.trim();
  const dir = safe(options.participantsDir, "proxy.configDir");
  return [
    'manifest=$(mktemp)',
    'trap \'rm -f "$manifest"\' EXIT',
    'cat > "$manifest"',
    `for f in ${dir}/*.conf; do`,
    '  [ -e "$f" ] || continue',
    '  cut -c67- "$manifest" | grep -qxF -- "$f" || rm -f -- "$f"',
    "done",
    'if ! out=$(sha256sum --check --strict --quiet "$manifest" 2>&1); then',
    '  printf "thon: these nginx files of the event differ from what Pulumi wrote:\\n%s\\nFix: undo the hand edit (put your own settings in a file of your own), then run pulumi up again\\n" "$out" >&2',
    "  exit 1",
    "fi",
    `if ! out=$(${nginx} -t 2>&1); then`,
    '  printf "thon: nginx -t rejected the configuration; the running nginx keeps serving the previous one.\\n%s\\nFix: correct what nginx names above, then run pulumi up again\\n" "$out" >&2',
    "  exit 1",
    "fi",
    `if ! out=$(${nginx} -s reload 2>&1); then`,
    '  printf "thon: the configuration is valid but nginx could not be reloaded (is it running?).\\n%s\\nFix: start nginx (systemctl enable --now nginx), then run pulumi up again\\n" "$out" >&2',
    "  exit 1",
    "fi",
    "",
  ].join("\n");
}
