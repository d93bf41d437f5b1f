// Edits to thon.yaml that keep the organizer's comments and layout: each
// function takes the file's text and returns the new text, via yaml's
// Document API. They are pure (text in, text out, or an EditError naming the
// field), so the CLI and the console share them; callers validate the result
// before writing it, so a bad edit leaves the file untouched.
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
  /** The dotted path in thon.yaml the edit is about (`groups.gamma`), or "" for the whole file. */
  constructor(
    message: string,
    readonly field = "",
  ) {
    super(message);
  }
}

function load(text: string): Document {
  // merge: `<<: *shared` keys stay merge keys (the validator reads them so too).
  const doc = parseDocument(text, { merge: true });
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
  if (!isMap(groups)) throw new EditError("groups in thon.yaml is not a mapping of group names", "groups");
  return groups;
}

const keyOf = (key: unknown) => (isScalar(key) ? String(key.value) : String(key));

function groupNames(doc: Document): string[] {
  return groupsOf(doc).items.map((pair) => keyOf(pair.key));
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
    const users = isMap(pair.value) ? pair.value.get("users", true) : undefined;
    if (!isSeq(users)) continue;
    const index = users.items.findIndex((item) => userName(item) === user);
    if (index >= 0) return { group: keyOf(pair.key), users, index };
  }
  return undefined;
}

function mustFindUser(doc: Document, user: string): Found {
  const found = findUser(doc, user);
  if (!found) throw new EditError(`there is no participant "${user}" in thon.yaml`, "groups");
  return found;
}

function unknownGroup(doc: Document, group: string): EditError {
  const names = groupNames(doc);
  return new EditError(
    `there is no group "${group}" in thon.yaml (groups: ${names.length > 0 ? names.join(", ") : "none"}). Fix: use one of those, or pass --create-group to create "${group}"`,
    `groups.${group}`,
  );
}

function usersOf(doc: Document, group: string, create: boolean): YAMLSeq {
  const groups = groupsOf(doc);
  let entry = groups.get(group, true) as unknown;
  if (entry === undefined) {
    if (!create) throw unknownGroup(doc, group);
    entry = doc.createNode({ users: [] });
    groups.set(group, entry);
  }
  if (!isMap(entry)) throw new EditError(`groups.${group} is not a mapping with users`, `groups.${group}`);
  let users = entry.get("users", true) as unknown;
  if (users === undefined || users === null || (isScalar(users) && users.value === null)) {
    users = doc.createNode([]);
    entry.set("users", users);
  }
  if (!isSeq(users)) throw new EditError(`groups.${group}.users is not a list`, `groups.${group}.users`);
  return users;
}

export interface GroupOptions {
  /** Create the group when it does not exist (else an unknown group is refused: a typo must not make a group). */
  readonly createGroup?: boolean;
}

/** Adds a participant to a group. */
export function addUser(text: string, user: string, group: string, options: GroupOptions = {}): string {
  const doc = load(text);
  const existing = findUser(doc, user);
  if (existing) throw new EditError(`"${user}" is already in group "${existing.group}"`, `groups.${existing.group}.users`);
  usersOf(doc, group, options.createGroup === true).add(doc.createNode(user));
  return doc.toString(keepStyle(text));
}

/** Removes a participant. Their workspace stays on the host until `thon purge`. */
export function removeUser(text: string, user: string): string {
  const doc = load(text);
  const found = mustFindUser(doc, user);
  found.users.items.splice(found.index, 1);
  return doc.toString(keepStyle(text));
}

/** Moves a participant to another group, keeping their entry (and its comment) as is. */
export function moveUser(text: string, user: string, toGroup: string, options: GroupOptions = {}): string {
  const doc = load(text);
  const found = mustFindUser(doc, user);
  if (found.group === toGroup) throw new EditError(`"${user}" is already in group "${toGroup}"`, `groups.${toGroup}.users`);
  const target = usersOf(doc, toGroup, options.createGroup === true);
  const [item] = found.users.items.splice(found.index, 1);
  target.items.push(item);
  return doc.toString(keepStyle(text));
}

/** Renames a participant in place (their entry, state and comment stay). */
export function renameUser(text: string, user: string, newName: string): string {
  const doc = load(text);
  const found = mustFindUser(doc, user);
  const clash = findUser(doc, newName);
  if (clash) throw new EditError(`"${newName}" is already in group "${clash.group}"`, `groups.${clash.group}.users`);
  const item = found.users.items[found.index];
  if (isMap(item)) item.set("name", newName);
  else (item as Scalar).value = newName;
  return doc.toString(keepStyle(text));
}

function stateOf(node: unknown): RunState | undefined {
  if (!isMap(node)) return undefined;
  const state = node.get("state");
  return state === "running" || state === "stopped" ? state : undefined;
}

/** What a participant of `group` runs as without an override of their own. */
function inheritedState(doc: Document, group: string): RunState {
  return stateOf(groupsOf(doc).get(group, true)) ?? stateOf(doc.get("sandbox", true)) ?? "running";
}

/** Turns `{ name: x, state: ... }` back into `x`, keeping the entry's comment. */
function dropOverride(doc: Document, users: YAMLSeq, index: number): void {
  const item = users.items[index];
  if (!isMap(item)) return;
  if (item.items.some((pair) => keyOf(pair.key) !== "name" && keyOf(pair.key) !== "state")) {
    item.delete("state");
    return;
  }
  const scalar = doc.createNode(userName(item)) as Scalar;
  if (item.comment) scalar.comment = item.comment;
  if (item.commentBefore) scalar.commentBefore = item.commentBefore;
  users.items[index] = scalar;
}

/**
 * Sets one participant's run state. The participant either inherits their
 * group's state or overrides it, never both: a state equal to the inherited
 * one drops the override (so a later `groups stop` reaches them).
 */
export function setUserState(text: string, user: string, state: RunState): string {
  const doc = load(text);
  const found = mustFindUser(doc, user);
  if (inheritedState(doc, found.group) === state) {
    dropOverride(doc, found.users, found.index);
    return doc.toString(keepStyle(text));
  }
  const item = found.users.items[found.index];
  if (isMap(item)) {
    item.set("state", state);
  } else {
    const node = doc.createNode({ name: user, state }) as YAMLMap;
    node.flow = true; // `- { name: dave, state: stopped }` keeps the list one line per person
    const scalar = item as Scalar | undefined;
    if (scalar?.comment) node.comment = scalar.comment;
    if (scalar?.commentBefore) node.commentBefore = scalar.commentBefore;
    found.users.items[found.index] = node;
  }
  return doc.toString(keepStyle(text));
}

export function addGroup(text: string, group: string): string {
  const doc = load(text);
  if (groupsOf(doc).has(group)) throw new EditError(`group "${group}" already exists`, `groups.${group}`);
  usersOf(doc, group, true);
  return doc.toString(keepStyle(text));
}

/** Removes an empty group; a group with participants must be emptied (or moved) first. */
export function removeGroup(text: string, group: string): string {
  const doc = load(text);
  const users = usersOf(doc, group, false);
  if (users.items.length > 0) {
    throw new EditError(`group "${group}" still has ${users.items.length} participant(s); move or remove them first`, `groups.${group}.users`);
  }
  groupsOf(doc).delete(group);
  return doc.toString(keepStyle(text));
}

/** Renames a group in place, keeping its position, settings and comments. Participants keep their sandboxes. */
export function renameGroup(text: string, group: string, newName: string): string {
  const doc = load(text);
  usersOf(doc, group, false);
  const groups = groupsOf(doc);
  if (groups.has(newName)) throw new EditError(`group "${newName}" already exists`, `groups.${newName}`);
  const pair = groups.items.find((p) => keyOf(p.key) === group)!;
  if (isScalar(pair.key)) pair.key.value = newName;
  else pair.key = doc.createNode(newName);
  return doc.toString(keepStyle(text));
}

/**
 * Sets a group's run state. It is the newest word on everyone in the group,
 * so their own overrides are dropped: after `groups stop`, nobody in it runs.
 */
export function setGroupState(text: string, group: string, state: RunState): string {
  const doc = load(text);
  const users = usersOf(doc, group, false);
  const entry = groupsOf(doc).get(group, true) as unknown as YAMLMap;
  entry.set("state", state);
  for (let i = 0; i < users.items.length; i++) dropOverride(doc, users, i);
  return doc.toString(keepStyle(text));
}

/** Participant names and groups as the file lists them (for messages and purge checks). */
export function listUsers(text: string): { name: string; group: string }[] {
  const doc = load(text);
  const out: { name: string; group: string }[] = [];
  for (const pair of groupsOf(doc).items) {
    const users = isMap(pair.value) ? pair.value.get("users", true) : undefined;
    if (!isSeq(users)) continue;
    for (const item of users.items) {
      const name = userName(item);
      if (name !== undefined) out.push({ name, group: keyOf(pair.key) });
    }
  }
  return out;
}
