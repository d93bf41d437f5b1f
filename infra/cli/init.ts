// `thon init`: writes a commented thon.yaml and the stack's Pulumi config
// from a few answers (asked interactively, or given as flags). Each answer is
// checked with the same schema as thon.yaml when it is given, so one typo
// costs one question, not the whole session.
import { dirname, join, relative } from "node:path";
import { isMap, parseDocument, stringify } from "yaml";
import { eventSchema, groupName, participantName } from "../config/schema.ts";

export interface InitAnswers {
  readonly name: string;
  readonly host: string;
  /** Group name -> participant names. */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  readonly auth: "password" | "none";
  readonly workspace: "volume" | "bind" | "ephemeral";
  readonly workspaceDir?: string;
  readonly tls?: "ca" | "selfsigned";
  readonly lemonade: boolean;
  readonly gateway: boolean;
}

/** The THON code's own folder (docs/thon.schema.json lives there). */
export const THON_ROOT = join(import.meta.dirname, "..", "..");

/** Parses "alpha=alice,bob" into ["alpha", ["alice", "bob"]]. */
export function parseGroupFlag(value: string): [string, string[]] {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new Error(`a group is written "name=user1,user2", got "${value}"`);
  const users = value
    .slice(eq + 1)
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
  return [value.slice(0, eq).trim(), users];
}

const firstMessage = (r: { success: boolean; error?: { issues: { message: string }[] } }) => r.error?.issues[0]?.message ?? "not valid";

/** Checks one answer; returns the problem, or undefined when it is fine. */
export const checkAnswer = {
  name: (v: string) => {
    const r = eventSchema.shape.name.safeParse(v);
    return r.success ? undefined : firstMessage(r);
  },
  host: (v: string) => {
    const r = eventSchema.shape.host.safeParse(v);
    return r.success ? undefined : `event.host ${firstMessage(r)}`;
  },
  /** A group answer, given the groups answered before it. */
  group: (v: string, before: Readonly<Record<string, readonly string[]>>) => {
    let parsed: [string, string[]];
    try {
      parsed = parseGroupFlag(v);
    } catch (err) {
      return (err as Error).message;
    }
    const [group, users] = parsed;
    const g = groupName.safeParse(group);
    if (!g.success) return `"${group}": ${firstMessage(g)}`;
    if (group in before) return `group "${group}" is already given`;
    if (users.length === 0) return `group "${group}" has no participants; write ${group}=user1,user2`;
    const taken = new Set(Object.values(before).flat());
    for (const user of users) {
      const u = participantName.safeParse(user);
      if (!u.success) return `"${user}": ${firstMessage(u)}`;
      if (taken.has(user)) return `"${user}" is already in another group`;
      taken.add(user);
    }
    return undefined;
  },
  workspaceDir: (v: string) => (v.startsWith("/") ? undefined : "workspace.hostDir must be an absolute path (starting with /)"),
};

const block = (value: unknown) => stringify(value).trimEnd();
/** A name as a YAML scalar; JSON quoting keeps odd input from changing the structure. */
const scalar = (v: string) => (/^[a-z0-9_-]+$/.test(v) ? v : JSON.stringify(v));

/**
 * The thon.yaml text. `schemaPath` (relative to the file) goes on the first
 * line, where the YAML language server (VS Code's YAML extension) finds it.
 */
export function renderThonYaml(a: InitAnswers, schemaPath = "docs/thon.schema.json"): string {
  const groups = Object.entries(a.groups)
    .map(([g, users]) => `  ${scalar(g)}:\n    users: [${users.map(scalar).join(", ")}]`)
    .join("\n");
  const workspace = a.workspace === "bind" ? { mode: "bind", hostDir: a.workspaceDir ?? "/srv/thon/workspaces" } : { mode: a.workspace };
  return `# yaml-language-server: $schema=${schemaPath}
# THON event file: one VS Code sandbox per participant.
# Full reference: docs/thon-yaml.md and stacks/example/thon.yaml.
# Check it with: npx thon validate <this file>

event:
  name: ${scalar(a.name)}
  # What participants type in the browser: a DNS name or this host's IP.
  host: ${JSON.stringify(a.host)}

sandbox:
  # "password": a random password per participant (see: npx thon credentials).
  auth: ${a.auth}
  cpus: 1
  memory: 2GiB

# Workspaces outlive containers and the stack; remove one with: npx thon purge <user>
${block({ workspace })}

# Participants are named from their name alone: moving someone to another
# group never restarts their sandbox. Pause one with: npx thon users stop <user>
groups:
${groups}

tls:
  # "ca": THON makes an event CA; participants import it from https://${a.host}/ca.crt
  # "selfsigned": one self-signed certificate, no CA to import.
  mode: ${a.tls ?? "ca"}

lemonade:
  # A local OpenAI-compatible LLM for every sandbox (Lemonade Server >= 10.1 on this host).
  enabled: ${a.lemonade}

gateway:
  # APISIX in front of Lemonade: an API key and a token limit per participant.
  enabled: ${a.gateway}
`;
}

/** The schema's path as the first line of `thonFile` names it. */
export function schemaPathFor(thonFile: string): string {
  return relative(dirname(thonFile), join(THON_ROOT, "docs", "thon.schema.json"));
}

export function renderStackConfig(thonFile: string): string {
  return `# The stack's settings. The passphrase secrets provider needs no account:
# export PULUMI_CONFIG_PASSPHRASE before pulumi commands.
secretsprovider: passphrase
config:
  thon:file: ${thonFile}
`;
}

export class StackFileError extends Error {}

/**
 * Points an existing stack file (as `pulumi stack init` wrote it) at the
 * event file and keeps everything else: encryptionsalt, secretsprovider and
 * every config value. A different thon:file is only replaced with `force`.
 */
export function editStackConfig(text: string, thonFile: string, force: boolean): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new StackFileError(`it does not parse as YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
  if (doc.contents === null) doc.contents = doc.createNode({}) as never;
  if (!isMap(doc.contents)) throw new StackFileError("it is not a mapping of settings");
  const config = doc.get("config", true);
  if (config === undefined || config === null) {
    doc.set("config", doc.createNode({ "thon:file": thonFile }));
    return doc.toString();
  }
  if (!isMap(config)) throw new StackFileError("its config is not a mapping");
  const current = config.get("thon:file");
  if (current !== undefined && current !== thonFile && !force) {
    throw new StackFileError(`its thon:file is already ${JSON.stringify(current)}; pass --force to point it at ${thonFile}`);
  }
  config.set("thon:file", thonFile);
  return doc.toString();
}
