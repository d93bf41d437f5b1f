// nginx configuration for the event's one HTTPS entry, as pure text
// renderers. The Proxy component writes what these return; the tests run the
// same text through a real nginx.
//
// Layout on the host (defaults in brackets):
//   <includeDir>/thon-<event>.conf      the server blocks, included by nginx.conf's
//                                        `include /etc/nginx/conf.d/*.conf;` (http context)
//   <configDir>/participants/<user>.conf one `location` per participant, included
//                                        inside the HTTPS server block [/etc/nginx/thon]
//   <configDir>/upstreams/<user>.conf    one `upstream` per participant (their socket,
//                                        with keepalive), included in the http context
//   <configDir>/tls/{ca.crt,server.crt,server.key}   made by the program (mode ca/selfsigned)
//
// Files per participant are the point: adding bob writes his two files and
// reloads nginx; alice's files, the server file and the certificates stay
// byte for byte the same, so Pulumi shows bob's creates and one reload.
// (Two files because an `upstream` may only stand in the http context and a
// `location` only in a server.)
import type { Event } from "../config/event.ts";
import type { ParticipantPlan } from "../plan.ts";

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
    upstreamsDir: `${config}/upstreams`,
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

/** The file holding one participant's upstream. */
export function upstreamFile(layout: NginxLayout, user: string): string {
  return `${layout.upstreamsDir}/${user}.conf`;
}

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
} {
  const id = eventName.replace(/[^A-Za-z0-9_]/g, "_");
  const upstream = (user: string) => {
    if (!/^[A-Za-z0-9_-]+$/.test(user)) throw new Error(`participant name "${user}" cannot name an nginx upstream (allowed: letters, digits, _ -)`);
    return `thon_${id}_${user}`;
  };
  return { upgradeVar: `$thon_${id}_connection`, sessionZone: `thon_${id}`, upstream };
}

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

/**
 * Access log lines are collected in memory and written in blocks (at most a
 * second late, or on `nginx -s reopen`): one write per request cost about
 * 5 % of the throughput of a small response (bench/proxy.ts).
 */
export const ACCESS_LOG_BUFFER = "buffer=64k flush=1s";

/** Seconds between the unavailable page's own retries (and its Retry-After). */
export const UNAVAILABLE_RETRY_SECONDS = 10;

/**
 * What a participant sees while their sandbox does not answer. One line of
 * HTML inside nginx's single quotes: no quote, backslash or `$` in it.
 */
export const UNAVAILABLE_PAGE = [
  "<!doctype html><html lang=en><meta charset=utf-8>",
  `<meta http-equiv=refresh content=${UNAVAILABLE_RETRY_SECONDS}>`,
  "<meta name=viewport content=\"width=device-width\">",
  "<title>Your sandbox is not answering</title>",
  "<body style=\"font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em\">",
  "<h1>Your sandbox is not answering</h1>",
  "<p>It is starting, restarting, or paused by the organizer. Your files are kept.</p>",
  `<p>This page tries again every ${UNAVAILABLE_RETRY_SECONDS} seconds; ask an organizer if it does not come back.</p>`,
  "</body></html>",
].join("");

/** The server file: the upgrade map, the HTTP redirect and the HTTPS server. */
export function renderServer(event: EventForNginx): string {
  const layout = nginxLayout(event);
  const accessLog = `access_log ${safe(layout.accessLog, "proxy.accessLog")} combined ${ACCESS_LOG_BUFFER};`;
  const { proxy } = event;
  const ids = nginxIds(event.name);
  const names = serverNames(event).map((n) => safe(n, "event host")).join(" ");
  const address = proxy.listenAddress === undefined ? undefined : safe(proxy.listenAddress, "proxy.listenAddress");
  const httpsSuffix = proxy.httpsPort === 443 ? "" : `:${proxy.httpsPort}`;
  const out: string[] = [
    `# THON event "${event.name}": the one HTTPS entry. Written by Pulumi (thon:proxy:Proxy);`,
    `# changes here are overwritten. Participants' locations: ${layout.participantsDir}/*.conf`,
    "",
    "# WebSocket upgrades pass through; plain requests send no Connection header,",
    "# so their upstream connection stays open for the next one (upstream keepalive).",
    `map $http_upgrade ${ids.upgradeVar} {`,
    "    default upgrade;",
    "    ''      '';",
    "}",
    "",
    "# One upstream per participant: their code-server's socket.",
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
    "    # A sandbox nginx cannot reach (paused, starting, restarting) gets a page that",
    "    # says so and tries again, not a bare \"502 Bad Gateway\". The status stays 502;",
    "    # code-server's own error answers pass unchanged (proxy_intercept_errors is off).",
    "    error_page 502 504 @thon_unavailable;",
    "    location @thon_unavailable {",
    "        default_type text/html;",
    '        add_header Cache-Control "no-store" always;',
    `        add_header Retry-After ${UNAVAILABLE_RETRY_SECONDS} always;`,
    `        return 502 '${UNAVAILABLE_PAGE}';`,
    "    }",
    "",
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

function checkEndpoint(p: Pick<ParticipantPlan, "name" | "endpointPath">): void {
  if (!ENDPOINT.test(p.endpointPath)) {
    throw new Error(`endpoint path "${p.endpointPath}" of ${p.name} must look like /name/ (lower-case letters, digits, '-', '_')`);
  }
}

/** One participant's upstream file: their code-server's unix socket, with idle connections kept for reuse. */
export function renderUpstream(event: Pick<Event, "name">, p: Pick<ParticipantPlan, "name" | "socketHostPath">): string {
  const socket = safe(p.socketHostPath, `the socket path of ${p.name}`);
  return [
    `# THON participant "${p.name}". Written by Pulumi (thon:proxy:Proxy); changes here are overwritten.`,
    `upstream ${nginxIds(event.name).upstream(p.name)} {`,
    `    server unix:${socket};`,
    `    keepalive ${UPSTREAM_KEEPALIVE};`,
    `    keepalive_timeout ${UPSTREAM_KEEPALIVE_TIMEOUT};`,
    "}",
    "",
  ].join("\n");
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

export interface ReloadOptions {
  readonly nginx: string;
  readonly participantsDir: string;
  readonly upstreamsDir: string;
  /** Files the Proxy stages that are not in the manifest: the private key (its hash would make the manifest secret). */
  readonly unlistedFiles?: readonly string[];
}

/**
 * The reload, one transaction over the event's files. stdin is the manifest
 * of every file this deployment wrote (except the private key; a new key
 * always comes with a new certificate, which is in the manifest).
 *
 * 1. Promote: each staged file replaces its live file (an atomic rename;
 *    the old one is kept as a hard link, `<file>.thon-prev`).
 * 2. Prune: participant files (locations and upstreams) not in the manifest
 *    are set aside. Pulumi deletes a removed participant's file resources
 *    only after every update, that is after this reload; pruning here makes
 *    this very reload drop them.
 * 3. `sha256sum -c`: nginx is only reloaded with exactly the files Pulumi
 *    wrote, not with a hand edit it would silently keep.
 * 4. `nginx -t` checks the whole configuration.
 * 5. `nginx -s reload` is graceful: the master starts new workers and old
 *    ones finish their open connections (WebSockets included) before exiting.
 *    It is what Debian's `systemctl reload nginx` runs.
 *
 * When 3 or 4 fails, every step of 1 and 2 is undone: the live files are
 * the previous ones again, the rejected ones stay staged (Pulumi's state
 * says they were written, and the next `pulumi up` retries this reload with
 * them), and the running nginx never saw them. Each step is journalled, so
 * the undo is exact.
 */
export function renderReloadScript(options: ReloadOptions): string {
  const nginx = options.nginx.trim();
  const dirs = [options.participantsDir, options.upstreamsDir].map((d) => safe(d, "proxy.configDir"));
  const unlisted = (options.unlistedFiles ?? []).map((f) => `printf '%s\\n' ${safe(f, "a file of the proxy")}`);
  return [
    'manifest=$(mktemp); journal=$(mktemp)',
    'trap \'rm -f "$manifest" "$journal"\' EXIT',
    'cat > "$manifest"',
    `owned() { cut -c67- "$manifest";${unlisted.map((u) => ` ${u};`).join("")} }`,
    "undo() {",
    '  tac "$journal" | while read -r step f; do',
    '    case "$step" in',
    '      replaced) ln -f -- "$f" "$f.thon-staged" && mv -f -- "$f.thon-prev" "$f" ;;',
    '      added) mv -f -- "$f" "$f.thon-staged" ;;',
    '      pruned) mv -f -- "$f.thon-pruned" "$f" ;;',
    "    esac",
    "  done",
    "}",
    "forget() {",
    '  while read -r step f; do',
    '    case "$step" in replaced) rm -f -- "$f.thon-prev" ;; pruned) rm -f -- "$f.thon-pruned" ;; esac',
    '  done < "$journal"',
    "}",
    "rejected() {",
    "  undo",
    `  if ${nginx} -t >/dev/null 2>&1; then`,
    '    echo "thon: nothing changed: the files nginx runs with are the previous ones again (they pass nginx -t), any new ones wait beside them as <file>.thon-staged" >&2',
    "  else",
    '    echo "thon: the previous files are back, but nginx -t fails with them too: the cause is outside this change (a file of another site, or a certificate file that is gone)" >&2',
    "  fi",
    "  exit 1",
    "}",
    'owned | while read -r f; do',
    '  [ -e "$f.thon-staged" ] || continue',
    '  if [ -e "$f" ]; then ln -f -- "$f" "$f.thon-prev"; echo "replaced $f" >> "$journal"; else echo "added $f" >> "$journal"; fi',
    '  mv -f -- "$f.thon-staged" "$f"',
    "done",
    `for f in ${dirs.map((d) => `${d}/*.conf`).join(" ")}; do`,
    '  [ -e "$f" ] || continue',
    '  cut -c67- "$manifest" | grep -qxF -- "$f" && continue',
    '  mv -f -- "$f" "$f.thon-pruned"; echo "pruned $f" >> "$journal"',
    "done",
    'if ! out=$(sha256sum --check --strict --quiet "$manifest" 2>&1); then',
    '  printf "thon: these nginx files of the event differ from what Pulumi wrote:\\n%s\\nFix: undo the hand edit (put your own settings in a file of your own), then run pulumi up again\\n" "$out" >&2',
    "  rejected",
    "fi",
    `if ! out=$(${nginx} -t 2>&1); then`,
    '  printf "thon: nginx -t rejected the configuration; the running nginx keeps serving the previous one.\\n%s\\nFix: correct what nginx names above, then run pulumi up again\\n" "$out" >&2',
    "  rejected",
    "fi",
    "forget",
    `if ! out=$(${nginx} -s reload 2>&1); then`,
    '  printf "thon: the configuration is valid but nginx could not be reloaded (is it running?).\\n%s\\nFix: start nginx (systemctl enable --now nginx), then run pulumi up again\\n" "$out" >&2',
    "  exit 1",
    "fi",
    "",
  ].join("\n");
}
