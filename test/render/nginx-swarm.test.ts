// The Swarm renderers (edge and node servers) as plain functions: rules,
// snapshots, and `nginx -t` on the files of an entry node (edge and node
// server in one nginx) and of another node. test/swarm-routing-nginx.test.ts
// sends real traffic through both hops.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { planEvent } from "../../infra/plan.ts";
import {
  edgeTrustFile,
  nginxIds,
  nginxLayout,
  nodeLayout,
  nodeTlsName,
  nodeUpstreamFile,
  nodeUpstreamName,
  participantFile,
  renderEdgeParticipant,
  renderNodeServer,
  renderNodeUpstream,
  renderParticipant,
  renderServer,
  renderUpstream,
  upstreamFile,
} from "../../infra/render/nginx.ts";
import { makeEvent } from "../support/events.ts";
import { writeMainConf } from "../support/nginx.ts";

const event = (extra = "") => makeEvent({ alpha: ["alice", "bob", "team_7-b"] }, extra);
const lines = (text: string) => text.split("\n").map((l) => l.trim());
const n1 = { name: "n1", address: "192.0.2.10" };
const n2 = { name: "n2", address: "192.0.2.11" };
const nodeOptions = { nodePort: 8443, node: n2, entryAddress: n1.address };

describe("node server", () => {
  it("listens with TLS on the node's address and nodePort, answers the entry only, and includes this node's files", () => {
    const e = event();
    const text = lines(renderNodeServer(e, nodeOptions));
    expect(text).toContain("listen 192.0.2.11:8443 ssl;");
    expect(text).toEqual(expect.arrayContaining(["allow 192.0.2.10;", "deny all;"]));
    expect(text.indexOf("allow 192.0.2.10;")).toBeLessThan(text.indexOf("deny all;"));
    expect(text).toContain("ssl_certificate /etc/nginx/thon/node/tls/server.crt;");
    expect(text).toContain("ssl_certificate_key /etc/nginx/thon/node/tls/server.key;");
    expect(text).toContain("ssl_protocols TLSv1.2 TLSv1.3;");
    expect(text).toContain("include /etc/nginx/thon/node/upstreams/*.conf;");
    expect(text).toContain("error_page 502 504 @thon_unavailable;");
    const raw = renderNodeServer(e, nodeOptions);
    expect(raw.trimEnd().endsWith("include /etc/nginx/thon/node/participants/*.conf;\n}")).toBe(true);
    expect(raw).toMatch(/location \/ \{\n\s+return 404;\n\s+\}/);
    // Neither the CA download nor the console: those are the edge's.
    expect(raw).not.toContain("/ca.crt");
    expect(renderNodeServer(event("console:\n  changes: apply\n"), nodeOptions)).not.toContain("_thon/");
    expect(raw).toContain(`map $http_upgrade ${nginxIds("test").upgradeVar} {`);
    expect(raw).toMatchSnapshot();
  });

  it.each([
    ["an IPv6 node", { ...nodeOptions, node: { name: "n2", address: "2001:db8::11" }, entryAddress: "2001:db8::10" }, ["listen [2001:db8::11]:8443 ssl;", "allow 2001:db8::10;"]],
    ["a node named by host name", { ...nodeOptions, node: { name: "n2", address: "n2.lan" } }, ["listen 8443 ssl;", "allow 192.0.2.10;"]],
  ])("%s: %s", (_what, options, expected) => {
    expect(lines(renderNodeServer(event(), options))).toEqual(expect.arrayContaining(expected));
  });

  it("with a host name as the entry's address, leaves the allow list out and says why", () => {
    const text = renderNodeServer(event(), { ...nodeOptions, entryAddress: "n1.lan" });
    expect(text).not.toMatch(/^\s*(allow|deny) /m);
    expect(text).toContain("# The entry's address (n1.lan) is a host name, which allow cannot take:");
  });

  it.each([
    ["an address nginx would misread", { ...nodeOptions, node: { name: "n2", address: "a b" } }, /address of node n2 "a b" has characters nginx would misread/],
    ["an entry address nginx would misread", { ...nodeOptions, entryAddress: "x;y" }, /entry node's address "x;y"/],
    ["port 0", { ...nodeOptions, nodePort: 0 }, /target.nodePort 0 is not a port/],
    ["port 70000", { ...nodeOptions, nodePort: 70000 }, /target.nodePort 70000 is not a port/],
  ])("refuses %s", (_what, options, message) => {
    expect(() => renderNodeServer(event(), options)).toThrow(message);
  });

  it("keeps every file apart from the edge's (the entry node runs both)", () => {
    const e = event();
    const edge = nginxLayout(e);
    const node = nodeLayout(e);
    const paths = (l: typeof edge) => [l.serverFile, l.participantsDir, l.upstreamsDir, l.tlsDir, l.certFile, l.keyFile, l.accessLog];
    for (const p of paths(node)) expect(paths(edge)).not.toContain(p);
    expect(node).toMatchObject({
      serverFile: "/etc/nginx/conf.d/thon-test-node.conf",
      participantsDir: "/etc/nginx/thon/node/participants",
      upstreamsDir: "/etc/nginx/thon/node/upstreams",
      accessLog: "/var/log/nginx/thon-test.access.node.log",
      caCertFile: undefined,
    });
    expect(nodeLayout(event("proxy:\n  accessLog: /srv/thon-access\n")).accessLog).toBe("/srv/thon-access.node");
  });

  it("serves today's participant files: the location strips the prefix, the upstream is the socket", () => {
    const e = event();
    const alice = planEvent(e).participants.find((p) => p.name === "alice")!;
    expect(lines(renderParticipant(e, alice))).toContain("proxy_pass http://thon_test_alice/;");
    expect(lines(renderUpstream(e, alice))).toContain("server unix:/var/lib/thon/sockets/alice/code-server.sock;");
  });
});

describe("edge", () => {
  it("is today's public server, its upstreams being the nodes", () => {
    const e = event("console:\n  changes: apply\n");
    const edge = renderServer(e, { edge: true });
    const local = renderServer(e);
    const differ = (a: string, b: string) => a.split("\n").filter((l, i) => l !== b.split("\n")[i]);
    expect(differ(edge, local)).toEqual([
      '# THON event "test": the one HTTPS entry, the edge of a swarm. Written by Pulumi (thon:proxy:EdgeProxy);',
      "# One upstream per node: its nginx (the node server), over TLS.",
    ]);
    expect(edge).toContain("location = /ca.crt {");
    expect(edge).toContain("location /_thon/ {");
    expect(edge).toContain("error_page 502 504 @thon_unavailable;");
  });

  it("one upstream per node: its address and nodePort, with idle TLS connections kept", () => {
    const e = event();
    const text = lines(renderNodeUpstream(e, n2, 8443));
    expect(text).toContain("upstream thon-node_test_n2 {");
    expect(text).toContain("server 192.0.2.11:8443;");
    expect(text).toContain("keepalive 64;");
    expect(lines(renderNodeUpstream(e, { name: "n3", address: "2001:db8::3" }, 9443))).toContain("server [2001:db8::3]:9443;");
    expect(nodeUpstreamFile(nginxLayout(e), "n2")).toBe("/etc/nginx/thon/upstreams/n2.conf");
    expect(renderNodeUpstream(e, n2, 8443)).toMatchSnapshot();
  });

  it("names a node's upstream apart from any participant's, even one named like the node", () => {
    const ids = nginxIds("test");
    for (const user of ["n2", "node_n2", "node-n2"]) expect(nodeUpstreamName("test", "n2")).not.toBe(ids.upstream(user));
    expect(nodeUpstreamName("dev-fest", "n2")).toBe("thon-node_dev_fest_n2");
    expect(() => nodeUpstreamName("test", "n/2")).toThrow(/node name "n\/2" cannot name an nginx upstream/);
  });

  it("a participant's location: the whole path to their node over TLS, verified against the event CA by the event's name, WebSockets passed", () => {
    const e = event();
    const bob = planEvent(e).participants.find((p) => p.name === "bob")!;
    const text = lines(renderEdgeParticipant({ ...e, host: "thon.example.org" }, bob, n2));
    expect(text).toEqual(
      expect.arrayContaining([
        "location /bob/ {",
        "location = /bob {",
        "return 301 /bob/$is_args$args;",
        // No URI part: the node gets /bob/..., and strips it itself.
        "proxy_pass https://thon-node_test_n2;",
        "proxy_ssl_verify on;",
        "proxy_ssl_trusted_certificate /etc/nginx/thon/tls/ca.crt;",
        "proxy_ssl_server_name on;",
        "proxy_ssl_name thon.example.org;",
        "proxy_connect_timeout 5s;",
        "proxy_http_version 1.1;",
        "proxy_set_header Host $http_host;",
        "proxy_set_header Upgrade $http_upgrade;",
        `proxy_set_header Connection ${nginxIds("test").upgradeVar};`,
        "proxy_read_timeout 1d;",
        "proxy_buffering off;",
      ]),
    );
    expect(text.filter((l) => l.startsWith("proxy_pass"))).toHaveLength(1);
    expect(participantFile(nginxLayout(e), "bob")).toBe("/etc/nginx/thon/participants/bob.conf");
    expect(upstreamFile(nodeLayout(e), "bob")).toBe("/etc/nginx/thon/node/upstreams/bob.conf");
    expect(renderEdgeParticipant({ ...e, host: "thon.example.org" }, bob, n2)).toMatchSnapshot();
  });

  it.each([
    ["a DNS host", "thon.example.org", [], "thon.example.org"],
    ["an IP host with DNS altNames: the first, sorted", "192.0.2.1", ["z.example.org", "B.example.org", "192.0.2.2"], "b.example.org"],
    ["an IP host alone: the host (the certificate's CN)", "192.0.2.1", ["192.0.2.2"], "192.0.2.1"],
  ])("checks the node's certificate by name: %s", (_what, host, altNames, expected) => {
    expect(nodeTlsName({ host, altNames })).toBe(expected);
  });

  it("trusts the self-signed certificate in mode selfsigned, and refuses mode provided by its field", () => {
    const e = event("tls:\n  mode: selfsigned\n");
    expect(edgeTrustFile(e)).toBe("/etc/nginx/thon/tls/server.crt");
    const provided = event("tls:\n  mode: provided\n  certFile: /etc/letsencrypt/live/x/fullchain.pem\n  keyFile: /etc/letsencrypt/live/x/privkey.pem\n");
    const bob = planEvent(provided).participants.find((p) => p.name === "bob")!;
    expect(() => renderEdgeParticipant(provided, bob, n2)).toThrow(/tls.mode provided cannot secure the hop from the edge to the nodes/);
  });

  it("refuses an endpoint path nginx would misread", () => {
    expect(() => renderEdgeParticipant(event(), { name: "bob", endpointPath: "/b.b/" }, n2)).toThrow(/endpoint path "\/b.b\/" of bob/);
  });

  it("is the same text for a participant whatever else is in the event or on the node", () => {
    const small = makeEvent({ alpha: ["bob"] });
    const big = makeEvent({ alpha: ["alice", "bob"], beta: ["carol"] });
    const b1 = planEvent(small).participants[0]!;
    const b2 = planEvent(big).participants.find((p) => p.name === "bob")!;
    expect(renderEdgeParticipant(big, b2, n2)).toBe(renderEdgeParticipant(small, b1, n2));
  });
});

describe("nginx -t", () => {
  const root = mkdtempSync(join(tmpdir(), "thon-swarm-render-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** Writes a file, making its folder. */
  const put = (path: string, text: string) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  };

  /** One host's folders and nginx.conf, with a CA and a server certificate it signed (openssl). */
  function host(name: string) {
    const dir = join(root, name);
    const e = makeEvent(
      { alpha: ["alice", "bob"] },
      `proxy:\n  configDir: ${dir}/etc/thon\n  includeDir: ${dir}/etc/conf.d\n  socketDir: ${dir}/sockets\n  accessLog: ${dir}/log/access.log\nconsole:\n  changes: apply\n`,
    );
    const { command } = writeMainConf(join(dir, "nginx"), { includeGlob: `${dir}/etc/conf.d/*.conf` });
    mkdirSync(join(dir, "log"), { recursive: true });
    return { dir, e, command };
  }

  function certificates(layouts: ReturnType<typeof nginxLayout>[]) {
    const tmp = join(root, "pki");
    mkdirSync(tmp, { recursive: true });
    const run = (args: string[]) => execFileSync("openssl", args, { cwd: tmp, stdio: "pipe" });
    run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=test CA", "-days", "1"]);
    run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
    run(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1"]);
    for (const l of layouts) {
      put(l.certFile, execFileSync("cat", [join(tmp, "server.crt")], { encoding: "utf8" }));
      put(l.keyFile, execFileSync("cat", [join(tmp, "server.key")], { encoding: "utf8" }));
      if (l.caCertFile) put(l.caCertFile, execFileSync("cat", [join(tmp, "ca.crt")], { encoding: "utf8" }));
    }
  }

  const test = (command: string) => {
    const [bin, ...args] = command.split(" ");
    return spawnSync(bin!, ["-t", ...args], { encoding: "utf8", timeout: 30_000 });
  };

  it("accepts the entry node's files (edge and node server in one nginx) and another node's, with nginx's own parser", () => {
    const nodes = [
      { name: "n1", address: "127.0.0.1" },
      { name: "n2", address: "127.0.0.2" },
    ];
    const placed: Record<string, (typeof nodes)[number]> = { alice: nodes[0]!, bob: nodes[1]! };
    const entry = host("entry");
    const other = host("other");
    certificates([nginxLayout(entry.e), nodeLayout(entry.e), nodeLayout(other.e)]);

    // The entry node: the edge, and n1's node server with alice.
    const edge = nginxLayout(entry.e);
    put(edge.serverFile, renderServer(entry.e, { edge: true }));
    for (const n of nodes) put(nodeUpstreamFile(edge, n.name), renderNodeUpstream(entry.e, n, 18443));
    for (const p of planEvent(entry.e).participants) put(participantFile(edge, p.name), renderEdgeParticipant(entry.e, p, placed[p.name]!));
    const deploy = (h: typeof entry, node: (typeof nodes)[number]) => {
      const l = nodeLayout(h.e);
      put(l.serverFile, renderNodeServer(h.e, { nodePort: 18443, node, entryAddress: nodes[0]!.address }));
      for (const p of planEvent(h.e).participants.filter((x) => placed[x.name] === node)) {
        put(upstreamFile(l, p.name), renderUpstream(h.e, p));
        put(participantFile(l, p.name), renderParticipant(h.e, p));
      }
    };
    deploy(entry, nodes[0]!);
    deploy(other, nodes[1]!);

    for (const h of [entry, other]) {
      const res = test(h.command);
      expect(res.stderr).toContain("syntax is ok");
      expect(res.status, res.stderr).toBe(0);
    }
  });
});
