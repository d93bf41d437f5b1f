// TLS: the event CA and server certificate (issue "One HTTPS entry").
//
// Keys and certificates are checked on @pulumi/tls's own resource types and
// input names (algorithm, rsaBits, ecdsaCurve, validityPeriodHours,
// isCaCertificate), which are the provider's and stable. How the program
// writes the key to disk is not settled yet: the file-mode policy matches
// any command (local or remote) that depends on a tls.PrivateKey or names a
// key file, and any container upload of a key, and asks for mode 0600.
import * as tls from "@pulumi/tls";
import {
  validateResourceOfType,
  type EnforcementLevel,
  type PolicyResource,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
} from "@pulumi/policy";
import { configOf, dependenciesOf, eventFacts, nameOf, ofType, settle, show, TYPES, UNKNOWN } from "./lib";

interface KeyConfig {
  minRsaBits: number;
  ecdsaCurves: string[];
}

/** thon-tls-key-strength: RSA keys of at least 2048 bits, ECDSA on P-256 or stronger (or Ed25519). */
export function tlsKeyStrength(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
  return {
    name: "thon-tls-key-strength",
    description:
      "TLS private keys are RSA of 2048 bits or more, ECDSA on P256/P384/P521, or ED25519. Fix: set tls.algorithm and tls.rsaBits (2048, 3072, 4096) or tls.ecdsaCurve (P256, P384) in thon.yaml; note the provider's default curve is P224.",
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
          return;
        default:
          report(`${args.name} uses algorithm ${show(k.algorithm)}; use RSA, ECDSA or ED25519`);
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
 * stop mattering soon after the event.
 */
export function tlsCertValidity(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-tls-cert-validity",
    description:
      "Certificates (the server's and the event CA) are valid no longer than the maximum: tls.maxValidityDays in thon.yaml (default 397), or maxValidityDays in the policy config. Fix: lower tls.validityDays / tls.caValidityDays in thon.yaml.",
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
        const kind = c !== UNKNOWN && c.isCaCertificate === true ? "CA certificate" : "certificate";
        if (hours === UNKNOWN) report(`${r.name}: validityPeriodHours is unknown at preview; give a literal lifetime`, r.urn);
        else if (typeof hours !== "number" || hours > maxDays * 24) {
          report(`${r.name}: the ${kind} is valid ${typeof hours === "number" ? `${hours} hours (${Math.ceil(hours / 24)} days)` : show(hours)}, longer than ${maxDays} days`, r.urn);
        }
      }
    },
  };
}

// A file name that looks like a private key.
const KEY_FILE = /[\w.\/-]*(?:\.key|privkey[\w.-]*|[\w-]*key\.pem)(?![\w.])/i;
// A mode that keeps a file to its owner: install -m 0600, chmod 600/400, chmod go=, umask 077.
const PRIVATE_MODE = /\binstall\b[^\n]*(?:\s-m\s*|\s--mode[= ])['"]?0?[46]00\b|\bchmod\s+(?:-\w+\s+)*['"]?0?[46]00\b|\bchmod\s+(?:-\w+\s+)*(?:u=rw?,)?go?=(?:\s|$)|\bchmod\s+(?:-\w+\s+)*go?-rwx\b|\bumask\s+0?077\b/;
// An explicit numeric mode in a command.
const MODE_ON_LINE = /(?:\s-m\s*|\s--mode[= ]|\bchmod\s+(?:-\w+\s+)*)['"]?(0?[0-7]{3,4})\b/g;

/** Problems with how a script writes a key file; empty when it keeps the file to its owner. */
export function keyScriptProblems(script: string): string[] {
  const problems: string[] = [];
  if (!PRIVATE_MODE.test(script)) problems.push("does not set mode 0600 (e.g. install -m 0600 /dev/stdin <file>, or umask 077)");
  // One shell command at a time: `install -d -m 0750 dir && install -m 0600 /dev/stdin dir/k.key` is fine.
  for (const cmd of script.split(/&&|\|\||[;|\n]/)) {
    if (!KEY_FILE.test(cmd) || /\binstall\b[^\n]*\s-d\b/.test(cmd)) continue;
    for (const m of cmd.matchAll(MODE_ON_LINE)) {
      const mode = parseInt(m[1]!, 8);
      if ((mode & 0o077) !== 0) problems.push(`gives the key file mode ${m[1]}, readable beyond its owner`);
    }
  }
  return problems;
}

const PRIVATE_UPLOAD_MODES = new Set(["600", "0600", "400", "0400", 0o600, 0o400, 600, 400]);

/**
 * thon-tls-key-file-mode: private keys reach the disk with mode 0600. Checks
 * every command (command:local / command:remote) that depends on a
 * tls.PrivateKey, feeds a PEM private key on stdin, or names a key file in
 * its script; and every container upload of a key.
 */
export function tlsKeyFileMode(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-tls-key-file-mode",
    description:
      "Private keys are written with mode 0600 (owner only). Fix: write the key with `install -m 0600 /dev/stdin <file>` (key on stdin) or set umask 077 first; container uploads of a key use permissions 0600.",
    enforcementLevel,
    validateStack: (args, report) => {
      const keys = new Set(ofType(args.resources, TYPES.privateKey).map((r) => r.urn));
      for (const r of ofType(args.resources, TYPES.localCommand, TYPES.remoteCommand)) {
        const c = settle(r.props as { create?: string; update?: string; stdin?: string });
        if (c === UNKNOWN) {
          if (dependenciesOf(r).some((d) => keys.has(d.urn))) report(`${r.name}: its scripts are unknown at preview`, r.urn);
          continue;
        }
        const scripts = (["create", "update"] as const).filter((k) => c[k] !== undefined);
        const dependsOnKey = dependenciesOf(r).some((d) => keys.has(d.urn));
        const pemOnStdin = typeof c.stdin === "string" && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(c.stdin);
        const namesKeyFile = scripts.some((k) => typeof c[k] === "string" && KEY_FILE.test(c[k] as string));
        if (!dependsOnKey && !pemOnStdin && !namesKeyFile) continue;
        for (const k of scripts) {
          const script = c[k];
          if (script === UNKNOWN) {
            report(`${r.name}: the ${k} script, which writes a private key, is unknown at preview`, r.urn);
            continue;
          }
          for (const problem of keyScriptProblems(String(script))) report(`${r.name}: the ${k} script writes a private key but ${problem}`, r.urn);
        }
      }
      for (const r of ofType(args.resources, TYPES.container)) checkUploads(r, keys, report);
    },
  };
}

function checkUploads(r: PolicyResource, keys: ReadonlySet<string>, report: (message: string, urn?: string) => void): void {
  const c = settle(r.props as { name?: string; uploads?: { file?: string; content?: string; permissions?: string | number }[] });
  if (c === UNKNOWN) return;
  const uploads = c.uploads;
  if (uploads === UNKNOWN) {
    if (dependenciesOf(r).some((d) => keys.has(d.urn))) report(`${nameOf(r.name, c)}: its uploads, which may hold a private key, are unknown at preview`, r.urn);
    return;
  }
  for (const u of uploads ?? []) {
    if (u === UNKNOWN) continue;
    const isKey = (typeof u.file === "string" && KEY_FILE.test(u.file)) || (typeof u.content === "string" && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(u.content));
    if (!isKey) continue;
    const perms = u.permissions;
    if (perms === UNKNOWN || perms === undefined || !PRIVATE_UPLOAD_MODES.has(perms)) {
      report(`${nameOf(r.name, c)} uploads a private key to ${show(u.file)} with permissions ${show(perms)}; use "0600"`, r.urn);
    }
  }
}
