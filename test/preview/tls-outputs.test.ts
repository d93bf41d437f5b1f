// What the preview and the test stand-in answer for the tls provider: the
// preview labels keys and certificates as made at deployment (Pulumi's
// preview has them unknown), derived from the inputs; the stand-in makes real
// ones and refuses inputs THON does not declare, by name.
import { describe, expect, it } from "vitest";
import { thonMocks } from "../../infra/preview/providerOutputs.ts";
import { tlsStandIn } from "../support/tlsStandIn.ts";

const KEY = "tls:index/privateKey:PrivateKey";
const SELF = "tls:index/selfSignedCert:SelfSignedCert";
const mock = (type: string, name: string, inputs: Record<string, unknown>) => thonMocks.newResource({ type, name, inputs, custom: true }).state;

describe("the preview's tls outputs", () => {
  it("are labelled, not PEM, and change exactly when the inputs change", () => {
    const a = mock(KEY, "k", { algorithm: "ECDSA", ecdsaCurve: "P256" });
    expect(a.privateKeyPem).toMatch(/^\(privateKeyPem of tls:index\/privateKey:PrivateKey k: made by the provider at deployment; inputs [0-9a-f]{16}\)$/);
    expect(String(a.privateKeyPem)).not.toContain("BEGIN");
    expect(mock(KEY, "k", { algorithm: "ECDSA", ecdsaCurve: "P256" })).toEqual(a);
    expect(mock(KEY, "k", { algorithm: "ECDSA", ecdsaCurve: "P384" }).privateKeyPem).not.toBe(a.privateKeyPem);
  });
});

describe("the tls stand-in", () => {
  const run = (type: string, inputs: Record<string, unknown>) => Promise.resolve(tlsStandIn.get(type)!("x", inputs));

  it.each([
    [KEY, { algorithm: "ED25519" }, /PrivateKey x: algorithm "ED25519" is not supported \(THON declares RSA, ECDSA\)/],
    [KEY, { algorithm: "ECDSA", ecdsaCurve: "P224" }, /ecdsaCurve "P224" is not supported \(THON declares P256, P384\)/],
    [KEY, { algorithm: "RSA", rsaBits: 1024 }, /rsaBits 1024 is not supported/],
  ])("refuses a key THON does not declare: %s %j", async (type, inputs, message) => {
    await expect(run(type, inputs)).rejects.toThrow(message);
  });

  it("refuses uses and subject fields THON does not declare", async () => {
    const key = await run(KEY, { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const base = { privateKeyPem: key.privateKeyPem, validityPeriodHours: 24, subject: { commonName: "t" } };
    await expect(run(SELF, { ...base, allowedUses: ["codeSigning"] })).rejects.toThrow(/allowedUses "codeSigning" is not supported/);
    await expect(run(SELF, { ...base, subject: { country: "DE" } })).rejects.toThrow(/subject\.country "DE" is not supported/);
    const cert = await run(SELF, { ...base, allowedUses: ["digitalSignature", "serverAuth"] });
    expect(cert.certPem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });
});
