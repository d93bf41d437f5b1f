// Helpers every policy file shares: reading values that may be unknown during
// preview, the THON conventions the program follows (labels, names), the
// event facts from the stack's outputs, and host-address classification.
//
// This folder is compiled by Pulumi's policy runner as CommonJS with ts-node
// (see package.json and tsconfig.json here), so it imports nothing from the
// program's ES modules and writes relative imports without extensions.
import { UnknownValueError, type PolicyResource, type StackValidationArgs } from "@pulumi/policy";
import { LABELS } from "../infra/resourceNames";

// ---------------------------------------------------------------------------
// Unknown values

/** Stands for a value that `pulumi preview` cannot know yet (computed from another resource's output). */
export const UNKNOWN: unique symbol = Symbol.for("thon.policy.unknown-at-preview");
export type Unknown = typeof UNKNOWN;

export function isUnknown(value: unknown): value is Unknown {
  return value === UNKNOWN;
}

/** T with every value possibly unknown at preview. */
export type Preview<T> = T extends readonly (infer U)[]
  ? Preview<U>[] | Unknown
  : T extends object
    ? { [K in keyof T]: Preview<T[K]> } | Unknown
    : T | Unknown;

function isUnknownError(err: unknown): boolean {
  return err instanceof UnknownValueError || (err instanceof Error && err.constructor.name === "UnknownValueError");
}

function settleValue(read: () => unknown): unknown {
  let value: unknown;
  try {
    value = read();
  } catch (err) {
    if (isUnknownError(err)) return UNKNOWN;
    throw err;
  }
  if (Array.isArray(value)) {
    const list = value;
    const out: unknown[] = [];
    // Index loop: array methods on @pulumi/policy's proxy would touch `constructor`.
    for (let i = 0; i < list.length; i++) out.push(settleValue(() => list[i]));
    return out;
  }
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) out[key] = settleValue(() => obj[key]);
    return out;
  }
  return value;
}

/**
 * A plain copy of a resource's properties in which each value the engine does
 * not know yet is UNKNOWN. @pulumi/policy hands policies a proxy that throws
 * on such values, and then reports only an advisory "can't run during
 * preview"; settling first lets each policy decide, and where an unknown
 * value could hide the very thing a policy guards, it is a violation.
 */
export function settle<T>(props: T): Preview<T> {
  return settleValue(() => props) as Preview<T>;
}

/** A value for a message: strings quoted, unknowns named. */
export function show(value: unknown): string {
  if (value === UNKNOWN) return "(unknown at preview)";
  if (value === undefined) return "(not set)";
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------
// THON's conventions. The label keys are the planner's own
// (infra/resourceNames.ts imports nothing, so this CommonJS pack can load it).

export { LABELS };

export const TYPES = {
  stack: "pulumi:pulumi:Stack",
  container: "docker:index/container:Container",
  volume: "docker:index/volume:Volume",
  randomPassword: "random:index/randomPassword:RandomPassword",
  localCommand: "command:local:Command",
  remoteCommand: "command:remote:Command",
  privateKey: "tls:index/privateKey:PrivateKey",
  /** components/hostFile.ts: a file on the event host, typed (path, mode, owner, group, sha256). */
  hostFile: "thon:host:File",
  /** components/sandbox.ts: its `workspace` input says whether the workspace outlives it. */
  sandbox: "thon:sandbox:Sandbox",
} as const;

type LabelList = Preview<readonly { label?: string; value?: string }[] | undefined>;

/** Docker labels as a map; UNKNOWN when the list (or a label name) is unknown at preview. */
export function labelMap(labels: LabelList): Map<string, string | Unknown> | Unknown {
  if (labels === UNKNOWN) return UNKNOWN;
  const map = new Map<string, string | Unknown>();
  for (const entry of labels ?? []) {
    if (entry === UNKNOWN || entry.label === UNKNOWN) return UNKNOWN;
    if (typeof entry.label === "string") map.set(entry.label, entry.value === UNKNOWN ? UNKNOWN : String(entry.value ?? ""));
  }
  return map;
}

/**
 * Whether a container is a participant's sandbox: the program labels every
 * sandbox with `org.thon.user`. Labels unknown at preview count as a sandbox,
 * so the stricter rules apply when the pack cannot tell.
 */
export function isSandbox(labels: LabelList): boolean {
  const map = labelMap(labels);
  return map === UNKNOWN || map.has(LABELS.user);
}

/** How a resource is named in messages: its Docker name when it has one, else its Pulumi name. */
export function nameOf(resourceName: string, props: unknown): string {
  const name = props !== null && typeof props === "object" ? (props as { name?: unknown }).name : undefined;
  return typeof name === "string" && name !== resourceName ? `${resourceName} (${name})` : resourceName;
}

/** Policy config merged over the policy's defaults. */
export function configOf<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
  const given = args.getConfig<Partial<T>>() ?? {};
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(given)) if (value !== undefined && value !== null) out[key] = value;
  return out as T;
}

// ---------------------------------------------------------------------------
// Event facts: the program exports them as the `event` stack output; the
// engine passes the Stack resource with its outputs to AnalyzeStack.

export interface EventFacts {
  /** The names and addresses participants reach the event under (host, then altNames). */
  readonly hosts?: readonly string[];
  readonly participantCount?: number;
  /** Participant names from the event's groups. */
  readonly participants?: readonly string[];
  /** The event's groups and their members. */
  readonly groups?: Readonly<Record<string, readonly string[]>>;
  readonly hostMemoryMiB?: number;
  readonly tlsMaxValidityDays?: number;
  /** The event's name (event.name): part of every gateway consumer's username. */
  readonly name?: string;
  /** Whether the event has a local LLM (the output's `llm`, present when lemonade is on). */
  readonly llm?: boolean;
  /** With the gateway on: one consumer per participant or per group. Absent without the gateway. */
  readonly gatewayMode?: "per-user" | "per-group";
  /** target.kind swarm: each node's capacity and the memory the plan assigns it. Absent on other targets. */
  readonly swarm?: { readonly nodes: readonly { readonly name: string; readonly memoryMiB: number; readonly usedMiB: number }[] };
}

/** Reads the `event` output of the stack, if the stack has one the pack can read. */
export function eventFacts(args: Pick<StackValidationArgs, "resources">): EventFacts {
  const stack = args.resources.find((r) => r.type === TYPES.stack);
  if (!stack) return {};
  const props = settle(stack.props as Record<string, unknown>);
  if (props === UNKNOWN) return {};
  const event = props.event;
  if (event === null || typeof event !== "object") return {};
  const e = event as Record<string, unknown>;
  const facts: { -readonly [K in keyof EventFacts]: EventFacts[K] } = {};
  const hosts: string[] = [];
  if (typeof e.host === "string") hosts.push(e.host);
  else if (typeof e.url === "string") {
    const host = hostOf(e.url);
    if (host) hosts.push(host);
  }
  if (Array.isArray(e.altNames)) for (const n of e.altNames) if (typeof n === "string") hosts.push(n);
  if (hosts.length > 0) facts.hosts = hosts;
  if (typeof e.participantCount === "number") facts.participantCount = e.participantCount;
  if (e.groups !== null && typeof e.groups === "object") {
    const names: string[] = [];
    const groups: Record<string, string[]> = {};
    for (const [group, users] of Object.entries(e.groups as Record<string, unknown>)) {
      groups[group] = Array.isArray(users) ? users.filter((u): u is string => typeof u === "string") : [];
      names.push(...groups[group]!);
    }
    facts.participants = names.sort();
    facts.groups = groups;
  }
  if (typeof e.hostMemoryMiB === "number") facts.hostMemoryMiB = e.hostMemoryMiB;
  if (typeof e.tlsMaxValidityDays === "number") facts.tlsMaxValidityDays = e.tlsMaxValidityDays;
  if (typeof e.name === "string") facts.name = e.name;
  // The program leaves `llm` out when lemonade is off, and gatewayMode out when the gateway is.
  facts.llm = e.llm !== null && typeof e.llm === "object";
  if (facts.llm) {
    const mode = (e.llm as Record<string, unknown>).gatewayMode;
    if (mode === "per-user" || mode === "per-group") facts.gatewayMode = mode;
  }
  if (e.swarm !== null && typeof e.swarm === "object" && Array.isArray((e.swarm as { nodes?: unknown }).nodes)) {
    const nodes = ((e.swarm as { nodes: unknown[] }).nodes).flatMap((n) => {
      const node = n as Record<string, unknown> | null;
      return node && typeof node.name === "string" && typeof node.memoryMiB === "number" && typeof node.usedMiB === "number"
        ? [{ name: node.name, memoryMiB: node.memoryMiB, usedMiB: node.usedMiB }]
        : [];
    });
    facts.swarm = { nodes };
  }
  return facts;
}

/** Resources of one type token. */
export function ofType(resources: readonly PolicyResource[], ...types: string[]): PolicyResource[] {
  return resources.filter((r) => types.includes(r.type));
}

/** A resource's direct dependencies, from both `dependencies` and the per-property lists. */
export function dependenciesOf(r: PolicyResource): PolicyResource[] {
  const all = new Map<string, PolicyResource>();
  for (const d of r.dependencies ?? []) all.set(d.urn, d);
  for (const list of Object.values(r.propertyDependencies ?? {})) for (const d of list) all.set(d.urn, d);
  return [...all.values()];
}

// ---------------------------------------------------------------------------
// Addresses

/** The host of a URL, without IPv6 brackets; undefined when it is not a URL. */
export function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  } catch {
    return undefined;
  }
}

function ipv4(host: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : undefined;
}

/** 127.0.0.0/8, ::1 and localhost: reachable from this host only. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  const v4 = ipv4(h);
  if (v4) return v4[0] === 127;
  return /^(0{0,4}:){2,7}0{0,3}1$/.test(h) || h === "::1";
}

/** Loopback, RFC 1918, carrier-grade NAT, link-local and IPv6 unique-local addresses. */
export function isPrivateAddress(host: string): boolean {
  if (isLoopback(host)) return true;
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  const v4 = ipv4(h);
  if (v4) {
    const [a, b] = v4 as [number, number, number, number];
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254);
  }
  return /^f[cd][0-9a-f]{2}:/.test(h) || /^fe[89ab][0-9a-f]:/.test(h);
}

/** Whether a host is written as an IP address (rather than a DNS name). */
export function isIpAddress(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1");
  return ipv4(h) !== undefined || (h.includes(":") && /^[0-9a-fA-F:.]+$/.test(h));
}
