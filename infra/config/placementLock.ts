// thon.placement.yaml: which swarm node holds each participant's home and
// workspace. A volume exists only on its node, so this record is what keeps
// placement stable across updates (infra/placement.ts never moves a locked
// participant). THON writes it after a real `pulumi up` that placed someone
// new (infra/index.ts); organizers commit it with thon.yaml.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import { NAME_PATTERN, NAME_RULE } from "./names.ts";
import { ThonConfigError, type ConfigProblem } from "./load.ts";
import type { SwarmPlan } from "../plan.ts";
import { keepStyle } from "../cli/edit.ts";

export type PlacementLock = Readonly<Record<string, string>>;

/** The header a new lock file gets; an existing file's own header comment is kept. */
export const PLACEMENT_LOCK_HEADER = [
  "# THON's record of which node holds each participant's home and workspace.",
  "# Written by thon; commit it with thon.yaml. Edit only through `thon users move-node`.",
].join("\n");

/** The lock beside an event file: thon.yaml -> thon.placement.yaml (x.yaml -> x.placement.yaml). */
export function placementLockPath(eventFile: string): string {
  const stem = basename(eventFile).replace(/\.ya?ml$/i, "");
  return join(dirname(eventFile), `${stem}.placement.yaml`);
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ThonConfigError(path, [{ path: "", message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)}). Fix: check its permissions` }]);
  }
}

/** Parses a lock file's text; throws ThonConfigError naming the file, the key and its line. */
export function parsePlacementLock(text: string, fileName: string): PlacementLock {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (node: Node | undefined | null) => {
    const offset = node?.range?.[0];
    if (offset === undefined) return {};
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    throw new ThonConfigError(
      fileName,
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { path: "", line, column: col, message: `YAML syntax: ${e.message.split("\n")[0]}. Fix: restore the file from git` };
      }),
    );
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ""))) return {};
  const problems: ConfigProblem[] = [];
  const lock: Record<string, string> = {};
  if (!isMap(root)) {
    throw new ThonConfigError(fileName, [{ path: "", ...at(root as Node), message: "must be a mapping with one key, placement. Fix: restore the file from git" }]);
  }
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? pair.key.value : pair.key;
    if (key !== "placement") {
      problems.push({ path: String(key), ...at(pair.key as Node), message: `unknown key. Fix: the file holds only placement: { <user>: <node> }` });
      continue;
    }
    const map = pair.value;
    if (map === null || (isScalar(map) && map.value === null)) continue;
    if (!isMap(map)) {
      problems.push({ path: "placement", ...at(map as Node), message: "must map participants to nodes (alice: n1). Fix: restore the file from git" });
      continue;
    }
    for (const entry of map.items) {
      const user = isScalar(entry.key) ? entry.key.value : undefined;
      const node = isScalar(entry.value) ? entry.value.value : undefined;
      const path = `placement.${String(user ?? "?")}`;
      if (typeof user !== "string" || !NAME_PATTERN.test(user)) {
        problems.push({ path, ...at(entry.key as Node), message: `${JSON.stringify(user)} is not a participant name (${NAME_RULE}). Fix: restore the file from git` });
      } else if (typeof node !== "string" || !NAME_PATTERN.test(node) || isSeq(entry.value)) {
        problems.push({ path, ...at((entry.value ?? entry.key) as Node), message: `must name a node (${NAME_RULE}), found ${JSON.stringify(node ?? null)}. Fix: restore the file from git, or move participants with \`thon users move-node\`` });
      } else lock[user] = node;
    }
  }
  if (problems.length > 0) throw new ThonConfigError(fileName, problems);
  return lock;
}

/** Reads the lock at `path`; {} when there is none yet. */
export function readPlacementLock(path: string): PlacementLock {
  const text = readText(path);
  return text === undefined ? {} : parsePlacementLock(text, path);
}

/** The file's text for `lock`: the header comment (`header`, else THON's), then the entries sorted by user. */
export function renderPlacementLock(lock: PlacementLock, header: string = PLACEMENT_LOCK_HEADER): string {
  const users = Object.keys(lock).sort();
  const body = users.length === 0 ? "placement: {}\n" : `placement:\n${users.map((u) => `  ${u}: ${lock[u]}\n`).join("")}`;
  return `${header.trimEnd()}\n${body}`;
}

/** The comment lines at the top of an existing lock file, if it has any. */
function headerOf(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("#")) break;
    lines.push(line);
  }
  return lines.length > 0 ? lines.join("\n") : undefined;
}

/**
 * Writes `lock` to `path`, keeping the file's header comment. Atomic (a
 * temporary file renamed over it): a crash mid-write must not leave a torn
 * lock, which would lose where people's homes are.
 */
export function writePlacementLock(path: string, lock: PlacementLock): void {
  writeAtomically(path, renderPlacementLock(lock, headerOf(readText(path))));
}

function writeAtomically(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(temp, text, { mode: 0o644 });
  renameSync(temp, path);
}

/**
 * Sets some users' nodes (a move, a drain) and leaves the rest of the file as
 * it is: comments, including one an organizer put on a line, and order (new
 * users go after the others, in name order), through yaml's Document API as
 * infra/cli/edit.ts keeps thon.yaml's. Atomic like writePlacementLock.
 */
export function updatePlacementLock(path: string, changes: Readonly<Record<string, string>>): void {
  const text = readText(path) ?? renderPlacementLock({});
  parsePlacementLock(text, path); // refuse to edit a broken lock
  const doc = parseDocument(text);
  if (!isMap(doc.get("placement"))) doc.set("placement", doc.createNode({}));
  const placement = doc.get("placement");
  if (isMap(placement)) placement.flow = false; // a block mapping, one user a line
  for (const user of Object.keys(changes).sort()) doc.setIn(["placement", user], changes[user]);
  writeAtomically(path, doc.toString(keepStyle(text)));
}

/**
 * Records newly placed participants in the lock beside `eventFile` after a
 * real update (`realUpdate`: not a preview, not `thon plan`), and only when
 * someone was placed now. Returns whether it wrote. Called by infra/index.ts
 * as soon as the program is planned, before the engine creates anything: a
 * lock entry for a service that then failed costs nothing (that node is as
 * good as any for an empty home), while a service created without its entry
 * could be placed elsewhere by the next run (once a node is added), away
 * from its home.
 */
export function recordPlacement(eventFile: string, swarm: Pick<SwarmPlan, "added" | "lock"> | undefined, realUpdate: boolean): boolean {
  if (!realUpdate || swarm === undefined || swarm.added.length === 0) return false;
  writePlacementLock(placementLockPath(eventFile), swarm.lock);
  return true;
}
