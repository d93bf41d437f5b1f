// Stand-in for the @pulumi/tls provider (terraform-provider-tls underneath),
// cut to what components/tls.ts declares: PrivateKey (RSA 2048/3072/4096,
// ECDSA P256/P384), SelfSignedCert, CertRequest and LocallySignedCert with a
// subject of organization and commonName, DNS and IP SANs, and the uses
// certSigning, crlSigning, digitalSignature, keyEncipherment and serverAuth.
// Anything else is refused by name, so a new use in the program fails here
// instead of producing a certificate the real provider would not.
//
// The keys and certificates are real (Node's WebCrypto, @peculiar/x509), so
// the tests serve them with a real nginx and verify them with a real TLS
// client and openssl. Faithful where a client looks: PEM forms (SEC1 or
// PKCS#1 private keys, as the provider writes them), subject in Go's order,
// SANs copied from the CSR, critical basic constraints and key usage,
// extended key usage, a subject key id on every CA, the authority key id from
// the issuer's, the signature hash by key (SHA-384 for P384), validity in
// whole hours, a random positive 128-bit serial.
//
// Results are cached per resource name and inputs: a process evaluates the
// same event many times, the same inputs give the same key, and a diff shows
// no certificate change unless an input changed. Keys differ between
// processes, like between two `pulumi up` of fresh stacks.
import { createPrivateKey, createPublicKey, randomBytes, webcrypto } from "node:crypto";
import "reflect-metadata"; // before @peculiar/x509 (tsyringe needs the Reflect metadata API)
import * as x509 from "@peculiar/x509";
import { stableJson } from "../../infra/render/json.ts";
import { unwrapSecrets } from "../../infra/secrets.ts";
import { sha256 } from "../../infra/hash.ts";
import type { Computed, ProviderOutputs } from "../../infra/preview/providerOutputs.ts";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const subtle = webcrypto.subtle;

type State = Record<string, unknown>;

/** Refuses an input the stand-in does not model, naming the resource and the field. */
class UnsupportedInput extends Error {
  constructor(type: string, name: string, field: string, value: unknown, supported: string) {
    super(`tls stand-in: ${type} ${name}: ${field} ${JSON.stringify(value)} is not supported (THON declares ${supported})`);
    this.name = "UnsupportedInput";
  }
}

// --- keys ----------------------------------------------------------------------

const CURVES: Record<string, { webcrypto: string; node: string; hash: string }> = {
  P256: { webcrypto: "P-256", node: "prime256v1", hash: "SHA-256" },
  P384: { webcrypto: "P-384", node: "secp384r1", hash: "SHA-384" },
};
const RSA_BITS = [2048, 3072, 4096];

const privateKey = async (name: string, i: State): Promise<State> => {
  const type = "tls:index/privateKey:PrivateKey";
  const algorithm = i.algorithm;
  let pair: CryptoKeyPair;
  if (algorithm === "RSA") {
    const bits = Number(i.rsaBits ?? 2048);
    if (!RSA_BITS.includes(bits)) throw new UnsupportedInput(type, name, "rsaBits", i.rsaBits, RSA_BITS.join(", "));
    pair = await subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"]);
  } else if (algorithm === "ECDSA") {
    const curve = CURVES[String(i.ecdsaCurve)];
    if (!curve) throw new UnsupportedInput(type, name, "ecdsaCurve", i.ecdsaCurve, Object.keys(CURVES).join(", "));
    pair = await subtle.generateKey({ name: "ECDSA", namedCurve: curve.webcrypto }, true, ["sign", "verify"]);
  } else {
    throw new UnsupportedInput(type, name, "algorithm", algorithm, "RSA, ECDSA");
  }
  const key = createPrivateKey({ key: Buffer.from(await subtle.exportKey("pkcs8", pair.privateKey)), format: "der", type: "pkcs8" });
  return {
    privateKeyPem: key.export({ type: algorithm === "RSA" ? "pkcs1" : "sec1", format: "pem" }).toString(),
    privateKeyPemPkcs8: key.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: createPublicKey(key).export({ type: "spki", format: "pem" }).toString(),
  };
};

interface SigningKey {
  readonly keys: CryptoKeyPair;
  readonly algorithm: "RSA" | "ECDSA";
  readonly signing: RsaHashedImportParams | EcdsaParams;
}

/** A PEM private key (as privateKey above writes it) as WebCrypto keys, with the signature Go's x509 picks for it. */
async function signingKey(type: string, name: string, field: string, pem: unknown): Promise<SigningKey> {
  if (typeof pem !== "string" || !pem.includes("PRIVATE KEY")) throw new UnsupportedInput(type, name, field, "(not a PEM private key)", "a tls.PrivateKey's privateKeyPem");
  const key = createPrivateKey(pem);
  const pkcs8 = key.export({ type: "pkcs8", format: "der" });
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  if (key.asymmetricKeyType === "rsa") {
    const params = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    const keys = { privateKey: await subtle.importKey("pkcs8", pkcs8, params, true, ["sign"]), publicKey: await subtle.importKey("spki", spki, params, true, ["verify"]) };
    return { keys, algorithm: "RSA", signing: params };
  }
  const curve = Object.values(CURVES).find((c) => c.node === key.asymmetricKeyDetails?.namedCurve);
  if (key.asymmetricKeyType !== "ec" || !curve) throw new UnsupportedInput(type, name, field, key.asymmetricKeyType, "RSA or ECDSA P256/P384 keys");
  const params = { name: "ECDSA", namedCurve: curve.webcrypto };
  const keys = { privateKey: await subtle.importKey("pkcs8", pkcs8, params, true, ["sign"]), publicKey: await subtle.importKey("spki", spki, params, true, ["verify"]) };
  return { keys, algorithm: "ECDSA", signing: { name: "ECDSA", hash: curve.hash } };
}

// --- names and extensions -------------------------------------------------------

function subjectName(type: string, name: string, subject: unknown): x509.JsonName {
  const s = (subject ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(s).filter((k) => k !== "organization" && k !== "commonName");
  if (unknown.length > 0) throw new UnsupportedInput(type, name, `subject.${unknown[0]}`, s[unknown[0]!], "subject.organization and subject.commonName");
  // Go's pkix.Name.ToRDNSequence order: O before CN.
  return [
    ...(typeof s.organization === "string" && s.organization !== "" ? [{ O: [s.organization] }] : []),
    ...(typeof s.commonName === "string" && s.commonName !== "" ? [{ CN: [s.commonName] }] : []),
  ];
}

function altNames(i: State): x509.SubjectAlternativeNameExtension | undefined {
  const names: x509.JsonGeneralName[] = [
    ...((i.dnsNames as string[] | undefined) ?? []).map((value) => ({ type: "dns" as const, value })),
    ...((i.ipAddresses as string[] | undefined) ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  return names.length > 0 ? new x509.SubjectAlternativeNameExtension(names) : undefined;
}

const KEY_USAGES: Record<string, x509.KeyUsageFlags> = {
  digitalSignature: x509.KeyUsageFlags.digitalSignature,
  keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  certSigning: x509.KeyUsageFlags.keyCertSign,
  crlSigning: x509.KeyUsageFlags.cRLSign,
};
const EXT_KEY_USAGES: Record<string, string> = { serverAuth: x509.ExtendedKeyUsage.serverAuth };

/** Basic constraints, key usage and extended key usage from `allowedUses`, marked critical as Go marks them. */
function usageExtensions(type: string, name: string, i: State): x509.Extension[] {
  const uses = (i.allowedUses as string[] | undefined) ?? [];
  const unknown = uses.find((u) => !(u in KEY_USAGES) && !(u in EXT_KEY_USAGES));
  if (unknown !== undefined) throw new UnsupportedInput(type, name, "allowedUses", unknown, Object.keys({ ...KEY_USAGES, ...EXT_KEY_USAGES }).join(", "));
  for (const field of ["maxPathLength", "uris", "emailAddresses"]) {
    if (i[field] !== undefined) throw new UnsupportedInput(type, name, field, i[field], "no such input");
  }
  const flags = uses.filter((u) => u in KEY_USAGES).reduce((f, u) => f | KEY_USAGES[u]!, 0);
  const ext = uses.filter((u) => u in EXT_KEY_USAGES).map((u) => EXT_KEY_USAGES[u]!);
  return [
    new x509.BasicConstraintsExtension(i.isCaCertificate === true, undefined, true),
    ...(flags !== 0 ? [new x509.KeyUsagesExtension(flags, true)] : []),
    ...(ext.length > 0 ? [new x509.ExtendedKeyUsageExtension(ext)] : []),
  ];
}

// --- certificates ---------------------------------------------------------------

/** A positive 128-bit serial, as the provider makes (no leading zero byte, so DER keeps all 16). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = 0x40 | (b[0]! & 0x3f);
  return b.toString("hex");
}

/** From now, whole seconds (X.509 times have no fractions), for `validityPeriodHours`. */
function validity(i: State): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + Number(i.validityPeriodHours) * 3_600_000) };
}

const rfc3339 = (d: Date) => d.toISOString().replace(/\.000Z$/, "Z");

function certOutputs(cert: x509.X509Certificate, i: State): State {
  return {
    certPem: cert.toString("pem") + "\n",
    validityStartTime: rfc3339(cert.notBefore),
    validityEndTime: rfc3339(cert.notAfter),
    readyForRenewal: false,
    earlyRenewalHours: i.earlyRenewalHours ?? 0,
  };
}

const selfSignedCert = async (name: string, i: State): Promise<State> => {
  const type = "tls:index/selfSignedCert:SelfSignedCert";
  const key = await signingKey(type, name, "privateKeyPem", i.privateKeyPem);
  const san = altNames(i);
  const withKeyId = i.setSubjectKeyId === true || i.isCaCertificate === true; // Go adds one to every CA
  const extensions = [
    ...usageExtensions(type, name, i),
    ...(withKeyId ? [await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey)] : []),
    ...(i.setAuthorityKeyId === true ? [await x509.AuthorityKeyIdentifierExtension.create(key.keys.publicKey)] : []),
    ...(san ? [san] : []),
  ];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: subjectName(type, name, i.subject),
    keys: key.keys,
    signingAlgorithm: key.signing,
    extensions,
    ...validity(i),
  });
  return { ...certOutputs(cert, i), keyAlgorithm: key.algorithm };
};

const certRequest = async (name: string, i: State): Promise<State> => {
  const type = "tls:index/certRequest:CertRequest";
  const key = await signingKey(type, name, "privateKeyPem", i.privateKeyPem);
  const san = altNames(i);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(type, name, i.subject),
    keys: key.keys,
    signingAlgorithm: key.signing,
    extensions: san ? [san] : [],
  });
  return { certRequestPem: csr.toString("pem") + "\n", keyAlgorithm: key.algorithm };
};

const SAN_OID = "2.5.29.17";

const locallySignedCert = async (name: string, i: State): Promise<State> => {
  const type = "tls:index/locallySignedCert:LocallySignedCert";
  const ca = await signingKey(type, name, "caPrivateKeyPem", i.caPrivateKeyPem);
  const caCert = new x509.X509Certificate(String(i.caCertPem));
  const csr = new x509.Pkcs10CertificateRequest(String(i.certRequestPem));
  if (!(await csr.verify())) throw new Error(`tls stand-in: ${type} ${name}: the certRequestPem's signature does not verify`);
  // The provider copies subject and SANs from the CSR; the authority key id is the issuer's subject key id.
  const san = csr.getExtension(SAN_OID);
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const extensions = [
    ...usageExtensions(type, name, i),
    ...(i.setSubjectKeyId === true ? [await x509.SubjectKeyIdentifierExtension.create(csr.publicKey)] : []),
    ...(caKeyId ? [new x509.AuthorityKeyIdentifierExtension(caKeyId.keyId)] : []),
    ...(san ? [san] : []),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: csr.subjectName,
    issuer: caCert.subjectName,
    publicKey: csr.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ca.signing,
    extensions,
    ...validity(i),
  });
  return { ...certOutputs(cert, i), caKeyAlgorithm: ca.algorithm };
};

// --- per resource, cached ---------------------------------------------------------

const cache = new Map<string, Promise<State>>();

function cached(type: string, fn: (name: string, inputs: State) => Promise<State>): [string, Computed] {
  return [
    type,
    (name, raw) => {
      const inputs = unwrapSecrets(raw) as State;
      const key = sha256(`${type}\0${name}\0${stableJson(inputs)}`);
      let state = cache.get(key);
      if (state === undefined) {
        state = fn(name, inputs);
        cache.set(key, state);
        state.catch(() => cache.delete(key));
      }
      return state;
    },
  ];
}

/** The tls provider's computed outputs, real: pass as `outputs` to evaluate() or evaluateEventFile(). */
export const tlsStandIn: ProviderOutputs = new Map([
  cached("tls:index/privateKey:PrivateKey", privateKey),
  cached("tls:index/selfSignedCert:SelfSignedCert", selfSignedCert),
  cached("tls:index/certRequest:CertRequest", certRequest),
  cached("tls:index/locallySignedCert:LocallySignedCert", locallySignedCert),
]);
