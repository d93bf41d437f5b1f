// TLS policies on what the real program declares (components/tls.ts,
// components/proxy.ts) for each tls.mode, evaluated under mocks, and on
// copies of those resources changed the way a mistake would change them.
import { beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../../infra/preview/evaluate.ts";
import { stackResources } from "../../infra/policy/analyzer.ts";
import { evaluateFeatures } from "../support/features.ts";
import { runResourcePolicy, runStackPolicy, withEventOutput, withProps, WIRE, type PolicyRun, type TestResource } from "../support/policies.ts";

function messages(run: PolicyRun, policy: string): string[] {
  for (const v of run.violations) expect(v.policy).toBe(policy);
  return run.violations.map((v) => v.message);
}

const T = {
  key: "tls:index/privateKey:PrivateKey",
  selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
  locallySigned: "tls:index/locallySignedCert:LocallySignedCert",
  command: "command:local:Command",
  file: "thon:host:File",
};

let ca: Evaluation;
let caRsa: Evaluation;
let selfsigned: Evaluation;
let provided: Evaluation;
beforeAll(async () => {
  ca = await evaluateFeatures({ tls: "ca", lemonade: false });
  caRsa = await evaluateFeatures({ tls: "ca", lemonade: false, tlsMore: "algorithm: RSA\n  rsaBits: 3072" });
  selfsigned = await evaluateFeatures({ tls: "selfsigned", lemonade: false });
  provided = await evaluateFeatures({ tls: "provided", lemonade: false });
});

const named = (e: Evaluation, type: string, name: string): TestResource => {
  const r = stackResources(e).find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name}`);
  return r;
};
/** The stack's resources with one of them replaced by a changed copy. */
const changing = (e: Evaluation, type: string, name: string, change: (r: TestResource) => TestResource) =>
  stackResources(e).map((r) => (r.type === type && r.name === name ? change(r) : r));

describe("thon-tls-key-strength", () => {
  const policy = "thon-tls-key-strength";

  it("passes the program's keys: ECDSA P256 (the default) for the CA and the server, and RSA 3072", async () => {
    for (const [e, name, algorithm] of [
      [ca, "thon-tls-ca-key", "ECDSA"],
      [ca, "thon-tls-server-key", "ECDSA"],
      [caRsa, "thon-tls-ca-key", "RSA"],
      [caRsa, "thon-tls-server-key", "RSA"],
      [selfsigned, "thon-tls-server-key", "ECDSA"],
    ] as const) {
      const key = named(e, T.key, name);
      expect(key.properties.algorithm).toBe(algorithm);
      expect((await runResourcePolicy(policy, key)).violations, name).toEqual([]);
    }
    expect(named(caRsa, T.key, "thon-tls-server-key").properties).toMatchObject({ rsaBits: 3072 });
  });

  it.each([
    ["an RSA key of 1024 bits", "caRsa", { rsaBits: 1024 }, "thon-tls-server-key is an RSA key of 1024 bits; at least 2048 are needed"],
    ["an ECDSA key on P224", "ca", { ecdsaCurve: "P224" }, "thon-tls-server-key is an ECDSA key on P224; use one of P256, P384, P521"],
    ["an ECDSA key without a curve (the provider's P224)", "ca", { ecdsaCurve: undefined }, "thon-tls-server-key is an ECDSA key on P224 (the provider's default); use one of P256, P384, P521"],
    ["an Ed25519 key", "ca", { algorithm: "ED25519", ecdsaCurve: undefined }, "thon-tls-server-key is an Ed25519 key; browsers do not accept Ed25519 server certificates, use ECDSA or RSA"],
    ["an algorithm unknown at preview", "ca", { algorithm: WIRE.unknown }, "thon-tls-server-key: the key algorithm is unknown at preview"],
  ])("fails the program's server key changed to %s", async (_what, which, patch, expected) => {
    const e = which === "ca" ? ca : caRsa;
    const run = await runResourcePolicy(policy, withProps(named(e, T.key, "thon-tls-server-key"), patch));
    expect(messages(run, policy)).toEqual([expected]);
  });

  it("honours a stricter minimum from the config", async () => {
    const run = await runResourcePolicy(policy, named(caRsa, T.key, "thon-tls-ca-key"), { minRsaBits: 4096 });
    expect(messages(run, policy)).toEqual(["thon-tls-ca-key is an RSA key of 3072 bits; at least 4096 are needed"]);
  });
});

describe("thon-tls-cert-validity", () => {
  const policy = "thon-tls-cert-validity";

  it("passes the program's certificates: a 90-day server certificate and a 365-day CA (mode ca), one 90-day certificate (selfsigned)", async () => {
    expect(named(ca, T.selfSigned, "thon-tls-ca-cert").properties).toMatchObject({ isCaCertificate: true, validityPeriodHours: 365 * 24 });
    expect(named(ca, T.locallySigned, "thon-tls-server-cert").properties).toMatchObject({ validityPeriodHours: 90 * 24 });
    expect(named(selfsigned, T.selfSigned, "thon-tls-server-cert").properties).toMatchObject({ validityPeriodHours: 90 * 24 });
    expect((await runStackPolicy(policy, ca)).violations).toEqual([]);
    expect((await runStackPolicy(policy, selfsigned)).violations).toEqual([]);
  });

  it("has nothing to check with tls.mode provided: the program declares no certificate", async () => {
    expect(provided.resources.filter((r) => r.type.startsWith("tls:"))).toEqual([]);
    expect((await runStackPolicy(policy, provided)).violations).toEqual([]);
  });

  it("fails a CA that thon.yaml makes longer-lived than tls.maxValidityDays (caValidityDays: 730)", async () => {
    const long = await evaluateFeatures({ tls: "ca", lemonade: false, tlsMore: "caValidityDays: 730" });
    expect(messages(await runStackPolicy(policy, long), policy)).toEqual([
      "thon-tls-ca-cert: the CA certificate is valid 17520 hours (730 days), longer than 397 days; lower tls.caValidityDays",
    ]);
  });

  it("fails the program's server certificate given a longer validity (ca and selfsigned)", async () => {
    const longer = (r: TestResource) => withProps(r, { validityPeriodHours: 398 * 24 });
    expect(messages(await runStackPolicy(policy, changing(ca, T.locallySigned, "thon-tls-server-cert", longer)), policy)).toEqual([
      "thon-tls-server-cert: the certificate is valid 9552 hours (398 days), longer than 397 days; lower tls.validityDays",
    ]);
    expect(messages(await runStackPolicy(policy, changing(selfsigned, T.selfSigned, "thon-tls-server-cert", longer)), policy)).toHaveLength(1);
  });

  it("takes the maximum from the config first, then the stack's event output (tls.maxValidityDays)", async () => {
    expect(messages(await runStackPolicy(policy, ca, { maxValidityDays: 100 }), policy)).toEqual([
      "thon-tls-ca-cert: the CA certificate is valid 8760 hours (365 days), longer than 100 days; lower tls.caValidityDays",
    ]);
    expect(messages(await runStackPolicy(policy, withEventOutput(ca, { tlsMaxValidityDays: 30 })), policy)).toHaveLength(2);
  });

  it("fails a lifetime unknown at preview", async () => {
    const unknown = changing(ca, T.locallySigned, "thon-tls-server-cert", (r) => withProps(r, { validityPeriodHours: WIRE.unknownNumber }));
    expect(messages(await runStackPolicy(policy, unknown), policy)).toEqual(["thon-tls-server-cert: validityPeriodHours is unknown at preview; give a literal lifetime"]);
  });
});

describe("thon-tls-key-file-mode", () => {
  const policy = "thon-tls-key-file-mode";
  const keyFile = "thon-proxy-server-key";

  it("passes the program's key file: a thon:host:File of mode 0600 holding the server key, its command getting the key on stdin (ca and selfsigned)", async () => {
    for (const e of [ca, caRsa, selfsigned]) {
      const file = named(e, T.file, keyFile);
      const write = named(e, T.command, keyFile);
      const key = named(e, T.key, "thon-tls-server-key").urn;
      // What the policy relies on: the engine's per-property dependencies on the key.
      expect(file.propertyDependencies?.sha256).toEqual([key]);
      expect(write.propertyDependencies?.stdin).toEqual([key]);
      expect(write.parent).toBe(file.urn);
      expect(file.properties).toMatchObject({ path: "/etc/nginx/thon/tls/server.key", mode: "0600", owner: "0", group: "0" });
      expect((await runStackPolicy(policy, e)).violations).toEqual([]);
    }
  });

  it("has nothing to check with tls.mode provided: no key resource, no key written by THON", async () => {
    expect(provided.resources.filter((r) => r.name === keyFile)).toEqual([]);
    expect((await runStackPolicy(policy, provided)).violations).toEqual([]);
  });

  it("fails the program's key file given mode 0644", async () => {
    const loose = changing(ca, T.file, keyFile, (r) => withProps(r, { mode: "0644" }));
    const run = await runStackPolicy(policy, loose);
    expect(messages(run, policy)).toEqual([
      'thon-proxy-server-key: "/etc/nginx/thon/tls/server.key" holds a private key and has mode "0644", readable beyond its owner. Fix: mode "0600"',
    ]);
    expect(run.violations[0]!.urn).toBe(named(ca, T.file, keyFile).urn);
  });

  it("fails a key written by a command that is not a thon:host:File's writer (no typed mode, no umask 077 the pack can rely on), and a mode unknown at preview", async () => {
    const proxy = named(ca, "thon:proxy:Proxy", "thon-proxy").urn;
    const loose = changing(ca, T.command, keyFile, (r) => ({ ...r, parent: proxy }));
    expect(messages(await runStackPolicy(policy, loose), policy)).toEqual([
      "thon-proxy-server-key: gets a private key on stdin but is not the writer of a thon:host:File, so the pack cannot tell which file gets it or with which mode. Fix: declare the file with HostFile (components/hostFile.ts)",
    ]);
    const unknown = changing(ca, T.file, keyFile, (r) => withProps(r, { mode: WIRE.unknown }));
    expect(messages(await runStackPolicy(policy, unknown), policy)).toEqual([
      'thon-proxy-server-key: the mode of "/etc/nginx/thon/tls/server.key", which holds a private key, is unknown at preview',
    ]);
  });

  it("fails a key put into a script's text, and a write script unknown at preview", async () => {
    const inScript = changing(ca, T.command, keyFile, (r) => ({ ...r, propertyDependencies: { ...r.propertyDependencies, create: r.propertyDependencies!.stdin! } }));
    expect(messages(await runStackPolicy(policy, inScript), policy)).toEqual([
      "thon-proxy-server-key: a private key is part of its create script, which lands in process lists and logs. Fix: feed it on stdin",
    ]);
    const unknown = changing(ca, T.command, keyFile, (r) => withProps(r, { create: WIRE.unknown }));
    expect(messages(await runStackPolicy(policy, unknown), policy)).toEqual([
      "thon-proxy-server-key: the create script, which writes a private key from stdin, is unknown at preview",
    ]);
  });

  it("does not mistake the certificate files (0644, content from a certificate) for key files", async () => {
    const certFile = named(ca, T.file, "thon-proxy-server-cert");
    expect(certFile.properties.mode).toBe("0644");
    expect(certFile.propertyDependencies?.sha256).toEqual([named(ca, T.locallySigned, "thon-tls-server-cert").urn]);
  });

  it("without per-property dependencies (an older engine), counts any dependency on a key", async () => {
    const loose = changing(ca, T.file, keyFile, (r) => withProps({ ...r, propertyDependencies: {} }, { mode: "0640" }));
    expect(messages(await runStackPolicy(policy, loose), policy)).toEqual([expect.stringMatching(/mode "0640", readable beyond its owner. Fix: mode "0600"$/)]);
  });
});
