// The nginx renderers as plain functions: tables for the rules, snapshots
// for the whole text. test/proxy-nginx.test.ts runs the same text through a
// real nginx.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { planEvent } from "../../infra/plan.ts";
import {
  nginxIds,
  nginxLayout,
  participantFile,
  renderManifest,
  renderParticipant,
  reloadArguments,
  RELOAD_SCRIPT_FILE,
  renderReloadScript,
  renderServer,
  renderUpstream,
  serverNames,
  TLS_CIPHERS,
  UNAVAILABLE_PAGE,
  UNAVAILABLE_PAGE_WITH_WAKE,
  upstreamFile,
  UPSTREAM_KEEPALIVE,
} from "../../infra/render/nginx.ts";
import { removeFileScript, shellQuote, writeFileScript } from "../../infra/render/shell.ts";
import { makeEvent } from "../support/events.ts";

const event = (extra = "") => makeEvent({ alpha: ["alice", "0day", "team_7-b"] }, extra);
const lines = (text: string) => text.split("\n").map((l) => l.trim());

describe("participant file", () => {
  it.each([
    ["alice", "/alice/", "/alice"],
    ["0day", "/0day/", "/0day"],
    ["team_7-b", "/team_7-b/", "/team_7-b"],
  ])("%s: its prefix, a redirect from the bare path, and their upstream (the socket) with the prefix stripped", (name, prefix, bare) => {
    const e = event();
    const p = planEvent(e).participants.find((x) => x.name === name)!;
    const text = lines(renderParticipant(e, p));
    expect(text).toContain(`location ${prefix} {`);
    expect(text).toContain(`location = ${bare} {`);
    expect(text).toContain(`return 301 ${prefix}$is_args$args;`);
    // The URI part "/" after the upstream replaces the whole prefix: /alice/x -> /x, never /alice/alice/x.
    expect(text).toContain(`proxy_pass http://thon_test_${name}/;`);
    expect(lines(renderUpstream(e, p))).toContain(`server unix:/var/lib/thon/sockets/${name}/code-server.sock;`);
    expect(text).toContain(`proxy_set_header X-Forwarded-Prefix ${bare};`);
    expect(text.filter((l) => l.startsWith("proxy_pass"))).toHaveLength(1);
    expect(text.filter((l) => l.startsWith("location"))).toHaveLength(2);
  });

  it("passes WebSocket upgrades with the event's map variable, long timeouts and no buffering", () => {
    const e = event();
    const text = lines(renderParticipant(e, planEvent(e).participants[0]!));
    expect(text).toEqual(
      expect.arrayContaining([
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        `proxy_set_header Connection ${nginxIds("test").upgradeVar};`,
        "proxy_set_header Host $http_host;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_read_timeout 1d;",
        "proxy_send_timeout 1d;",
        "proxy_buffering off;",
      ]),
    );
    expect(nginxIds("test").upgradeVar).toBe("$thon_test_connection");
    expect(nginxIds("dev-fest-2").upgradeVar).toBe("$thon_dev_fest_2_connection");
  });

  it("handles a deeper endpoint path without doubling it", () => {
    const text = lines(renderParticipant({ name: "e" }, { name: "alice", endpointPath: "/team/alice/" }));
    expect(text).toContain("location /team/alice/ {");
    expect(text).toContain("location = /team/alice {");
    expect(text).toContain("proxy_pass http://thon_e_alice/;");
  });

  it.each([
    ["no trailing slash", { endpointPath: "/alice" }, /endpoint path "\/alice"/],
    ["a regex character", { endpointPath: "/al.ce/" }, /endpoint path/],
  ])("refuses %s", (_what, p, message) => {
    expect(() => renderParticipant({ name: "e" }, { name: "alice", ...p })).toThrow(message);
  });

  it("is the same text for a participant whatever else is in the event", () => {
    const small = makeEvent({ alpha: ["alice"] });
    const big = makeEvent({ alpha: ["alice", "bob"], beta: ["carol"] });
    const a1 = planEvent(small).participants.find((p) => p.name === "alice")!;
    const a2 = planEvent(big).participants.find((p) => p.name === "alice")!;
    expect(renderParticipant(big, a2)).toBe(renderParticipant(small, a1));
  });

  it("matches the snapshot", () => {
    const e = event();
    expect(renderParticipant(e, planEvent(e).participants.find((p) => p.name === "team_7-b")!)).toMatchSnapshot();
  });
});

describe("upstream file", () => {
  it("names the participant's socket, per event, with idle connections kept shorter than code-server keeps them", () => {
    const e = event();
    const p = planEvent(e).participants.find((x) => x.name === "team_7-b")!;
    const text = lines(renderUpstream(e, p));
    expect(text).toContain("upstream thon_test_team_7-b {");
    expect(text).toContain("server unix:/var/lib/thon/sockets/team_7-b/code-server.sock;");
    expect(text).toContain(`keepalive ${UPSTREAM_KEEPALIVE};`);
    // node's http server (code-server) closes idle keep-alive connections after 5 s.
    const timeout = /^keepalive_timeout (\d+)s;$/.exec(text.find((l) => l.startsWith("keepalive_timeout"))!);
    expect(Number(timeout![1])).toBeLessThan(5);
    expect(lines(renderUpstream({ name: "dev-fest-2" }, p))).toContain("upstream thon_dev_fest_2_team_7-b {");
    expect(renderUpstream(e, p)).toMatchSnapshot();
  });

  it.each([
    ["a socket path with a space", { name: "alice", socketHostPath: "/s s/a.sock" }, /socket path of alice "\/s s\/a.sock" has characters nginx would misread/],
    ["a socket path with a semicolon", { name: "alice", socketHostPath: "/s;/a.sock" }, /nginx would misread/],
    ["a participant name nginx cannot use in a name", { name: "al/ce", socketHostPath: "/s/a.sock" }, /cannot name an nginx upstream/],
  ])("refuses %s", (_what, p, message) => {
    expect(() => renderUpstream({ name: "e" }, p)).toThrow(message);
  });

  it("is the same text for a participant whatever else is in the event", () => {
    const small = makeEvent({ alpha: ["alice"] });
    const big = makeEvent({ alpha: ["alice", "bob"], beta: ["carol"] });
    const a1 = planEvent(small).participants.find((p) => p.name === "alice")!;
    const a2 = planEvent(big).participants.find((p) => p.name === "alice")!;
    expect(renderUpstream(big, a2)).toBe(renderUpstream(small, a1));
  });
});

describe("server file", () => {
  it("listens with TLS 1.2/1.3 only, forward-secret AEAD ciphers, a session cache and no tickets", () => {
    const text = lines(renderServer(event()));
    expect(text).toContain("listen 443 ssl http2;");
    expect(text).toContain("ssl_protocols TLSv1.2 TLSv1.3;");
    expect(text).toContain(`ssl_ciphers ${TLS_CIPHERS};`);
    for (const cipher of TLS_CIPHERS.split(":")) expect(cipher).toMatch(/^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    expect(text).toContain("ssl_session_cache shared:thon_test:10m;");
    expect(text).toContain("ssl_session_tickets off;");
    expect(text.join("\n")).not.toMatch(/TLSv1(\.1)?[ ;]|SSLv3|RC4|3DES|MD5/);
  });

  it("serves the CA at /ca.crt, answers 404 for anything else and includes the participants' files inside the server", () => {
    const text = renderServer(event());
    expect(text).toMatch(/location = \/ca\.crt \{\n\s+alias \/etc\/nginx\/thon\/tls\/ca\.crt;\n\s+types \{ \}\n\s+default_type application\/x-x509-ca-cert;/);
    expect(text).toMatch(/location \/ \{\n\s+return 404;\n\s+\}/);
    // The include is the last thing inside the HTTPS server block.
    expect(text.trimEnd().endsWith("include /etc/nginx/thon/participants/*.conf;\n}")).toBe(true);
    expect(text).toContain("map $http_upgrade $thon_test_connection {");
  });

  it("answers an unreachable sandbox (502, 504) with its own page, keeping the status, from one literal nginx can read", () => {
    const text = renderServer(event());
    expect(text).toContain("error_page 502 504 @thon_unavailable;");
    expect(text).toContain(`return 502 '${UNAVAILABLE_PAGE}';`);
    // Inside nginx's single quotes: a quote would end the string, a $ would be a variable.
    expect(UNAVAILABLE_PAGE).not.toMatch(/['$\\\n]/);
    expect(UNAVAILABLE_PAGE).toContain("paused by the organizer");
    // proxy_intercept_errors stays off: code-server's own error answers are never replaced.
    expect(text).not.toMatch(/^\s*proxy_intercept_errors/m);
    // The wake form only where idle parking can have parked the sandbox.
    expect(UNAVAILABLE_PAGE).not.toContain("Wake my sandbox");
    expect(UNAVAILABLE_PAGE_WITH_WAKE).not.toMatch(/['$\\\n]/);
    expect(renderServer({ ...event(), idle: { ...event().idle, enabled: true } })).toContain(`return 502 '${UNAVAILABLE_PAGE_WITH_WAKE}';`);
    expect(renderParticipant(event(), planEvent(event()).participants[0]!)).not.toMatch(/^\s*proxy_intercept_errors/m);
  });

  it("includes the upstreams in the http context, before any server, and keeps plain requests' upstream connections open", () => {
    const text = renderServer(event());
    const include = text.indexOf("\ninclude /etc/nginx/thon/upstreams/*.conf;\n");
    expect(include).toBeGreaterThan(0);
    expect(include).toBeLessThan(text.indexOf("\nserver {"));
    // An empty Connection header (not "close") for plain requests; "upgrade" for WebSockets.
    expect(text).toMatch(/map \$http_upgrade \$thon_test_connection \{\n\s+default upgrade;\n\s+''\s+'';\n\}/);
  });

  it("redirects HTTP to HTTPS, with the port when it is not 443, and drops the redirect for httpPort 0", () => {
    expect(renderServer(event())).toContain("return 301 https://$host$request_uri;");
    const custom = renderServer(event("proxy:\n  httpsPort: 8443\n  httpPort: 8080\n"));
    expect(custom).toContain("listen 8080;");
    expect(custom).toContain("listen 8443 ssl http2;");
    expect(custom).toContain("return 301 https://$host:8443$request_uri;");
    const none = renderServer(event("proxy:\n  httpPort: 0\n"));
    expect(none).not.toContain("return 301");
    expect(none.match(/^server \{/gm)).toHaveLength(1);
  });

  it.each([
    ["127.0.0.1", "listen 127.0.0.1:443 ssl http2;", "listen 127.0.0.1:80;"],
    ["::1", "listen [::1]:443 ssl http2;", "listen [::1]:80;"],
  ])("listens on listenAddress %s only", (address, https, http) => {
    const text = lines(renderServer(event(`proxy:\n  listenAddress: "${address}"\n`)));
    expect(text).toContain(https);
    expect(text).toContain(http);
  });

  it("answers to the host and altNames, sorted and without duplicates, IPv6 in brackets", () => {
    expect(serverNames({ host: "thon.example.org", altNames: ["b.example.org", "A.example.org", "thon.example.org"] })).toEqual([
      "thon.example.org",
      "a.example.org",
      "b.example.org",
    ]);
    expect(serverNames({ host: "2001:db8::1", altNames: [] })).toEqual(["[2001:db8::1]"]);
    const withAltNames = (altNames: string[]) => renderServer({ ...event(), altNames });
    expect(withAltNames(["b.example.org", "a.example.org"])).toBe(withAltNames(["a.example.org", "b.example.org"]));
    expect(withAltNames(["b.example.org", "a.example.org"])).toContain("server_name 127.0.0.1 a.example.org b.example.org;");
  });

  it.each([
    ["ca", "/etc/nginx/thon/tls/server.crt", "/etc/nginx/thon/tls/server.key", "/etc/nginx/thon/tls/ca.crt", ""],
    ["selfsigned", "/etc/nginx/thon/tls/server.crt", "/etc/nginx/thon/tls/server.key", "/etc/nginx/thon/tls/server.crt", ""],
    [
      "provided",
      "/etc/letsencrypt/live/x/fullchain.pem",
      "/etc/letsencrypt/live/x/privkey.pem",
      undefined,
      "  certFile: /etc/letsencrypt/live/x/fullchain.pem\n  keyFile: /etc/letsencrypt/live/x/privkey.pem\n",
    ],
  ])("tls mode %s: certificate %s, key %s, /ca.crt from %s", (mode, cert, key, ca, more) => {
    const e = event(`tls:\n  mode: ${mode}\n${more}`);
    const layout = nginxLayout(e);
    expect(layout).toMatchObject({ certFile: cert, keyFile: key, caCertFile: ca });
    const text = lines(renderServer(e));
    expect(text).toContain(`ssl_certificate ${cert};`);
    expect(text).toContain(`ssl_certificate_key ${key};`);
    if (ca === undefined) expect(text.join("\n")).not.toContain("location = /ca.crt");
    else expect(text).toContain(`alias ${ca};`);
  });

  it("puts the access log (buffered: written in blocks, at most a second late) and the upload limit where the event says", () => {
    expect(lines(renderServer(event()))).toEqual(
      expect.arrayContaining(["access_log /var/log/nginx/thon-test.access.log combined buffer=64k flush=1s;", "client_max_body_size 100m;"]),
    );
    const text = lines(renderServer(event("proxy:\n  accessLog: /srv/log/thon.log\n  clientMaxBodySize: 1g\n")));
    expect(text).toEqual(expect.arrayContaining(["access_log /srv/log/thon.log combined buffer=64k flush=1s;", "client_max_body_size 1g;"]));
  });

  it("lays out the files under configDir and includeDir", () => {
    const layout = nginxLayout(event("proxy:\n  configDir: /opt/thon/\n  includeDir: /opt/nginx/conf.d\n"));
    expect(layout).toMatchObject({
      serverFile: "/opt/nginx/conf.d/thon-test.conf",
      participantsDir: "/opt/thon/participants",
      upstreamsDir: "/opt/thon/upstreams",
      tlsDir: "/opt/thon/tls",
    });
    expect(participantFile(layout, "0day")).toBe("/opt/thon/participants/0day.conf");
    expect(upstreamFile(layout, "0day")).toBe("/opt/thon/upstreams/0day.conf");
  });

  it("is deterministic and matches the snapshot", () => {
    expect(renderServer(event())).toBe(renderServer(event()));
    expect(renderServer(event())).toMatchSnapshot();
  });

  it("with a console: section, gives the console /_thon/ on its socket (unbuffered for SSE); matches the snapshot", () => {
    const text = renderServer(event("console:\n  changes: apply\n"));
    expect(lines(text)).toEqual(expect.arrayContaining(["location /_thon/ {", "proxy_pass http://unix:/var/lib/thon/sockets/_thon/console.sock:/;", "proxy_buffering off;", "proxy_set_header X-Real-IP $remote_addr;"]));
    // Before the catch-all, inside the HTTPS server only.
    expect(text.indexOf("location /_thon/")).toBeLessThan(text.indexOf("location / {"));
    expect(text.split("location /_thon/")).toHaveLength(2);
    expect(text.slice(text.indexOf("location /_thon/"))).toMatchSnapshot();
    expect(renderServer(event())).not.toContain("_thon");
  });
});

describe("reload script and manifest", () => {
  it("lists files sorted by path in sha256sum's format", () => {
    expect(renderManifest([{ path: "/b", sha256: "2".repeat(64) }, { path: "/a", sha256: "1".repeat(64) }])).toBe(
      `${"1".repeat(64)}  /a\n${"2".repeat(64)}  /b\n`,
    );
  });

  const options = {
    nginx: "nginx -c /x/nginx.conf",
    participantsDir: "/etc/nginx/thon/participants",
    upstreamsDir: "/etc/nginx/thon/upstreams",
    unlistedFiles: ["/etc/nginx/thon/tls/server.key"],
  };

  it("puts staged files in place, prunes stale participant files, checks the hashes, then nginx -t, and only then reloads", () => {
    const script = readFileSync(RELOAD_SCRIPT_FILE, "utf8");
    const at = (needle: string, from = 0) => {
      const i = script.indexOf(needle, from);
      expect(i, needle).toBeGreaterThanOrEqual(0);
      return i;
    };
    const main = at("owned | while read -r f; do");
    const order = [
      main,
      at('mv -f -- "$f.thon-staged" "$f"', main),
      at('for f in "$participants"/*.conf "$upstreams"/*.conf; do'),
      at("sha256sum --check --strict"),
      at("if ! out=$($nginx -t 2>&1)"),
      at("\nforget\n"),
      at("$nginx -s reload"),
    ];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The key is put in place with the listed files; a failed check or nginx -t undoes every step.
    expect(script).toContain('if [ -n "$unlisted" ]; then printf \'%s\\n\' "$unlisted"; fi');
    expect(script.split("\n  rejected\n").length - 1).toBe(2);
  });

  it("ships reload.sh with its arguments set in front, quoted for sh (snapshot of the arguments)", () => {
    expect(reloadArguments(options)).toMatchInlineSnapshot(`
      [
        "nginx -c /x/nginx.conf",
        "/etc/nginx/thon/participants",
        "/etc/nginx/thon/upstreams",
        "/etc/nginx/thon/tls/server.key",
      ]
    `);
    const shipped = renderReloadScript(options);
    expect(shipped.split("\n")[0]).toBe("set -- 'nginx -c /x/nginx.conf' '/etc/nginx/thon/participants' '/etc/nginx/thon/upstreams' '/etc/nginx/thon/tls/server.key'");
    expect(shipped.slice(shipped.indexOf("\n") + 1)).toBe(readFileSync(RELOAD_SCRIPT_FILE, "utf8"));
    // As shipped (arguments in front), it still passes shellcheck.
    const check = spawnSync("shellcheck", ["--shell=sh", "-"], { input: shipped, encoding: "utf8", timeout: 60_000 });
    expect(check.stdout).toBe("");
    expect(check.status).toBe(0);
  });

  it("refuses a path nginx would misread", () => {
    expect(() => renderReloadScript({ nginx: "nginx", participantsDir: "/p", upstreamsDir: "/u", unlistedFiles: ["/a b"] })).toThrow(/nginx would misread/);
  });
});

describe("file scripts", () => {
  it("quotes paths for sh and takes the content from stdin only", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    const script = writeFileScript("/etc/nginx/thon/tls/server.key", { mode: "0600" });
    expect(script).toContain("(umask 077 && cat > '/etc/nginx/thon/tls/server.key.thon-new')");
    expect(script).toContain("chmod 0600 '/etc/nginx/thon/tls/server.key.thon-new'");
    expect(script).toContain("chown '0:0' ");
    expect(script).toContain("mv -f -- '/etc/nginx/thon/tls/server.key.thon-new' '/etc/nginx/thon/tls/server.key'");
    expect(script).toContain("install -d -m 0755 -- '/etc/nginx/thon/tls'");
    expect(() => writeFileScript("/x", { mode: "644" })).toThrow(/octal mode/);
    expect(removeFileScript("/a b")).toBe("rm -f -- '/a b'\n");
  });
});
