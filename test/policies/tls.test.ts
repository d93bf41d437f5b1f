// TLS policies. The proxy issue has not landed yet, so these run on
// @pulumi/tls resources declared by a small program under mocks (the shape
// the proxy is expected to take: a key, a CA, a server certificate and a
// command writing the key), plus fabricated variants.
import { beforeAll, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { evaluate, type Evaluation } from "../../infra/mock/evaluate.ts";
import { registerMockOutputs } from "../../infra/mock/mocks.ts";
import { createTarget } from "../../infra/target.ts";
import { stackResources } from "../../infra/policy/analyzer.ts";
import { keyScriptProblems } from "../../policies/tls.ts";
import { resource, runResourcePolicy, runStackPolicy, withProps, WIRE, type PolicyRun, type TestResource } from "../support/policies.ts";

function messages(run: PolicyRun, policy: string): string[] {
  for (const v of run.violations) expect(v.policy).toBe(policy);
  return run.violations.map((v) => v.message);
}

const T = {
  key: "tls:index/privateKey:PrivateKey",
  selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
  locallySigned: "tls:index/locallySignedCert:LocallySignedCert",
  command: "command:local:Command",
  container: "docker:index/container:Container",
  stack: "pulumi:pulumi:Stack",
};

interface TlsShape {
  readonly writeKey?: string;
  readonly serverDays?: number;
  readonly caDays?: number;
}

/** A CA and server certificate as the proxy issue plans them, with the key written through the target. */
function tlsProgram(shape: TlsShape = {}) {
  return () => {
    const target = createTarget({ kind: "local", dockerHost: "unix:///var/run/docker.sock" });
    const caKey = new tls.PrivateKey("thon-ca-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const ca = new tls.SelfSignedCert("thon-ca", {
      privateKeyPem: caKey.privateKeyPem,
      isCaCertificate: true,
      validityPeriodHours: (shape.caDays ?? 365) * 24,
      allowedUses: ["cert_signing", "crl_signing"],
      subject: { commonName: "THON test CA", organization: "THON" },
    });
    const key = new tls.PrivateKey("thon-server-key", { algorithm: "RSA", rsaBits: 3072 });
    const csr = new tls.CertRequest("thon-server-csr", { privateKeyPem: key.privateKeyPem, ipAddresses: ["127.0.0.1"], subject: { commonName: "127.0.0.1" } });
    new tls.LocallySignedCert("thon-server-cert", {
      certRequestPem: csr.certRequestPem,
      caCertPem: ca.certPem,
      caPrivateKeyPem: caKey.privateKeyPem,
      validityPeriodHours: (shape.serverDays ?? 90) * 24,
      allowedUses: ["key_encipherment", "digital_signature", "server_auth"],
    });
    target.command("thon-server-key-file", {
      create: shape.writeKey ?? "install -d -m 0750 /etc/nginx/thon && install -m 0600 /dev/stdin /etc/nginx/thon/server.key",
      stdin: key.privateKeyPem,
    });
    target.command("thon-server-cert-file", { create: "install -m 0644 /dev/stdin /etc/nginx/thon/server.crt", stdin: ca.certPem });
    return { event: pulumi.output({ name: "tls", host: "127.0.0.1", altNames: [], tlsMaxValidityDays: 397, participantCount: 0, groups: {} }) };
  };
}

const PEM = (what: string) => `-----BEGIN ${what}-----\nMIIB\n-----END ${what}-----\n`;
let good: Evaluation;
beforeAll(async () => {
  
  registerMockOutputs(T.key, (_name, i) => ({ privateKeyPem: PEM(`${String(i.algorithm) === "RSA" ? "RSA " : "EC "}PRIVATE KEY`), publicKeyPem: PEM("PUBLIC KEY") }));
  registerMockOutputs(T.selfSigned, () => ({ certPem: PEM("CERTIFICATE") }));
  registerMockOutputs(T.locallySigned, () => ({ certPem: PEM("CERTIFICATE") }));
  registerMockOutputs("tls:index/certRequest:CertRequest", () => ({ certRequestPem: PEM("CERTIFICATE REQUEST") }));
  good = await evaluate(tlsProgram());
});

const byName = (e: Evaluation, name: string) => stackResources(e).find((r) => r.name === name)!;

describe("thon-tls-key-strength", () => {
  const policy = "thon-tls-key-strength";
  it("passes ECDSA P256 and RSA 3072 keys", async () => {
    expect((await runResourcePolicy(policy, byName(good, "thon-ca-key"))).violations).toEqual([]);
    expect((await runResourcePolicy(policy, byName(good, "thon-server-key"))).violations).toEqual([]);
    expect((await runResourcePolicy(policy, resource(T.key, "k", { algorithm: "RSA" }))).violations).toEqual([]); // provider default 2048
    expect((await runResourcePolicy(policy, resource(T.key, "k", { algorithm: "ED25519" }))).violations).toEqual([]);
  });
  it.each([
    [{ algorithm: "RSA", rsaBits: 1024 }, "k is an RSA key of 1024 bits; at least 2048 are needed"],
    [{ algorithm: "ECDSA", ecdsaCurve: "P224" }, "k is an ECDSA key on P224; use one of P256, P384, P521"],
    [{ algorithm: "ECDSA" }, "k is an ECDSA key on P224 (the provider's default); use one of P256, P384, P521"],
    [{ algorithm: "DSA" }, 'k uses algorithm "DSA"; use RSA, ECDSA or ED25519'],
    [{ algorithm: WIRE.unknown }, "k: the key algorithm is unknown at preview"],
  ])("fails %j", async (props, expected) => {
    expect(messages(await runResourcePolicy(policy, resource(T.key, "k", props)), policy)).toEqual([expected]);
  });
  it("honours a stricter minimum from the config", async () => {
    const run = await runResourcePolicy(policy, byName(good, "thon-server-key"), { minRsaBits: 4096 });
    expect(messages(run, policy)).toEqual(["thon-server-key is an RSA key of 3072 bits; at least 4096 are needed"]);
  });
});

describe("thon-tls-cert-validity", () => {
  const policy = "thon-tls-cert-validity";
  it("passes a 90-day server certificate and a 365-day CA", async () => {
    expect((await runStackPolicy(policy, good)).violations).toEqual([]);
  });
  it("fails a certificate longer than the event's tls.maxValidityDays (from the stack output)", async () => {
    const long = await evaluate(tlsProgram({ serverDays: 398 }));
    const m = messages(await runStackPolicy(policy, long), policy);
    expect(m).toEqual(["thon-server-cert: the certificate is valid 9552 hours (398 days), longer than 397 days"]);
  });
  it("fails a CA longer than the maximum, and takes the maximum from the config first, then the event output", async () => {
    const run = await runStackPolicy(policy, good, { maxValidityDays: 100 });
    expect(messages(run, policy)).toEqual(["thon-ca: the CA certificate is valid 8760 hours (365 days), longer than 100 days"]);
    const lowered = stackResources(good).map((r) => (r.type === T.stack ? { ...r, properties: { event: { tlsMaxValidityDays: 30 } } } : r));
    expect(messages(await runStackPolicy(policy, lowered), policy)).toHaveLength(2);
  });
  it("fails a lifetime unknown at preview", async () => {
    const unknown = stackResources(good).map((r) => (r.name === "thon-server-cert" ? withProps(r, { validityPeriodHours: WIRE.unknownNumber }) : r));
    expect(messages(await runStackPolicy(policy, unknown), policy)).toEqual(["thon-server-cert: validityPeriodHours is unknown at preview; give a literal lifetime"]);
  });
});

describe("thon-tls-key-file-mode", () => {
  const policy = "thon-tls-key-file-mode";
  it("passes a key written with install -m 0600 (and a certificate written 0644)", async () => {
    expect((await runStackPolicy(policy, good)).violations).toEqual([]);
    expect(byName(good, "thon-server-key-file").dependencies).toContain(byName(good, "thon-server-key").urn);
  });
  it("fails a key written without mode 0600, found through its dependency on the key", async () => {
    const loose = await evaluate(tlsProgram({ writeKey: "cat > /etc/nginx/thon/tls.pem" }));
    expect(messages(await runStackPolicy(policy, loose), policy)).toEqual([
      "thon-server-key-file: the create script writes a private key but does not set mode 0600 (e.g. install -m 0600 /dev/stdin <file>, or umask 077)",
    ]);
  });
  it("fails a key file given a group- or world-readable mode", async () => {
    const loose = await evaluate(tlsProgram({ writeKey: "install -m 0644 /dev/stdin /etc/nginx/thon/server.key && chmod 600 /tmp/other" }));
    expect(messages(await runStackPolicy(policy, loose), policy)).toEqual([
      "thon-server-key-file: the create script writes a private key but gives the key file mode 0644, readable beyond its owner",
    ]);
  });
  it("finds key writes by file name and by a PEM key on stdin, without a dependency", async () => {
    const byFile = resource(T.command, "write", { create: "cp /tmp/x /etc/ssl/private/event.key" });
    expect(messages(await runStackPolicy(policy, [byFile]), policy)).toHaveLength(1);
    const byStdin = resource(T.command, "write", { create: "tee /etc/thon/tls.pem >/dev/null", stdin: PEM("PRIVATE KEY") });
    expect(messages(await runStackPolicy(policy, [byStdin]), policy)).toHaveLength(1);
    const umask = resource(T.command, "write", { create: "umask 077\ntee /etc/thon/tls.pem >/dev/null", stdin: PEM("PRIVATE KEY") });
    expect((await runStackPolicy(policy, [umask])).violations).toEqual([]);
  });
  it("fails a container upload of a key that others could read", async () => {
    const upload = (permissions: string) =>
      resource(T.container, "thon-nginx", { name: "thon-nginx", uploads: [{ file: "/etc/nginx/server.key", content: PEM("PRIVATE KEY"), permissions }] });
    expect(messages(await runStackPolicy(policy, [upload("0644")]), policy)).toEqual(['thon-nginx uploads a private key to "/etc/nginx/server.key" with permissions "0644"; use "0600"']);
    expect((await runStackPolicy(policy, [upload("0600")])).violations).toEqual([]);
  });
  it("reads the usual ways of keeping a file private", () => {
    for (const ok of ["install -m 0600 /dev/stdin k.key", "install -m600 /dev/stdin k.key", "install --mode=0600 src k.key", "cat > k.key && chmod 600 k.key", "chmod go= k.key", "umask 077; cat > k.key", "chmod 0400 k.key"]) {
      expect(keyScriptProblems(ok), ok).toEqual([]);
    }
    for (const bad of ["cat > k.key", "install -m 0640 /dev/stdin k.key", "chmod 644 k.key", "install -m 0600 a b; install -m 0644 /dev/stdin k.key"]) expect(keyScriptProblems(bad).length, bad).toBeGreaterThan(0);
  });
});

export type { TestResource };
