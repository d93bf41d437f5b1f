// Reads thon.yaml and turns every problem into one line an organizer can act
// on: file:line:col, the dotted path, the value found, what is wrong and the
// fix. All problems are reported together, and nothing is returned (so
// nothing is deployed) unless the whole file is valid.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from "yaml";
import { parse as parseJsonc, printParseErrorCode, type ParseError } from "jsonc-parser";
import { z } from "zod";
import { thonFileRefined } from "./refine.ts";
import type { ThonFile } from "./schema.ts";
import { toEvent, type Event } from "./event.ts";
import { suggestName, NAME_PATTERN, NAME_WHY } from "./names.ts";

export interface ConfigProblem {
  /** Dotted path such as `groups.alpha.users[2]`; empty for the whole file. */
  readonly path: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

export class ThonConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `${file} is not valid (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  ${formatProblem(file, p)}`).join("\n"),
    );
    this.name = "ThonConfigError";
  }
}

export function formatProblem(file: string, p: ConfigProblem): string {
  const where = p.line !== undefined ? `${file}:${p.line}:${p.column ?? 1}` : file;
  return `${where} ${p.path === "" ? "" : p.path + ": "}${p.message}`;
}

type Segment = string | number;

/** The YAML node at a path, or the deepest existing ancestor (for "missing key" errors). */
function locate(doc: Document, path: readonly Segment[]): { node: Node | undefined; exact: boolean } {
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) return { node: node as Node, exact: false };
      // Point at the key when the value is empty (e.g. `users:` with nothing after it).
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg];
      if (item === undefined) return { node: node as Node, exact: false };
      node = item;
    } else {
      return { node: node as Node | undefined, exact: false };
    }
  }
  return { node: node as Node | undefined, exact: true };
}

function shown(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? text.slice(0, 57) + "..." : text;
}

/** Closest of `candidates` to `word` by edit distance, if it is a plausible typo. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** Keys a strict object at `path` accepts, read off the schema itself (for "did you mean"). */
function knownKeysAt(doc: Document, path: readonly Segment[]): string[] {
  let schema: z.ZodType = thonFileRefined;
  let data: unknown = doc.toJS();
  for (const seg of [...path, undefined]) {
    // Unwrap wrappers until an object or record shows its shape.
    for (;;) {
      const def = (schema as unknown as { def: Record<string, unknown> }).def;
      if (def.type === "default" || def.type === "prefault" || def.type === "optional" || def.type === "pipe" || def.type === "nullable") {
        schema = (def.innerType ?? def.in) as z.ZodType;
      } else if (def.type === "union" || def.type === "discriminatedUnion") {
        // Pick the object option matching the data (discriminated unions), else the first object.
        const options = def.options as z.ZodType[];
        const objects = options.filter((o) => (o as unknown as { def: { type: string } }).def.type === "object");
        const match = objects.find((o) => {
          const shape = (o as unknown as { def: { shape: Record<string, z.ZodType> } }).def.shape;
          return Object.entries(shape).every(([k, v]) => {
            const lit = (v as unknown as { def: { type: string; values?: unknown[] } }).def;
            return lit.type !== "literal" || (typeof data === "object" && data !== null && lit.values?.includes((data as Record<string, unknown>)[k]));
          });
        });
        schema = match ?? objects[0] ?? options[0]!;
      } else break;
    }
    const def = (schema as unknown as { def: Record<string, unknown> }).def;
    if (seg === undefined) {
      return def.type === "object" ? Object.keys(def.shape as object) : [];
    }
    if (def.type === "object") schema = (def.shape as Record<string, z.ZodType>)[String(seg)] ?? schema;
    else if (def.type === "record") schema = def.valueType as z.ZodType;
    else if (def.type === "array") schema = def.element as z.ZodType;
    else return [];
    data = typeof data === "object" && data !== null ? (data as Record<string, unknown>)[String(seg)] : undefined;
  }
  return [];
}

function problemFromIssue(doc: Document, lines: LineCounter, issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = issue.path as Segment[];
  const position = (p: readonly Segment[], key?: string) => {
    let { node } = locate(doc, p);
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((it) => (isScalar(it.key) ? it.key.value : it.key) === key);
      if (pair && isScalar(pair.key)) node = pair.key as Node;
    }
    const offset = node?.range?.[0];
    if (offset === undefined) return {};
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };

  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(doc, path);
    return issue.keys.map((key) => {
      const guess = closest(key, known);
      const fix = guess ? `did you mean "${guess}"?` : `remove it; keys allowed here: ${known.join(", ")}`;
      return {
        path: z.core.toDotPath([...path, key]),
        ...position(path, key),
        message: `unknown setting "${key}". Fix: ${fix}`,
      };
    });
  }

  if (issue.code === "invalid_key") {
    // A map key the schema refuses (a group name, an environment variable): name the key, not the map.
    const key = String(path.at(-1));
    const inner = issue.issues[0]?.message ?? issue.message;
    const fix = path[0] === "groups" ? ` (${NAME_WHY}). Fix: write "${suggestName(key)}"` : "";
    return [{ path: z.core.toDotPath(path), ...position(path.slice(0, -1), key), message: `the name ${JSON.stringify(key)} is refused: ${inner}${fix}` }];
  }

  if (issue.code === "invalid_type" && path.length === 2 && path[0] === "groups") {
    const { node } = locate(doc, path);
    if (isSeq(node)) {
      const names = (node.toJSON() as unknown[]).map((n) => (typeof n === "string" ? n : JSON.stringify(n))).join(", ");
      return [{
        path: z.core.toDotPath(path),
        ...position(path),
        message: `a group is a mapping with users, not a list. Fix: write ${String(path[1])}: { users: [${names}] }`,
      }];
    }
  }

  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    // A union of a name and an object (users) fails as a whole; report the
    // branch that fits the value's type instead of "invalid input".
    // (Also `false | {...}` such as lemonade.embeddingModel: a literal branch fails with invalid_value.)
    const branch = issue.errors.find((errs) => !errs.some((e) => (e.code === "invalid_type" || e.code === "invalid_value") && e.path.length === 0));
    if (branch) {
      return branch.flatMap((e) => problemFromIssue(doc, lines, { ...e, path: [...path, ...e.path] } as z.core.$ZodIssue));
    }
  }

  const { node, exact } = locate(doc, path);
  const value = exact && node ? (node as { toJSON?: () => unknown }).toJSON?.() : undefined;
  let message = issue.message;
  if (issue.code === "invalid_type" && !exact) {
    message = `is required (${issue.message.replace(/^Invalid input: /, "")}). Fix: add it`;
  } else if (issue.code === "invalid_value" && "values" in issue) {
    message = `${shown(value)} is not allowed. Fix: use one of ${issue.values.map((v) => shown(v)).join(", ")}`;
  } else if (exact && value !== undefined && typeof value !== "object") {
    message = `${shown(value)}: ${issue.message}`;
    if (typeof value === "string" && path.some((s) => s === "users") && !NAME_PATTERN.test(value)) {
      message += ` (${NAME_WHY}). Fix: write "${suggestName(value)}"`;
    }
  }
  return [{ path: z.core.toDotPath(path), ...position(path), message }];
}

/** Validates thon.yaml text; throws ThonConfigError listing every problem. */
export function parseThonFile(text: string, fileName = "thon.yaml"): ThonFile {
  const lines = new LineCounter();
  // merge: YAML 1.1's `<<: *shared` merge keys, which organizers use with anchors for shared settings.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    throw new ThonConfigError(
      fileName,
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { path: "", line, column: col, message: `YAML syntax: ${e.message.split("\n")[0]}` };
      }),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS() ?? {};
  } catch (err) {
    // yaml refuses aliases that would expand beyond maxAliasCount (a "billion laughs" file).
    let first: Node | undefined;
    visit(doc, { Alias: (_, node) => ((first = node as unknown as Node), visit.BREAK) });
    const at = (first as Node | undefined)?.range?.[0];
    const pos = at === undefined ? {} : (({ line, col }) => ({ line, column: col }))(lines.linePos(at));
    throw new ThonConfigError(fileName, [
      { path: "", ...pos, message: `the aliases (*name) in this file expand too far: ${(err as Error).message}. Fix: write the repeated values out, or nest fewer aliases` },
    ]);
  }
  const result = thonFileRefined.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) => problemFromIssue(doc, lines, issue));
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw new ThonConfigError(fileName, problems);
  }
  return result.data;
}

/** Reads a VS Code settings file (JSON with comments and trailing commas). */
export function readSettingsFile(path: string, configFile: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ThonConfigError(configFile, [
      { path: "sandbox.vscodeSettings", message: `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}). Fix: give a path relative to thon.yaml, or remove the setting` },
    ]);
  }
  const errors: ParseError[] = [];
  const value: unknown = parseJsonc(text, errors, { allowTrailingComma: true });
  if (errors.length > 0 || typeof value !== "object" || value === null || Array.isArray(value)) {
    const detail = errors[0] ? `${printParseErrorCode(errors[0].error)} at offset ${errors[0].offset}` : "it is not a JSON object";
    throw new ThonConfigError(configFile, [
      { path: "sandbox.vscodeSettings", message: `${path} is not a VS Code settings file: ${detail}. Fix: it must hold one JSON object such as { "editor.fontSize": 14 }` },
    ]);
  }
  return value as Record<string, unknown>;
}

/** Loads, validates and normalizes an event file. Throws ThonConfigError. */
export function loadEvent(file: string): Event {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ThonConfigError(file, [
      { path: "", message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)}). Fix: check the path, or create one with "thon init"` },
    ]);
  }
  const parsed = parseThonFile(text, file);
  const settings = parsed.sandbox.vscodeSettings
    ? readSettingsFile(resolve(dirname(file), parsed.sandbox.vscodeSettings), file)
    : {};
  // Like vscodeSettings, a relative key file is next to thon.yaml: the working
  // directory differs between `thon` (the project) and `pulumi up` (infra/).
  const target =
    parsed.target.kind === "ssh"
      ? { ...parsed.target, privateKeyFile: resolve(dirname(file), parsed.target.privateKeyFile) }
      : parsed.target.kind === "swarm"
        ? { ...parsed.target, ssh: { ...parsed.target.ssh, privateKeyFile: resolve(dirname(file), parsed.target.ssh.privateKeyFile) } }
        : parsed.target;
  // The same for the image's build context (SandboxImage hands it to the provider relative to its folder).
  const build = parsed.sandbox.build ? { ...parsed.sandbox.build, context: resolve(dirname(file), parsed.sandbox.build.context) } : undefined;
  const sandbox = build ? { ...parsed.sandbox, build } : parsed.sandbox;
  return toEvent({ ...parsed, sandbox, target }, settings);
}
