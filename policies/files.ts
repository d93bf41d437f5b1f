// Files that hold a secret (a TLS private key, API keys, passwords) and how
// the program puts them on disk. Used by thon-tls-key-file-mode (tls.ts) and
// thon-secret-file-mode (secrets.ts).
//
// Every file THON writes on the host is a thon:host:File component
// (components/hostFile.ts) whose inputs say what the file is: path, mode,
// owner, group and the sha256 of its content. Its one child, a command
// (command:local or command:remote), gets the content on `stdin` and writes
// it under umask 077 with exactly that mode. A sandbox gets files as
// container `uploads` with `permissions`. So the pack reads typed inputs
// only: no script is parsed.
//
// Which resources carry a secret is read from the engine's per-property
// dependencies (AnalyzeStack sends them, pkg/resource/plugin analyzer_plugin.go):
// a thon:host:File whose `sha256` comes from a tls.PrivateKey holds a key; a
// container whose `uploads` come from a random.RandomPassword uploads an API
// key. Secrets themselves reach an analyzer unwrapped and unmarked, so their
// secretness cannot be used.
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { dependenciesOf, nameOf, ofType, settle, show, TYPES, UNKNOWN } from "./lib";

const OCTAL = /^0?[0-7]{3,4}$/;

/** Whether an octal mode ("0600", "0400") keeps a file to its owner. */
export function privateMode(mode: unknown): boolean {
  return typeof mode === "string" && OCTAL.test(mode) && (parseInt(mode, 8) & 0o077) === 0;
}

// ---------------------------------------------------------------------------
// Finding the resources that carry a secret

/**
 * Whether property `prop` of `r` is computed from one of `sources`. Uses the
 * engine's per-property dependencies; when it sent none for the resource
 * (an old engine or state), any dependency counts, but only for properties
 * the resource has.
 */
export function fedFrom(r: PolicyResource, prop: string, sources: ReadonlySet<string>): boolean {
  const perProperty = r.propertyDependencies ?? {};
  if (Object.keys(perProperty).length > 0) return (perProperty[prop] ?? []).some((d) => sources.has(d.urn));
  return dependenciesOf(r).some((d) => sources.has(d.urn));
}

type Report = (message: string, urn?: string) => void;

export interface SecretFileCheck {
  /** The type token of the resources whose outputs are the secret (tls.PrivateKey, random.RandomPassword). */
  readonly sourceType: string;
  /** What the secret is, for messages: "a private key", "a key or password". */
  readonly what: string;
}

const SCRIPT_PROPS = ["create", "update", "delete"] as const;

/**
 * Every thon:host:File whose content comes from the source has an
 * owner-only mode; every command that gets the source on stdin is a
 * thon:host:File's writer; no command has it in its script text; every
 * container whose uploads come from the source uploads with permissions 0600.
 */
export function checkSecretFiles(args: Pick<StackValidationArgs, "resources">, report: Report, check: SecretFileCheck): void {
  const sources = new Set(ofType(args.resources, check.sourceType).map((r) => r.urn));
  if (sources.size === 0) return;
  for (const r of ofType(args.resources, TYPES.localCommand, TYPES.remoteCommand)) {
    const c = settle(r.props as { create?: string; update?: string; delete?: string; stdin?: string });
    const perProperty = Object.keys(r.propertyDependencies ?? {}).length > 0;
    if (perProperty) {
      for (const k of SCRIPT_PROPS) {
        if (fedFrom(r, k, sources)) report(`${r.name}: ${check.what} is part of its ${k} script, which lands in process lists and logs. Fix: feed it on stdin`, r.urn);
      }
    }
    if (c === UNKNOWN) {
      if (fedFrom(r, "stdin", sources)) report(`${r.name}: its scripts are unknown at preview, and it gets ${check.what} on stdin`, r.urn);
      continue;
    }
    if (c.stdin === undefined || !fedFrom(r, "stdin", sources)) continue;
    if (r.parent?.type !== TYPES.hostFile) {
      report(
        `${r.name}: gets ${check.what} on stdin but is not the writer of a ${TYPES.hostFile}, so the pack cannot tell which file gets it or with which mode. Fix: declare the file with HostFile (components/hostFile.ts)`,
        r.urn,
      );
      continue;
    }
    // With no update script, the provider runs create again on an update.
    for (const k of ["create", "update"] as const) {
      if (c[k] === UNKNOWN) report(`${r.name}: the ${k} script, which writes ${check.what} from stdin, is unknown at preview`, r.urn);
    }
  }
  for (const r of ofType(args.resources, TYPES.hostFile)) {
    if (!fedFrom(r, "sha256", sources)) continue;
    const f = settle(r.props as { path?: string; mode?: string });
    const path = f === UNKNOWN ? UNKNOWN : f.path;
    const mode = f === UNKNOWN ? UNKNOWN : f.mode;
    if (mode === UNKNOWN) report(`${r.name}: the mode of ${show(path)}, which holds ${check.what}, is unknown at preview`, r.urn);
    else if (!privateMode(mode)) report(`${r.name}: ${show(path)} holds ${check.what} and has mode ${show(mode)}, readable beyond its owner. Fix: mode "0600"`, r.urn);
  }
  for (const r of ofType(args.resources, TYPES.container)) {
    if (!fedFrom(r, "uploads", sources)) continue;
    const c = settle(r.props as { name?: string; uploads?: { file?: string; permissions?: string }[] });
    const who = nameOf(r.name, c);
    const uploads = c === UNKNOWN ? UNKNOWN : c.uploads;
    if (uploads === UNKNOWN) {
      report(`${who}: its uploads, which hold ${check.what}, are unknown at preview`, r.urn);
      continue;
    }
    // The engine says the uploads as a whole come from the secret, not which one: all must be private.
    for (const u of uploads ?? []) {
      const file = u === UNKNOWN ? UNKNOWN : u.file;
      const permissions = u === UNKNOWN ? UNKNOWN : u.permissions;
      if (!privateMode(permissions)) {
        report(`${who} uploads ${show(file)} with permissions ${show(permissions)}, and its uploads hold ${check.what}; use "0600"`, r.urn);
      }
    }
  }
}
