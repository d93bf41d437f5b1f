import { isIP } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { Event } from "../infra/config/event.ts";
import { shellQuote } from "../infra/render/shell.ts";
import type { Target } from "../infra/target.ts";

export interface TlsArgs {
  readonly eventName: string;
  /** The event's host and other names: the certificate's subject alternative names. */
  readonly host: string;
  readonly altNames: readonly string[];
  readonly tls: Event["tls"];
  /** Where `provided` certificate files are checked. */
  /** Where the provided files are checked: the host, or on a swarm the entry node's shell. */
  readonly target: Pick<Target, "command">;
}

export interface CertificateNames {
  readonly commonName: string | undefined;
  readonly dnsNames: string[];
  readonly ipAddresses: string[];
}

/**
 * The names a server certificate covers: IP literals as IP SANs, the rest as
 * DNS SANs, each sorted (reordering altNames re-issues nothing). The common
 * name is the event host when it fits the 64-character limit; browsers only
 * look at the SANs anyway.
 */
export function certificateNames(host: string, altNames: readonly string[]): CertificateNames {
  const all = [...new Set([host, ...altNames].map((n) => n.toLowerCase()))];
  return {
    commonName: host.length <= 64 ? host.toLowerCase() : undefined,
    dnsNames: all.filter((n) => isIP(n) === 0).sort(),
    ipAddresses: all.filter((n) => isIP(n) !== 0).sort(),
  };
}

const HOURS_PER_DAY = 24;

/**
 * The event's certificates.
 *
 * - `ca` (default, the mkcert approach): an event CA (key + self-signed CA
 *   certificate, path length 0) signs a server certificate for the event host
 *   and altNames. Participants import the CA once, from /ca.crt; every
 *   browser feature that needs a trusted origin (service workers, clipboard,
 *   webviews) then works. The server certificate renews itself on a
 *   `pulumi up` in the last third of its life; the CA stays, so nobody
 *   re-imports anything.
 * - `selfsigned`: one self-signed server certificate; participants import
 *   that certificate itself (also served as /ca.crt).
 * - `provided`: a certificate and key already on the host (an ACME client's
 *   files). nginx reads them by path, so the key never passes through Pulumi
 *   state and the ACME client's renewals need no `pulumi up`; a check command
 *   on the target verifies that they exist and belong together.
 *
 * Nothing here depends on the participants: adding people never re-issues a
 * certificate.
 */
export class Tls extends pulumi.ComponentResource {
  public readonly mode: Event["tls"]["mode"];
  /** The certificate participants import (the CA, or the self-signed certificate); undefined for `provided`. */
  public readonly caCertPem: pulumi.Output<string> | undefined;
  /** The server certificate nginx presents; undefined for `provided` (nginx reads certFile). */
  public readonly certPem: pulumi.Output<string> | undefined;
  /** The server's private key, a secret; undefined for `provided`. */
  public readonly keyPem: pulumi.Output<string> | undefined;
  /** `provided` only: the files on the host. */
  public readonly certFile: string | undefined;
  public readonly keyFile: string | undefined;
  /** What must exist before nginx may use the certificate. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: TlsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("thon:tls:Tls", name, {}, opts);
    const t = args.tls;
    this.mode = t.mode;
    const names = certificateNames(args.host, args.altNames);
    const keyArgs: tls.PrivateKeyArgs =
      t.algorithm === "RSA" ? { algorithm: "RSA", rsaBits: t.rsaBits } : { algorithm: "ECDSA", ecdsaCurve: t.ecdsaCurve };
    // keyEncipherment is for RSA key exchange only; an ECDSA key only signs.
    const serverUses = ["digitalSignature", ...(t.algorithm === "RSA" ? ["keyEncipherment"] : []), "serverAuth"];
    const serverSubject = {
      organization: t.organization,
      ...(names.commonName !== undefined ? { commonName: names.commonName } : {}),
    };
    const serverValidity = t.validityDays * HOURS_PER_DAY;
    const sans = {
      ...(names.dnsNames.length > 0 ? { dnsNames: names.dnsNames } : {}),
      ...(names.ipAddresses.length > 0 ? { ipAddresses: names.ipAddresses } : {}),
    };

    this.ready = [];
    if (t.mode === "ca") {
      const caKey = new tls.PrivateKey(`${name}-ca-key`, keyArgs, { parent: this });
      const caCert = new tls.SelfSignedCert(
        `${name}-ca-cert`,
        {
          privateKeyPem: caKey.privateKeyPem,
          // No maxPathLength: the provider cannot express "0" (Go reads MaxPathLen 0
          // without MaxPathLenZero as "unset"), so the constraint would be a lie.
          isCaCertificate: true,
          allowedUses: ["certSigning", "crlSigning", "digitalSignature"],
          subject: { organization: t.organization, commonName: `${t.organization} ${args.eventName} event CA` },
          validityPeriodHours: t.caValidityDays * HOURS_PER_DAY,
          setSubjectKeyId: true,
          setAuthorityKeyId: true,
        },
        { parent: this },
      );
      const serverKey = new tls.PrivateKey(`${name}-server-key`, keyArgs, { parent: this });
      const csr = new tls.CertRequest(
        `${name}-server-csr`,
        { privateKeyPem: serverKey.privateKeyPem, subject: serverSubject, ...sans },
        { parent: this },
      );
      const serverCert = new tls.LocallySignedCert(
        `${name}-server-cert`,
        {
          certRequestPem: csr.certRequestPem,
          caPrivateKeyPem: caKey.privateKeyPem,
          caCertPem: caCert.certPem,
          allowedUses: serverUses,
          validityPeriodHours: serverValidity,
          earlyRenewalHours: Math.floor(serverValidity / 3),
          setSubjectKeyId: true,
        },
        { parent: this },
      );
      this.caCertPem = caCert.certPem;
      this.certPem = serverCert.certPem;
      this.keyPem = pulumi.secret(serverKey.privateKeyPem);
    } else if (t.mode === "selfsigned") {
      const key = new tls.PrivateKey(`${name}-server-key`, keyArgs, { parent: this });
      const cert = new tls.SelfSignedCert(
        `${name}-server-cert`,
        {
          privateKeyPem: key.privateKeyPem,
          allowedUses: serverUses,
          subject: serverSubject,
          ...sans,
          validityPeriodHours: serverValidity,
          earlyRenewalHours: Math.floor(serverValidity / 3),
          setSubjectKeyId: true,
        },
        { parent: this },
      );
      this.caCertPem = cert.certPem;
      this.certPem = cert.certPem;
      this.keyPem = pulumi.secret(key.privateKeyPem);
    } else {
      this.certFile = t.certFile!;
      this.keyFile = t.keyFile!;
      const check = args.target.command(
        `${name}-provided-check`,
        { create: providedCheckScript(this.certFile, this.keyFile), triggers: [this.certFile, this.keyFile] },
        { parent: this },
      );
      this.ready.push(check);
    }

    this.registerOutputs({ caCertPem: this.caCertPem, certPem: this.certPem });
  }
}

/**
 * Fails the deployment, before nginx is touched, when the provided files are
 * missing, unreadable, not PEM, or the key does not belong to the
 * certificate. Reads only public parts into its output.
 */
export function providedCheckScript(certFile: string, keyFile: string): string {
  const cert = shellQuote(certFile);
  const key = shellQuote(keyFile);
  return [
    `for f in ${cert} ${key}; do`,
    '  [ -r "$f" ] || { echo "thon: $f is missing or unreadable on the host (tls.certFile/tls.keyFile). Fix: run your ACME client first, or correct the path" >&2; exit 1; }',
    "done",
    `cert_pub=$(openssl x509 -in ${cert} -noout -pubkey 2>/dev/null) || { echo "thon: ${certFile.replace(/["$`\\]/g, "")} is not a PEM certificate (tls.certFile). Fix: point tls.certFile at the full chain, e.g. fullchain.pem" >&2; exit 1; }`,
    `key_pub=$(openssl pkey -in ${key} -pubout 2>/dev/null) || { echo "thon: ${keyFile.replace(/["$`\\]/g, "")} is not a PEM private key (tls.keyFile). Fix: point tls.keyFile at the key, e.g. privkey.pem" >&2; exit 1; }`,
    '[ "$cert_pub" = "$key_pub" ] || { echo "thon: tls.keyFile does not belong to tls.certFile (different public keys). Fix: use the key and certificate of the same issuance" >&2; exit 1; }',
    `openssl x509 -in ${cert} -noout -checkend 0 >/dev/null || { echo "thon: tls.certFile has expired. Fix: renew it (e.g. certbot renew)" >&2; exit 1; }`,
    "",
  ].join("\n");
}
