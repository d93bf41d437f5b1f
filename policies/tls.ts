// TLS: the event CA and server certificate (components/tls.ts) and the key
// file nginx reads (components/proxy.ts).
//
// What the program declares, by tls.mode:
// - ca: tls.PrivateKey thon-tls-ca-key and thon-tls-server-key (algorithm
//   RSA with rsaBits, or ECDSA with ecdsaCurve, from thon.yaml), the CA as a
//   tls.SelfSignedCert (isCaCertificate, validityPeriodHours =
//   tls.caValidityDays x 24), the server certificate as a
//   tls.LocallySignedCert (tls.validityDays x 24); the thon:host:File
//   thon-proxy-server-key (mode 0600) writes the server key, its command
//   getting it on stdin. The CA key stays in Pulumi's state, never on disk.
// - selfsigned: one key and one tls.SelfSignedCert, the same key file.
// - provided: no key or certificate resource: nginx reads the ACME client's
//   files by path and THON never writes them, so there is nothing to check here.
import * as tls from "@pulumi/tls";
import { validateResourceOfType, type EnforcementLevel, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import { checkSecretFiles } from "./files";
import { configOf, eventFacts, settle, show, TYPES, UNKNOWN } from "./lib";

interface KeyConfig {
  minRsaBits: number;
  ecdsaCurves: string[];
}

/**
 * thon-tls-key-strength: RSA keys of at least 2048 bits, ECDSA on P-256 or
 * stronger. Ed25519 is refused: browsers do not accept Ed25519 server
 * certificates, and thon.yaml cannot ask for one.
 */
export function tlsKeyStrength(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
  return {
    name: "thon-tls-key-strength",
    description:
      "TLS private keys are RSA of 2048 bits or more, or ECDSA on P256/P384/P521 (browsers reject Ed25519 server certificates). Fix: in thon.yaml set tls.algorithm: ECDSA with tls.ecdsaCurve P256 or P384, or tls.algorithm: RSA with tls.rsaBits 2048, 3072 or 4096.",
    enforcementLevel,
    configSchema: {
      properties: {
        minRsaBits: { type: "integer", minimum: 2048, default: 2048 },
        ecdsaCurves: { type: "array", items: { type: "string" }, default: ["P256", "P384", "P521"] },
      },
    },
    validateResource: validateResourceOfType(tls.PrivateKey, (props, args, report) => {
      const { minRsaBits, ecdsaCurves } = configOf<KeyConfig>(args, { minRsaBits: 2048, ecdsaCurves: ["P256", "P384", "P521"] });
      const k = settle(props);
      if (k === UNKNOWN || k.algorithm === UNKNOWN) return report(`${args.name}: the key algorithm is unknown at preview`);
      switch (k.algorithm) {
        case "RSA": {
          // The provider's default is 2048 bits.
          const bits = k.rsaBits === undefined ? 2048 : k.rsaBits;
          if (bits === UNKNOWN) report(`${args.name}: rsaBits is unknown at preview`);
          else if (bits < minRsaBits) report(`${args.name} is an RSA key of ${bits} bits; at least ${minRsaBits} are needed`);
          return;
        }
        case "ECDSA": {
          // The provider's default curve is P224, which is too weak.
          const curve = k.ecdsaCurve === undefined ? "P224" : k.ecdsaCurve;
          if (curve === UNKNOWN) report(`${args.name}: ecdsaCurve is unknown at preview`);
          else if (!ecdsaCurves.includes(curve)) {
            report(`${args.name} is an ECDSA key on ${curve}${k.ecdsaCurve === undefined ? " (the provider's default)" : ""}; use one of ${ecdsaCurves.join(", ")}`);
          }
          return;
        }
        case "ED25519":
          return report(`${args.name} is an Ed25519 key; browsers do not accept Ed25519 server certificates, use ECDSA or RSA`);
        default:
          report(`${args.name} uses algorithm ${show(k.algorithm)}; use ECDSA or RSA`);
      }
    }),
  };
}

interface ValidityConfig {
  maxValidityDays?: number;
}

const DEFAULT_MAX_VALIDITY_DAYS = 397;

/**
 * thon-tls-cert-validity: no certificate (server or event CA) lives longer
 * than the configured maximum: the policy config's maxValidityDays, else
 * thon.yaml's tls.maxValidityDays (the stack's event output), else 397 days.
 * The CA counts too: participants install it, and a leaked CA key should
 * stop mattering soon after the event. Reads validityPeriodHours of every
 * tls.SelfSignedCert (the CA in mode ca, the server certificate in mode
 * selfsigned) and tls.LocallySignedCert (the server certificate in mode ca).
 */
export function tlsCertValidity(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-tls-cert-validity",
    description:
      "Certificates (the server's and the event CA) are valid no longer than the maximum: tls.maxValidityDays in thon.yaml (default 397), or maxValidityDays in the policy config. Fix: lower tls.validityDays (server) or tls.caValidityDays (CA) in thon.yaml.",
    enforcementLevel,
    configSchema: {
      properties: { maxValidityDays: { type: "integer", minimum: 1, description: "Longest certificate lifetime; default thon.yaml's tls.maxValidityDays, else 397." } },
    },
    validateStack: (args, report) => {
      const config = configOf<ValidityConfig>(args, {});
      const maxDays = config.maxValidityDays ?? eventFacts(args).tlsMaxValidityDays ?? DEFAULT_MAX_VALIDITY_DAYS;
      for (const r of args.resources) {
        const cert = r.asType(tls.SelfSignedCert) ?? r.asType(tls.LocallySignedCert);
        if (!cert) continue;
        const c = settle(cert as unknown as { validityPeriodHours?: number; isCaCertificate?: boolean });
        const hours = c === UNKNOWN ? UNKNOWN : c.validityPeriodHours;
        const isCa = c !== UNKNOWN && c.isCaCertificate === true;
        if (hours === UNKNOWN) report(`${r.name}: validityPeriodHours is unknown at preview; give a literal lifetime`, r.urn);
        else if (typeof hours !== "number" || hours > maxDays * 24) {
          report(
            `${r.name}: the ${isCa ? "CA certificate" : "certificate"} is valid ${typeof hours === "number" ? `${hours} hours (${Math.ceil(hours / 24)} days)` : show(hours)}, longer than ${maxDays} days; lower tls.${isCa ? "caValidityDays" : "validityDays"}`,
            r.urn,
          );
        }
      }
    },
  };
}

/**
 * thon-tls-key-file-mode: a private key reaches the disk with mode 0600 and
 * is never readable by others, not even while it is written. Checks every
 * thon:host:File whose content comes from a tls.PrivateKey (the engine's
 * per-property dependencies): its `mode` input must be owner-only; every
 * command getting the key on stdin must be such a file's writer (which writes
 * under umask 077); the key must not be in a script's text. A container
 * upload of a key needs permissions 0600.
 */
export function tlsKeyFileMode(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-tls-key-file-mode",
    description:
      "Private keys are written with mode 0600 (owner only), under umask 077, from stdin. Fix: declare key files as components/proxy.ts does (a HostFile, components/hostFile.ts, with mode \"0600\"); with tls.mode provided, keep the ACME client's key 0600 yourself.",
    enforcementLevel,
    validateStack: (args, report) => checkSecretFiles(args, report, { sourceType: TYPES.privateKey, what: "a private key" }),
  };
}
