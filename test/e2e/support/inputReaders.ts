// Readers for recorded inputs, shared by the e2e engine's translations
// (engine.ts, swarmTranslate.ts): each names the resource and the field when
// a value has the wrong type, and onlyKnown() fails on any field without a
// rule, so a translation is one-to-one down to nested fields.
import type { RecordedResource } from "../../../infra/preview/evaluate.ts";

/** An input the translation has no rule for: the program declares more than the e2e run would apply. */
export class UntranslatedInputError extends Error {
  constructor(where: string, field: string) {
    super(
      `${where}: input "${field}" has no translation to the Docker engine in test/e2e/support/engine.ts (swarm resources: swarmTranslate.ts); ` +
        `add a rule for it (after what the provider does with it) so the e2e run applies everything the program declares`,
    );
    this.name = "UntranslatedInputError";
  }
}

export const where = (r: RecordedResource) => `${r.type} ${r.name}`;

// --- value readers: each names the resource and field on a type mismatch ------

export function str(v: unknown, at: string): string {
  if (typeof v !== "string") throw new Error(`${at}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}
export function bool(v: unknown, at: string): boolean {
  if (typeof v !== "boolean") throw new Error(`${at}: expected a boolean, got ${JSON.stringify(v)}`);
  return v;
}
export function int(v: unknown, at: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new Error(`${at}: expected an integer, got ${JSON.stringify(v)}`);
  return v;
}
export function strList(v: unknown, at: string): string[] {
  if (!Array.isArray(v)) throw new Error(`${at}: expected a list, got ${JSON.stringify(v)}`);
  return v.map((x, i) => str(x, `${at}[${i}]`));
}
export function obj(v: unknown, at: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error(`${at}: expected an object, got ${JSON.stringify(v)}`);
  return v as Record<string, unknown>;
}
export function objList(v: unknown, at: string): Record<string, unknown>[] {
  if (!Array.isArray(v)) throw new Error(`${at}: expected a list, got ${JSON.stringify(v)}`);
  return v.map((x, i) => obj(x, `${at}[${i}]`));
}
/** Fails on any key of `o` outside `known`: nested inputs are translated one-to-one too. */
export function onlyKnown(o: Record<string, unknown>, known: readonly string[], at: string): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new UntranslatedInputError(at, k);
}
export function labelMap(v: unknown, at: string): Record<string, string> {
  const out: Record<string, string> = {};
  objList(v, at).forEach((l, i) => {
    onlyKnown(l, ["label", "value"], `${at}[${i}]`);
    out[str(l.label, `${at}[${i}].label`)] = str(l.value, `${at}[${i}].value`);
  });
  return out;
}

export function strMap(v: unknown, at: string): Record<string, string> {
  return Object.fromEntries(Object.entries(obj(v, at)).map(([k, x]) => [k, str(x, `${at}.${k}`)]));
}

/** What local and remote Commands share (pulumi-command's common args): the scripts, stdin, the environment. */
export interface CommandCommon {
  create: string | undefined;
  update: string | undefined;
  delete: string | undefined;
  stdin: string | undefined;
  environment: Record<string, string>;
}

export const emptyCommand = (): CommandCommon => ({ create: undefined, update: undefined, delete: undefined, stdin: undefined, environment: {} });

/** Reads one of the inputs every Command has into `into`; false for any other key (the caller's own, or untranslated). */
export function readCommandInput(key: string, value: unknown, at: string, into: CommandCommon): boolean {
  switch (key) {
    case "create":
    case "update":
    case "delete":
    case "stdin":
      into[key] = str(value, at);
      return true;
    case "environment":
      into.environment = strMap(value, at);
      return true;
    case "triggers":
      // Only decides replacement (the diff's rule); nothing to run.
      if (!Array.isArray(value)) throw new Error(`${at}: expected a list`);
      return true;
    default:
      return false;
  }
}
