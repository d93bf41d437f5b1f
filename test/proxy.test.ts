// The Tls and Proxy components under Pulumi's mocks: the resources they
// declare, their order, what is secret, and that participants never reach
// the certificates. The tests evaluate with real certificates (test/support/tlsStandIn.ts), so
// these tests also check what a certificate from these inputs contains.
import { X509Certificate } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { Proxy } from "../components/proxy.ts";
import { certificateNames, Tls } from "../components/tls.ts";
import { parseThonFile, ThonConfigError } from "../infra/config/load.ts";
import { toEvent } from "../infra/config/event.ts";
import { evaluate, type Evaluation, type RecordedResource } from "../infra/preview/evaluate.ts";
import { planEvent } from "../infra/plan.ts";
import { createTarget } from "../infra/target.ts";
import { eventYaml, makeEvent } from "./support/events.ts";
import { find, runEvent } from "./support/program.ts";

const CMD = "command:local:Command";
const children = (e: Evaluation, parent: RecordedResource) => e.resources.filter((r) => r.parent === parent.urn).map((r) => `${r.type}::${r.name}`).sort();
const withEvent = (eventSection: string, users = ["alice"]) =>
  toEvent(parseThonFile(`event:\n${eventSection}groups:\n  alpha:\n    users: [${users.join(", ")}]\n`));

describe("Tls: the event CA and the server certificate (mode ca)", () => {
  it("declares a CA key and certificate, then a server key, CSR and CA-signed certificate, under thon-tls", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }));
    const tls = find(e, "thon:tls:Tls", "thon-tls");
    expect(children(e, tls)).toEqual([
      "tls:index/certRequest:CertRequest::thon-tls-server-csr",
      "tls:index/locallySignedCert:LocallySignedCert::thon-tls-server-cert",
      "tls:index/privateKey:PrivateKey::thon-tls-ca-key",
      "tls:index/privateKey:PrivateKey::thon-tls-server-key",
      "tls:index/selfSignedCert:SelfSignedCert::thon-tls-ca-cert",
    ]);
    expect(find(e, "tls:index/privateKey:PrivateKey", "thon-tls-ca-key").inputs).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
    expect(find(e, "tls:index/selfSignedCert:SelfSignedCert", "thon-tls-ca-cert").inputs).toMatchObject({
      isCaCertificate: true,
      allowedUses: ["certSigning", "crlSigning", "digitalSignature"],
      validityPeriodHours: 365 * 24,
      subject: { organization: "THON", commonName: "THON test event CA" },
    });
    expect(find(e, "tls:index/certRequest:CertRequest", "thon-tls-server-csr").inputs).toMatchObject({
      ipAddresses: ["127.0.0.1"],
      subject: { organization: "THON", commonName: "127.0.0.1" },
    });
    expect(find(e, "tls:index/locallySignedCert:LocallySignedCert", "thon-tls-server-cert").inputs).toMatchObject({
      allowedUses: ["digitalSignature", "serverAuth"],
      validityPeriodHours: 90 * 24,
      earlyRenewalHours: 30 * 24,
    });
  });

  it("makes a real CA and a server certificate it signed, with the event's names and lifetimes", async () => {
    const e = await runEvent(withEvent("  name: devfest\n  host: 127.0.0.1\n  altNames: [thon.example.org, 192.0.2.10, localhost]\n"));
    const caPem = e.outputs.caCertPem as string;
    const leafPem = find(e, CMD, "thon-proxy-server-cert").inputs.stdin as string;
    const ca = new X509Certificate(caPem);
    const leaf = new X509Certificate(leafPem);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toContain("CN=THON devfest event CA");
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe("DNS:localhost, DNS:thon.example.org, IP Address:127.0.0.1, IP Address:192.0.2.10");
    expect(leaf.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]); // serverAuth
    const days = (x: X509Certificate) => (Date.parse(x.validTo) - Date.parse(x.validFrom)) / 86_400_000;
    expect(days(leaf)).toBe(90);
    expect(days(ca)).toBe(365);
    // openssl agrees, strictly.
    const dir = mkdtempSync(join(tmpdir(), "thon-verify-"));
    writeFileSync(join(dir, "ca.pem"), caPem);
    writeFileSync(join(dir, "leaf.pem"), leafPem);
    try {
      expect(execFileSync("openssl", ["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", "ca.pem", "leaf.pem"], { cwd: dir, encoding: "utf8" })).toContain("leaf.pem: OK");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ["RSA 3072", "  algorithm: RSA\n", "rsa", { modulusLength: 3072 }],
    ["ECDSA P384", "  ecdsaCurve: P384\n", "ec", { namedCurve: "secp384r1" }],
  ])("honours tls.algorithm: %s", async (_label, tlsYaml, keyType, details) => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }, `tls:\n${tlsYaml}`));
    const leaf = new X509Certificate(find(e, CMD, "thon-proxy-server-cert").inputs.stdin as string);
    expect(leaf.publicKey.asymmetricKeyType).toBe(keyType);
    expect(leaf.publicKey.asymmetricKeyDetails).toMatchObject(details);
    const text = execFileSync("openssl", ["x509", "-noout", "-text"], { input: leaf.toString(), encoding: "utf8" });
    expect(text).toContain(keyType === "rsa" ? "sha256WithRSAEncryption" : "ecdsa-with-SHA384");
    if (keyType === "rsa") expect(text).toMatch(/Digital Signature, Key Encipherment/);
  });

  it("never changes when participants change: same inputs for every tls resource", async () => {
    const small = await runEvent(makeEvent({ alpha: ["alice"] }));
    const big = await runEvent(makeEvent({ alpha: ["alice", "bob"], beta: ["carol", "0day"] }));
    const tlsOf = (e: Evaluation) => e.resources.filter((r) => r.type.startsWith("tls:")).map((r) => [r.name, r.inputsHash]);
    expect(tlsOf(big)).toEqual(tlsOf(small));
    expect(tlsOf(small)).toHaveLength(5);
    for (const name of ["thon-proxy-ca-cert", "thon-proxy-server-cert", "thon-proxy-server-key", "thon-proxy-server"]) {
      expect(find(big, CMD, name).inputsHash, name).toBe(find(small, CMD, name).inputsHash);
    }
  });

  it("names: IPs become IP SANs, the rest DNS SANs, sorted and deduplicated", () => {
    expect(certificateNames("Thon.Example.org", ["203.0.113.7", "thon.example.org", "a.example.org", "::1"])).toEqual({
      commonName: "thon.example.org",
      dnsNames: ["a.example.org", "thon.example.org"],
      ipAddresses: ["203.0.113.7", "::1"],
    });
    const long = `${"a".repeat(60)}.example.org`;
    expect(certificateNames(long, []).commonName).toBeUndefined();
  });
});

describe("Tls: other modes", () => {
  it("selfsigned: one key and one self-signed server certificate, served as /ca.crt", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }, "tls:\n  mode: selfsigned\n"));
    expect(children(e, find(e, "thon:tls:Tls", "thon-tls"))).toEqual([
      "tls:index/privateKey:PrivateKey::thon-tls-server-key",
      "tls:index/selfSignedCert:SelfSignedCert::thon-tls-server-cert",
    ]);
    const cert = find(e, "tls:index/selfSignedCert:SelfSignedCert", "thon-tls-server-cert").inputs;
    expect(cert).toMatchObject({ ipAddresses: ["127.0.0.1"], allowedUses: ["digitalSignature", "serverAuth"] });
    expect(cert.isCaCertificate).toBeUndefined();
    expect(e.resources.some((r) => r.name === "thon-proxy-ca-cert")).toBe(false);
    expect(e.outputs.caCertPem).toBe(find(e, CMD, "thon-proxy-server-cert").inputs.stdin);
    expect(find(e, CMD, "thon-proxy-server").inputs.stdin).toContain("alias /etc/nginx/thon/tls/server.crt;");
  });

  it("provided: no tls resources and no key in the program; a check on the host, nginx reads the files in place", async () => {
    const e = await runEvent(
      makeEvent({ alpha: ["alice"] }, "tls:\n  mode: provided\n  certFile: /etc/letsencrypt/live/t/fullchain.pem\n  keyFile: /etc/letsencrypt/live/t/privkey.pem\n"),
    );
    expect(e.resources.filter((r) => r.type.startsWith("tls:"))).toEqual([]);
    const check = find(e, CMD, "thon-tls-provided-check");
    expect(check.parent).toBe(find(e, "thon:tls:Tls", "thon-tls").urn);
    expect(check.inputs.create).toContain("openssl x509 -in '/etc/letsencrypt/live/t/fullchain.pem' -noout -pubkey");
    expect(check.inputs.triggers).toEqual(["/etc/letsencrypt/live/t/fullchain.pem", "/etc/letsencrypt/live/t/privkey.pem"]);
    const server = find(e, CMD, "thon-proxy-server").inputs.stdin as string;
    expect(server).toContain("ssl_certificate /etc/letsencrypt/live/t/fullchain.pem;");
    expect(server).toContain("ssl_certificate_key /etc/letsencrypt/live/t/privkey.pem;");
    expect(e.resources.some((r) => /^thon-proxy-(server-cert|server-key|ca-cert)$/.test(r.name))).toBe(false);
    expect(find(e, CMD, "thon-proxy-reload").options.dependencies).toContain(check.urn);
    expect(e.outputs.caCertUrl).toBeNull();
  });
});

describe("Proxy: files through the target, one reload", () => {
  it("writes the certificates, the server file and two files per participant (location, upstream), and reloads after all of them", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice", "0day"], beta: ["team_7-b"] }));
    const proxy = find(e, "thon:proxy:Proxy", "thon-proxy");
    const files = [
      "thon-nginx-0day",
      "thon-nginx-alice",
      "thon-nginx-team_7-b",
      "thon-proxy-ca-cert",
      "thon-proxy-server",
      "thon-proxy-server-cert",
      "thon-proxy-server-key",
      "thon-upstream-0day",
      "thon-upstream-alice",
      "thon-upstream-team_7-b",
    ];
    // Each file is a thon:host:File whose one child, of the same name, writes it.
    expect(children(e, proxy)).toEqual([`${CMD}::thon-proxy-reload`, ...files.map((n) => `thon:host:File::${n}`)]);
    for (const n of files) expect(children(e, find(e, "thon:host:File", n))).toEqual([`${CMD}::${n}`]);
    const file = find(e, CMD, "thon-nginx-team_7-b").inputs;
    // Written staged, beside the live file; only the reload puts it in place.
    expect(file.create).toContain("mv -f -- '/etc/nginx/thon/participants/team_7-b.conf.thon-staged.thon-new' '/etc/nginx/thon/participants/team_7-b.conf.thon-staged'");
    expect(file.delete).toBe("set -eu\nrm -f -- '/etc/nginx/thon/participants/team_7-b.conf'\nrm -f -- '/etc/nginx/thon/participants/team_7-b.conf.thon-staged'\n");
    expect(file.stdin).toContain("location /team_7-b/ {");
    const upstream = find(e, CMD, "thon-upstream-team_7-b").inputs;
    expect(upstream.create).toContain("mv -f -- '/etc/nginx/thon/upstreams/team_7-b.conf.thon-staged.thon-new' '/etc/nginx/thon/upstreams/team_7-b.conf.thon-staged'");
    expect(upstream.delete).toBe("set -eu\nrm -f -- '/etc/nginx/thon/upstreams/team_7-b.conf'\nrm -f -- '/etc/nginx/thon/upstreams/team_7-b.conf.thon-staged'\n");
    expect(upstream.stdin).toContain("server unix:/var/lib/thon/sockets/team_7-b/code-server.sock;");
    expect(find(e, CMD, "thon-proxy-server").inputs.create).toContain("'/etc/nginx/conf.d/thon-test.conf.thon-staged'");
    const reload = find(e, CMD, "thon-proxy-reload");
    const urns = files.map((n) => find(e, CMD, n).urn);
    expect(reload.options.dependencies).toEqual(expect.arrayContaining(urns));
    // The manifest lists every file but the key, with its content's hash.
    const manifest = (reload.inputs.stdin as string).trim().split("\n").map((l) => l.split("  ")[1]);
    expect(manifest).toEqual([
      "/etc/nginx/conf.d/thon-test.conf",
      "/etc/nginx/thon/participants/0day.conf",
      "/etc/nginx/thon/participants/alice.conf",
      "/etc/nginx/thon/participants/team_7-b.conf",
      "/etc/nginx/thon/tls/ca.crt",
      "/etc/nginx/thon/tls/server.crt",
      "/etc/nginx/thon/upstreams/0day.conf",
      "/etc/nginx/thon/upstreams/alice.conf",
      "/etc/nginx/thon/upstreams/team_7-b.conf",
    ]);
    expect(reload.inputs.create).toContain("nginx -t");
    expect(reload.inputs.create).toContain("nginx -s reload");
    // Participant files go before the server file on destroy (they depend on it), which goes before the certificates.
    expect(find(e, CMD, "thon-nginx-alice").options.dependencies).toEqual([find(e, CMD, "thon-proxy-server").urn]);
    expect(find(e, CMD, "thon-upstream-alice").options.dependencies).toEqual([find(e, CMD, "thon-proxy-server").urn]);
    expect(find(e, CMD, "thon-proxy-server").options.dependencies).toEqual(
      [find(e, CMD, "thon-proxy-ca-cert").urn, find(e, CMD, "thon-proxy-server-cert").urn, find(e, CMD, "thon-proxy-server-key").urn].sort(),
    );
  });

  it("keeps both private keys secret in state and off every command line", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }));
    const keys = e.resources
      .filter((r) => r.type === "tls:index/privateKey:PrivateKey")
      .map((r) => r.name);
    expect(keys).toEqual(["thon-tls-ca-key", "thon-tls-server-key"]);
    for (const name of keys) {
      expect(find(e, "tls:index/privateKey:PrivateKey", name).options.additionalSecretOutputs).toContain("privateKeyPem");
    }
    expect(find(e, "tls:index/certRequest:CertRequest", "thon-tls-server-csr").secretInputs).toEqual(["privateKeyPem"]);
    expect(find(e, "tls:index/selfSignedCert:SelfSignedCert", "thon-tls-ca-cert").secretInputs).toEqual(["privateKeyPem"]);
    expect(find(e, "tls:index/locallySignedCert:LocallySignedCert", "thon-tls-server-cert").secretInputs).toEqual(["caPrivateKeyPem"]);

    const keyFile = find(e, CMD, "thon-proxy-server-key");
    expect(keyFile.secretInputs).toEqual(["stdin"]);
    expect(keyFile.inputs.stdin).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect(keyFile.inputs.create).toContain("(umask 077 && cat > '/etc/nginx/thon/tls/server.key.thon-staged.thon-new')");
    // Not in the manifest (its hash would make it secret), so the reload is told to put it in place.
    expect((find(e, CMD, "thon-proxy-reload").inputs.create as string).split("\n")[1]).toBe(
      "set -- 'nginx' '/etc/nginx/thon/participants' '/etc/nginx/thon/upstreams' '/etc/nginx/thon/tls/server.key'",
    );
    expect(keyFile.inputs.create).toContain("chmod 0600 ");

    const keyTexts = [keyFile.inputs.stdin as string, find(e, "tls:index/locallySignedCert:LocallySignedCert", "thon-tls-server-cert").inputs.caPrivateKeyPem as string];
    expect(keyTexts[0]).not.toBe(keyTexts[1]); // the server's key is not the CA's
    const keyBody = (pem: string) => pem.split("\n")[1]!; // a line of the base64 body
    for (const r of e.resources.filter((x) => x.type === CMD)) {
      const visible = JSON.stringify({ ...r.inputs, stdin: r.secretInputs.includes("stdin") ? "" : r.inputs.stdin });
      for (const k of keyTexts) expect(visible, r.name).not.toContain(keyBody(k));
      if (r.name !== "thon-proxy-server-key") expect(r.secretInputs, r.name).toEqual([]);
    }
    // The CA certificate is public: a plain output; no key in any output that is not secret.
    expect(e.secretOutputs).not.toContain("caCertPem");
    expect(e.secretOutputs).not.toContain("caCertUrl");
    const publicOutputs = JSON.stringify(Object.fromEntries(Object.entries(e.outputs).filter(([k]) => !e.secretOutputs.includes(k))));
    for (const k of keyTexts) expect(publicOutputs).not.toContain(keyBody(k));
    expect(e.outputs.caCertPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it("gives https URLs, the CA's URL and PEM as outputs, with the port when it is not 443", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }, "proxy:\n  httpsPort: 8443\n"));
    expect(e.outputs.caCertUrl).toBe("https://127.0.0.1:8443/ca.crt");
    expect(e.outputs.event).toMatchObject({ url: "https://127.0.0.1:8443/", caCertUrl: "https://127.0.0.1:8443/ca.crt" });
    expect((e.outputs.participants as Record<string, { url: string }>).alice!.url).toBe("https://127.0.0.1:8443/alice/");
  });

  it("declares the same files as remote commands on an SSH target", async () => {
    const dir = mkdtempSync(join(tmpdir(), "thon-ssh-"));
    writeFileSync(join(dir, "id"), "not a real key\n");
    const e = await runEvent(makeEvent({ alpha: ["alice"] }, `target:\n  kind: ssh\n  host: 192.0.2.1\n  privateKeyFile: ${dir}/id\n`)).finally(() =>
      rmSync(dir, { recursive: true, force: true }),
    );
    const local = await runEvent(makeEvent({ alpha: ["alice"] }));
    for (const name of ["thon-nginx-alice", "thon-proxy-server", "thon-proxy-server-key", "thon-proxy-reload"]) {
      const remote = find(e, "command:remote:Command", name);
      expect(remote.inputs.create, name).toBe(find(local, CMD, name).inputs.create);
      expect(remote.inputs.connection).toMatchObject({ host: "192.0.2.1", user: "root", port: 22 });
    }
    expect(find(e, "command:remote:Command", "thon-proxy-server-key").secretInputs).toEqual(expect.arrayContaining(["stdin"]));
  });
});

describe("thon.yaml rules for the proxy", () => {
  it.each([
    ["proxy.mode container (not implemented, so not a value thon.yaml knows)", "proxy:\n  mode: container\n", 'proxy.mode: "container" is not allowed. Fix: use one of "host"'],
    ["a socket group that is not a group name", "proxy:\n  socketGroup: \"www-data'; rm -rf /\"\n", "proxy.socketGroup must be a group name"],
    ["an empty socket group", "proxy:\n  socketGroup: ''\n", "proxy.socketGroup must be a group name"],
    ["a configDir nginx would misread", "proxy:\n  configDir: /etc/nginx/my thon\n", 'proxy.configDir "/etc/nginx/my thon" goes into nginx\'s configuration'],
    ["a provided key path with a $", "tls:\n  mode: provided\n  certFile: /c.pem\n  keyFile: /k$.pem\n", "tls.keyFile"],
    ["a listen address that is not an IP", "proxy:\n  listenAddress: localhost\n", "proxy.listenAddress must be an IP address"],
  ])("refuses %s", (_what, extra, message) => {
    expect(() => parseThonFile(eventYaml({ a: ["x"] }, extra))).toThrow(ThonConfigError);
    expect(() => parseThonFile(eventYaml({ a: ["x"] }, extra))).toThrow(message);
  });
});

describe("Proxy: renderer errors name the resource", () => {
  it("fails with a ResourceError of thon-proxy that says which file it was rendering", async () => {
    const event = makeEvent({ alpha: ["alice"] });
    const [alice] = planEvent(event).participants;
    const failure = evaluate(() => {
      const target = createTarget(event.target);
      const tls = new Tls("thon-tls", { eventName: event.name, host: event.host, altNames: event.altNames, tls: event.tls, target });
      new Proxy("thon-proxy", { event, participants: [{ ...alice!, endpointPath: "/al ice/" }], tls, target });
    });
    await expect(failure).rejects.toBeInstanceOf(pulumi.ResourceError);
    await expect(failure).rejects.toThrow('the nginx location of alice: endpoint path "/al ice/" of alice must look like /name/');
  });
});
