// thon.placement.yaml: THON's record of which node holds each participant's
// home and workspace (SWARM.md). Read here and written only by node moves;
// the comments and the order of the file are kept (yaml's Document API), as
// infra/cli/edit.ts keeps thon.yaml's.
//
// LEAD: infra/config/load.ts (branch `placement`) reads the same file into
// Event.placementLock; at merge, readPlacementLock can become that reader.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isMap, isScalar, parseDocument } from "yaml";
import { keepStyle } from "../../infra/cli/edit.ts";

export const PLACEMENT_FILE = "thon.placement.yaml";

const HEADER = `# THON's record of which node holds each participant's home and workspace.
# Written by thon; commit it with thon.yaml. Edit only through \`thon users move-node\`.
`;

/** The lock file beside thon.yaml. */
export const placementFileOf = (eventFile: string) => join(dirname(eventFile), PLACEMENT_FILE);

/** user → node; {} when the file does not exist. */
export function readPlacementLock(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const doc = parseDocument(readFileSync(file, "utf8"));
  if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
  const placement = doc.get("placement");
  if (placement === undefined || placement === null) return {};
  if (!isMap(placement)) throw new Error(`${file}: placement must be a mapping of user: node`);
  const lock: Record<string, string> = {};
  for (const item of placement.items) {
    const user = isScalar(item.key) ? String(item.key.value) : String(item.key);
    const node = isScalar(item.value) ? item.value.value : item.value;
    if (typeof node !== "string") throw new Error(`${file}: placement.${user} must be a node name`);
    lock[user] = node;
  }
  return lock;
}

/**
 * Sets the given users' nodes, keeping the file's comments and order (new
 * users go in name order after the others); written atomically (a temp file,
 * then rename), so a crash never leaves half a lock.
 */
export function writePlacementLock(file: string, changes: Readonly<Record<string, string>>): void {
  const text = existsSync(file) ? readFileSync(file, "utf8") : `${HEADER}placement: {}\n`;
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
  let placement = doc.get("placement");
  if (!isMap(placement)) {
    doc.set("placement", doc.createNode({}));
    placement = doc.get("placement");
  }
  const map = placement as ReturnType<typeof doc.createNode> & { flow?: boolean };
  if (isMap(map)) map.flow = false; // a block mapping, one user a line, whatever the file started with
  for (const user of Object.keys(changes).sort()) doc.setIn(["placement", user], changes[user]);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, doc.toString(keepStyle(text)));
  renameSync(tmp, file);
}
