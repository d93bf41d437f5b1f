// Edits to thon.yaml that keep the organizer's comments and layout: each
// function takes the file's text and returns the new text, via yaml's
// Document API. Callers validate the result before writing it, so a bad edit
// leaves the file untouched.
import { isMap, isScalar, isSeq, parseDocument, YAMLMap, YAMLSeq, type Document, type Scalar } from "yaml";
import type { RunState } from "../config/schema.ts";

/**
 * Writes the file back as the organizer wrote it, so an edit's diff shows
 * only what it changed: a long `users: [a, b, …]` stays one line (yaml folds
 * flow collections past 80 columns by default), and `[a, b]` or `[ a, b ]`
 * follows what the file mostly uses (yaml pads every flow collection by
 * default; a tie keeps the padding).
 */
export function keepStyle(text: string): { lineWidth: number; flowCollectionPadding: boolean } {
  const padded = (text.match(/[[{] [^\s\]}]/g) ?? []).length;
  const tight = (text.match(/[[{][^\s\]}]/g) ?? []).length;
  return { lineWidth: 0, flowCollectionPadding: padded >= tight };
}

export class EditError extends Error {
  override name = "EditError";
}

function load(text: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new EditError(`thon.yaml does not parse: ${doc.errors[0]!.message.split("\n")[0]}`);
  return doc;
}

function groupsOf(doc: Document): YAMLMap {
  const groups = doc.get("groups", true);
  if (groups === undefined || groups === null) {
    const created = doc.createNode({}) as YAMLMap;
    doc.set("groups", created);
    return created;
  }
  if (!isMap(groups)) throw new EditError("groups in thon.yaml is not a mapping of group names");
  return groups;
}

function userName(item: unknown): string | undefined {
  if (isScalar(item)) return typeof item.value === "string" ? item.value : undefined;
  if (isMap(item)) {
    const name = item.get("name");
    return typeof name === "string" ? name : undefined;
  }
  return undefined;
}

interface Found {
  readonly group: string;
  readonly users: YAMLSeq;
  readonly index: number;
}

function findUser(doc: Document, user: string): Found | undefined {
  for (const pair of groupsOf(doc).items) {
    const group = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const users = isMap(pair.value) ? pair.value.get("users", true) : undefined;
    if (!isSeq(users)) continue;
    const index = users.items.findIndex((item) => userName(item) === user);
    if (index >= 0) return { group, users, index };
  }
  return undefined;
}

function usersOf(doc: Document, group: string, create: boolean): YAMLSeq {
  const groups = groupsOf(doc);
  let entry = groups.get(group, true) as unknown;
  if (entry === undefined) {
    if (!create) throw new EditError(`there is no group "${group}" in thon.yaml; add it with "thon groups add ${group}"`);
    entry = doc.createNode({ users: [] });
    groups.set(group, entry);
  }
  if (!isMap(entry)) throw new EditError(`groups.${group} is not a mapping with users`);
  let users = entry.get("users", true) as unknown;
  if (users === undefined || users === null || (isScalar(users) && users.value === null)) {
    users = doc.createNode([]);
    entry.set("users", users);
  }
  if (!isSeq(users)) throw new EditError(`groups.${group}.users is not a list`);
  return users;
}

/** Adds a participant to a group (created if missing). */
export function addUser(text: string, user: string, group: string): string {
  const doc = load(text);
  const existing = findUser(doc, user);
  if (existing) throw new EditError(`"${user}" is already in group "${existing.group}"`);
  usersOf(doc, group, true).add(doc.createNode(user));
  return doc.toString(keepStyle(text));
}

/** Removes a participant. Their workspace stays on the host until `thon purge`. */
export function removeUser(text: string, user: string): string {
  const doc = load(text);
  const found = findUser(doc, user);
  if (!found) throw new EditError(`there is no participant "${user}" in thon.yaml`);
  found.users.items.splice(found.index, 1);
  return doc.toString(keepStyle(text));
}

/** Moves a participant to another group, keeping their entry (and its comment) as is. */
export function moveUser(text: string, user: string, toGroup: string): string {
  const doc = load(text);
  const found = findUser(doc, user);
  if (!found) throw new EditError(`there is no participant "${user}" in thon.yaml`);
  if (found.group === toGroup) throw new EditError(`"${user}" is already in group "${toGroup}"`);
  const target = usersOf(doc, toGroup, true);
  const [item] = found.users.items.splice(found.index, 1);
  target.items.push(item);
  return doc.toString(keepStyle(text));
}

/** Sets one participant's run state; "running" drops the override when the group runs anyway. */
export function setUserState(text: string, user: string, state: RunState): string {
  const doc = load(text);
  const found = findUser(doc, user);
  if (!found) throw new EditError(`there is no participant "${user}" in thon.yaml`);
  const item = found.users.items[found.index];
  if (isMap(item)) {
    item.set("state", state);
  } else {
    const node = doc.createNode({ name: user, state }) as YAMLMap;
    node.flow = true; // `- { name: dave, state: stopped }` keeps the list one line per person
    const scalar = item as Scalar | undefined;
    if (scalar?.comment) node.comment = scalar.comment;
    found.users.items[found.index] = node;
  }
  return doc.toString(keepStyle(text));
}

export function addGroup(text: string, group: string): string {
  const doc = load(text);
  if (groupsOf(doc).has(group)) throw new EditError(`group "${group}" already exists`);
  usersOf(doc, group, true);
  return doc.toString(keepStyle(text));
}

/** Removes an empty group; a group with participants must be emptied (or moved) first. */
export function removeGroup(text: string, group: string): string {
  const doc = load(text);
  const users = usersOf(doc, group, false);
  if (users.items.length > 0) {
    throw new EditError(`group "${group}" still has ${users.items.length} participant(s); move or remove them first`);
  }
  groupsOf(doc).delete(group);
  return doc.toString(keepStyle(text));
}

export function setGroupState(text: string, group: string, state: RunState): string {
  const doc = load(text);
  usersOf(doc, group, false);
  const entry = groupsOf(doc).get(group, true) as unknown as YAMLMap;
  entry.set("state", state);
  return doc.toString(keepStyle(text));
}

/** Participant names and groups as the file lists them (for messages and purge checks). */
export function listUsers(text: string): { name: string; group: string }[] {
  const doc = load(text);
  const out: { name: string; group: string }[] = [];
  for (const pair of groupsOf(doc).items) {
    const group = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const users = isMap(pair.value) ? pair.value.get("users", true) : undefined;
    if (!isSeq(users)) continue;
    for (const item of users.items) {
      const name = userName(item);
      if (name !== undefined) out.push({ name, group });
    }
  }
  return out;
}
