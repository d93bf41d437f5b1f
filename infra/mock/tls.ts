// What @pulumi/tls would compute, for mock runs: real keys and certificates
// made from each resource's inputs, the way terraform-provider-tls (which the
// Pulumi provider wraps) makes them. Keys come from node:crypto, certificates
// from the openssl command. A mock run of the real program therefore yields
// a CA and a server certificate that a real nginx can serve and a real TLS
// client can verify: the tests use exactly these.
//
// Faithful where it matters to THON: key algorithm/curve/bits and the
// provider's defaults (ECDSA P224, RSA 2048), PEM formats (SEC1/PKCS#1 plus
// PKCS#8), subject (in Go's order), DNS/IP/URI SANs copied from the CSR, key
// usages and extended key usages, critical basic constraints (path length
// only when positive, as Go writes it), subject key id on every CA, authority
// key id from the issuer's, signature hash by key (SHA-384 for P384),
// validity in hours (rounded up to whole days: openssl 3.0 sets days), a
// random 128-bit serial.
//
// Results are cached per resource name and inputs: a process evaluates the
// same event many times (thon plan --against, blast-radius tests), the same
// inputs give the same key, and a diff shows no certificate change unless an
// input changed. Keys differ between processes, like between two `pulumi up`
// of fresh stacks.
import { createHash, generateKeyPairSync, KeyObject, X509Certificate, createPublicKey, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

type State = Record<string, unknown>;
type Computed = (name: string, inputs: State) => State;

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function unwrap(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrap);
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (SECRET_SIG in obj) return unwrap(obj.value);
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrap(v)]));
  }
  return value;
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj).sort().map((k) => `${JSON.stringify(k)}:${stable(obj[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const cache = new Map<string, State>();

function cached(type: string, fn: Computed): Computed {
  return (name, rawInputs) => {
    const inputs = unwrap(rawInputs) as State;
    const key = createHash("sha256").update(`${type}\0${name}\0${stable(inputs)}`).digest("hex");
    let state = cache.get(key);
    if (state === undefined) {
      state = fn(name, inputs);
      cache.set(key, state);
    }
    return state;
  };
}

// ---------------------------------------------------------------------------
// Keys

const CURVES: Record<string, { node: string; ssh: string }> = {
  P224: { node: "P-224", ssh: "nistp224" },
  P256: { node: "P-256", ssh: "nistp256" },
  P384: { node: "P-384", ssh: "nistp384" },
  P521: { node: "P-521", ssh: "nistp521" },
};

function sshString(data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

function sshMpint(b64url: string): Buffer {
  let bytes = Buffer.from(b64url, "base64url");
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return sshString(bytes);
}

/** The OpenSSH public key blob, as `ssh-keygen` prints it. */
function openssh(publicKey: KeyObject, algorithm: string, curve: string | undefined): { line: string; blob: Buffer } {
  const jwk = publicKey.export({ format: "jwk" });
  let blob: Buffer;
  let prefix: string;
  if (algorithm === "RSA") {
    prefix = "ssh-rsa";
    blob = Buffer.concat([sshString(Buffer.from(prefix)), sshMpint(jwk.e!), sshMpint(jwk.n!)]);
  } else if (algorithm === "ECDSA") {
    const ssh = CURVES[curve!]!.ssh;
    prefix = `ecdsa-sha2-${ssh}`;
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
    blob = Buffer.concat([sshString(Buffer.from(prefix)), sshString(Buffer.from(ssh)), sshString(point)]);
  } else {
    prefix = "ssh-ed25519";
    blob = Buffer.concat([sshString(Buffer.from(prefix)), sshString(Buffer.from(jwk.x!, "base64url"))]);
  }
  return { line: `${prefix} ${blob.toString("base64")}\n`, blob };
}

const privateKey: Computed = (_name, i) => {
  const algorithm = String(i.algorithm);
  const curve = algorithm === "ECDSA" ? String(i.ecdsaCurve ?? "P224") : undefined;
  const rsaBits = algorithm === "RSA" ? Number(i.rsaBits ?? 2048) : undefined;
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  let traditional: string;
  if (algorithm === "RSA") {
    pair = generateKeyPairSync("rsa", { modulusLength: rsaBits! });
    traditional = pair.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  } else if (algorithm === "ECDSA") {
    const c = CURVES[curve!];
    if (!c) throw new Error(`tls.PrivateKey: unsupported ecdsaCurve ${curve} (P224, P256, P384, P521)`);
    pair = generateKeyPairSync("ec", { namedCurve: c.node });
    traditional = pair.privateKey.export({ type: "sec1", format: "pem" }).toString();
  } else if (algorithm === "ED25519") {
    pair = generateKeyPairSync("ed25519");
    traditional = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  } else {
    throw new Error(`tls.PrivateKey: unsupported algorithm ${algorithm} (RSA, ECDSA, ED25519)`);
  }
  const ssh = openssh(pair.publicKey, algorithm, curve);
  const md5 = createHash("md5").update(ssh.blob).digest("hex").match(/../g)!.join(":");
  return {
    algorithm,
    ecdsaCurve: curve ?? "P224",
    rsaBits: rsaBits ?? 2048,
    privateKeyPem: traditional,
    privateKeyPemPkcs8: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: pair.publicKey.export({ type: "spki", format: "pem" }).toString(),
    publicKeyOpenssh: ssh.line,
    publicKeyFingerprintMd5: md5,
    publicKeyFingerprintSha256: `SHA256:${createHash("sha256").update(ssh.blob).digest("base64").replace(/=+$/, "")}`,
    // terraform-provider-tls emits an OpenSSH private key too; nothing in THON reads it.
    privateKeyOpenssh: "",
  };
};

// ---------------------------------------------------------------------------
// Certificates (openssl)

interface Subject {
  commonName?: string;
  country?: string;
  emailAddress?: string;
  locality?: string;
  organization?: string;
  organizationalUnit?: string;
  postalCode?: string;
  province?: string;
  serialNumber?: string;
  streetAddresses?: string[];
}

/** openssl's DN fields, in the order of Go's pkix.Name.ToRDNSequence (which the provider uses). */
function dnLines(subject: Subject | undefined): string[] {
  const s = subject ?? {};
  const q = (v: string) => `"${v.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
  const lines: string[] = [];
  const add = (field: string, v: string | undefined) => v !== undefined && v !== "" && lines.push(`${lines.length}.${field} = ${q(v)}`);
  add("C", s.country);
  add("ST", s.province);
  add("L", s.locality);
  for (const street of s.streetAddresses ?? []) add("street", street);
  add("postalCode", s.postalCode);
  add("O", s.organization);
  add("OU", s.organizationalUnit);
  add("CN", s.commonName);
  add("serialNumber", s.serialNumber);
  add("emailAddress", s.emailAddress);
  return lines;
}

const KEY_USAGES: Record<string, string> = {
  digitalSignature: "digitalSignature",
  contentCommitment: "nonRepudiation",
  keyEncipherment: "keyEncipherment",
  dataEncipherment: "dataEncipherment",
  keyAgreement: "keyAgreement",
  certSigning: "keyCertSign",
  crlSigning: "cRLSign",
  encipherOnly: "encipherOnly",
  decipherOnly: "decipherOnly",
};

const EXT_KEY_USAGES: Record<string, string> = {
  anyExtended: "anyExtendedKeyUsage",
  serverAuth: "serverAuth",
  clientAuth: "clientAuth",
  codeSigning: "codeSigning",
  emailProtection: "emailProtection",
  ipsecEndSystem: "1.3.6.1.5.5.7.3.5",
  ipsecTunnel: "1.3.6.1.5.5.7.3.6",
  ipsecUser: "1.3.6.1.5.5.7.3.7",
  timestamping: "timeStamping",
  ocspSigning: "OCSPSigning",
  microsoftServerGatedCrypto: "msSGC",
  netscapeServerGatedCrypto: "nsSGC",
  microsoftCommercialCodeSigning: "msCodeCom",
  microsoftKernelCodeSigning: "1.3.6.1.4.1.311.61.1.1",
};

interface Names {
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
}

function sanLine(n: Names): string | undefined {
  const all = [
    ...(n.dnsNames ?? []).map((d) => `DNS:${d}`),
    ...(n.ipAddresses ?? []).map((ip) => `IP:${ip}`),
    ...(n.uris ?? []).map((u) => `URI:${u}`),
  ];
  return all.length > 0 ? `subjectAltName = ${all.join(",")}` : undefined;
}

interface CertInputs extends Names {
  allowedUses?: string[];
  isCaCertificate?: boolean;
  maxPathLength?: number;
  setSubjectKeyId?: boolean;
  setAuthorityKeyId?: boolean;
  validityPeriodHours?: number;
  earlyRenewalHours?: number;
}

function extensionLines(i: CertInputs, issuerHasKeyId: boolean): string[] {
  const uses = i.allowedUses ?? [];
  const unknown = uses.filter((u) => !(u in KEY_USAGES) && !(u in EXT_KEY_USAGES));
  if (unknown.length > 0) throw new Error(`tls: unknown allowedUses ${unknown.join(", ")}`);
  const ku = uses.filter((u) => u in KEY_USAGES).map((u) => KEY_USAGES[u]!);
  const eku = uses.filter((u) => u in EXT_KEY_USAGES).map((u) => EXT_KEY_USAGES[u]!);
  const lines: string[] = [];
  // Go marks basic constraints and key usage critical.
  if (i.isCaCertificate) {
    // The provider sets MaxPathLen but never MaxPathLenZero, so Go writes no
    // constraint for 0 (or -1): only a positive length appears.
    const pathLen = i.maxPathLength !== undefined && i.maxPathLength > 0 ? `,pathlen:${i.maxPathLength}` : "";
    lines.push(`basicConstraints = critical,CA:TRUE${pathLen}`);
  } else {
    lines.push("basicConstraints = critical,CA:FALSE");
  }
  if (ku.length > 0) lines.push(`keyUsage = critical,${ku.join(",")}`);
  if (eku.length > 0) lines.push(`extendedKeyUsage = ${eku.join(",")}`);
  // Go adds a subject key id to every CA certificate, asked or not.
  if (i.setSubjectKeyId || i.isCaCertificate) lines.push("subjectKeyIdentifier = hash");
  if (issuerHasKeyId) lines.push("authorityKeyIdentifier = keyid:always");
  const san = sanLine(i);
  if (san) lines.push(san);
  return lines;
}

/** Digest by key, as Go's x509 picks it. */
function digestFor(keyPem: string): string[] {
  const key = createPublicKey(keyPem);
  if (key.asymmetricKeyType === "ed25519") return [];
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === "secp384r1" ? ["-sha384"] : curve === "secp521r1" ? ["-sha512"] : ["-sha256"];
  }
  return ["-sha256"];
}

function keyAlgorithmOf(keyPem: string): string {
  const t = createPublicKey(keyPem).asymmetricKeyType;
  return t === "rsa" ? "RSA" : t === "ec" ? "ECDSA" : "ED25519";
}

function openssl(args: string[], dir: string): void {
  try {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === "ENOENT") {
      throw new Error("the offline preview makes real certificates with the openssl command, which is not installed. Fix: install openssl (apt-get install openssl)");
    }
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`);
  }
}

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "thon-mock-tls-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const serial = () => {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive, 128 bits as the provider
  return `0x${b.toString("hex")}`;
};

const days = (hours: number) => String(Math.max(1, Math.ceil(hours / 24)));

function validity(certPem: string, i: CertInputs): State {
  const x = new X509Certificate(certPem);
  return {
    validityStartTime: new Date(x.validFrom).toISOString().replace(/\.000Z$/, "Z"),
    validityEndTime: new Date(x.validTo).toISOString().replace(/\.000Z$/, "Z"),
    readyForRenewal: false,
    earlyRenewalHours: i.earlyRenewalHours ?? 0,
  };
}

function config(dn: string[], ext: string[]): string {
  return ["[req]", "prompt = no", "distinguished_name = dn", "[dn]", ...(dn.length > 0 ? dn : ["0.O = \"\""]), "[ext]", ...ext, ""].join("\n");
}

const selfSignedCert: Computed = (_name, raw) => {
  const i = raw as CertInputs & { privateKeyPem?: string; subject?: Subject };
  if (typeof i.privateKeyPem !== "string" || !i.privateKeyPem.includes("PRIVATE KEY")) return {};
  return withDir((dir) => {
    writeFileSync(join(dir, "key.pem"), i.privateKeyPem!, { mode: 0o600 });
    writeFileSync(join(dir, "req.cnf"), config(dnLines(i.subject), extensionLines(i, Boolean(i.setAuthorityKeyId))));
    openssl(
      ["req", "-new", "-x509", "-key", "key.pem", "-config", "req.cnf", "-extensions", "ext", "-days", days(Number(i.validityPeriodHours)), "-set_serial", serial(), ...digestFor(i.privateKeyPem!), "-out", "cert.pem"],
      dir,
    );
    const certPem = readFileSync(join(dir, "cert.pem"), "utf8");
    return { certPem, keyAlgorithm: keyAlgorithmOf(i.privateKeyPem!), ...validity(certPem, i) };
  });
};

/** The names each mock CSR was made with: a LocallySignedCert copies them, as the provider does. */
const csrNames = new Map<string, Names & { subject?: Subject }>();

const certRequest: Computed = (_name, raw) => {
  const i = raw as Names & { privateKeyPem?: string; subject?: Subject };
  if (typeof i.privateKeyPem !== "string" || !i.privateKeyPem.includes("PRIVATE KEY")) return {};
  return withDir((dir) => {
    writeFileSync(join(dir, "key.pem"), i.privateKeyPem!, { mode: 0o600 });
    const san = sanLine(i);
    writeFileSync(join(dir, "req.cnf"), config(dnLines(i.subject), san ? [san] : []));
    openssl(["req", "-new", "-key", "key.pem", "-config", "req.cnf", ...(san ? ["-reqexts", "ext"] : []), ...digestFor(i.privateKeyPem!), "-out", "req.pem"], dir);
    const certRequestPem = readFileSync(join(dir, "req.pem"), "utf8");
    csrNames.set(certRequestPem, { ...i });
    return { certRequestPem, keyAlgorithm: keyAlgorithmOf(i.privateKeyPem!) };
  });
};

const locallySignedCert: Computed = (_name, raw) => {
  const i = raw as CertInputs & { certRequestPem?: string; caCertPem?: string; caPrivateKeyPem?: string };
  if (typeof i.caPrivateKeyPem !== "string" || typeof i.certRequestPem !== "string" || typeof i.caCertPem !== "string") return {};
  const names = csrNames.get(i.certRequestPem);
  if (!names) throw new Error("tls.LocallySignedCert mock: the CSR was not made by a mock tls.CertRequest of this run");
  return withDir((dir) => {
    writeFileSync(join(dir, "ca.pem"), i.caCertPem!);
    writeFileSync(join(dir, "cakey.pem"), i.caPrivateKeyPem!, { mode: 0o600 });
    writeFileSync(join(dir, "req.pem"), i.certRequestPem!);
    // Go takes the authority key id from the issuer's subject key id, when it has one.
    const caHasKeyId = hasSubjectKeyId(dir);
    // The provider copies subject and SANs from the CSR; `x509 -req` keeps the subject, the SANs go in here.
    writeFileSync(join(dir, "ext.cnf"), ["[ext]", ...extensionLines({ ...i, ...names, isCaCertificate: i.isCaCertificate ?? false }, caHasKeyId), ""].join("\n"));
    openssl(
      ["x509", "-req", "-in", "req.pem", "-CA", "ca.pem", "-CAkey", "cakey.pem", "-set_serial", serial(), "-days", days(Number(i.validityPeriodHours)), "-extfile", "ext.cnf", "-extensions", "ext", ...digestFor(i.caPrivateKeyPem!), "-out", "cert.pem"],
      dir,
    );
    const certPem = readFileSync(join(dir, "cert.pem"), "utf8");
    return { certPem, caKeyAlgorithm: keyAlgorithmOf(i.caPrivateKeyPem!), ...validity(certPem, i) };
  });
};

function hasSubjectKeyId(dir: string): boolean {
  const text = execFileSync("openssl", ["x509", "-in", "ca.pem", "-noout", "-ext", "subjectKeyIdentifier"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] }).toString();
  return /Subject Key Identifier/.test(text);
}

/** Computed outputs of the tls provider's resources, for infra/mock/mocks.ts. */
export const tlsMockOutputs: ReadonlyArray<readonly [string, Computed]> = [
  ["tls:index/privateKey:PrivateKey", cached("tls:index/privateKey:PrivateKey", privateKey)],
  ["tls:index/selfSignedCert:SelfSignedCert", cached("tls:index/selfSignedCert:SelfSignedCert", selfSignedCert)],
  ["tls:index/certRequest:CertRequest", cached("tls:index/certRequest:CertRequest", certRequest)],
  ["tls:index/locallySignedCert:LocallySignedCert", cached("tls:index/locallySignedCert:LocallySignedCert", locallySignedCert)],
];
