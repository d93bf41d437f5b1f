// Renames in thon.yaml, keeping comments and layout like infra/cli/edit.ts.
// infra/cli/edit.ts has no rename verbs yet (the `cli` work adds them in
// parallel); these two are small and local so the lead can swap them for
// edit.ts's once both are merged.
import { isMap, isScalar, isSeq, parseDocument, type Document, type YAMLMap } from "yaml";
import { EditError, keepStyle } from "../../infra/cli/edit.ts";

function load(text: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new EditError(`thon.yaml does not parse: ${doc.errors[0]!.message.split("\n")[0]}`);
  return doc;
}

function groups(doc: Document): YAMLMap {
  const g = doc.get("groups", true);
  if (!isMap(g)) throw new EditError("groups in thon.yaml is not a mapping of group names");
  return g;
}

const keyOf = (k: unknown) => (isScalar(k) ? String(k.value) : String(k));

/** Renames a participant in place (their entry, its state and comment stay). */
export function renameUser(text: string, from: string, to: string): string {
  const doc = load(text);
  let found = false;
  for (const pair of groups(doc).items) {
    const users = isMap(pair.value) ? pair.value.get("users", true) : undefined;
    if (!isSeq(users)) continue;
    for (const item of users.items) {
      const name = isScalar(item) ? item.value : isMap(item) ? item.get("name") : undefined;
      if (name === to) throw new EditError(`"${to}" is already a participant (group "${keyOf(pair.key)}")`);
      if (name !== from) continue;
      if (isScalar(item)) item.value = to;
      else if (isMap(item)) item.set("name", to);
      found = true;
    }
  }
  if (!found) throw new EditError(`there is no participant "${from}" in thon.yaml`);
  return doc.toString(keepStyle(text));
}

/** Renames a group, keeping its place in the file, its users and comments. */
export function renameGroup(text: string, from: string, to: string): string {
  const doc = load(text);
  const g = groups(doc);
  if (g.items.some((p) => keyOf(p.key) === to)) throw new EditError(`group "${to}" already exists`);
  const pair = g.items.find((p) => keyOf(p.key) === from);
  if (!pair) throw new EditError(`there is no group "${from}" in thon.yaml`);
  if (isScalar(pair.key)) pair.key.value = to;
  else pair.key = doc.createNode(to);
  return doc.toString(keepStyle(text));
}
