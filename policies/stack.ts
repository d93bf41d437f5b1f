// Rules over the whole stack: names, capacity, the participant list.
import type { EnforcementLevel, PolicyResource, StackValidationPolicy } from "@pulumi/policy";
// The planner's names (infra/resourceNames.ts imports nothing, so this CommonJS pack can load it).
import { consumerUsername } from "../infra/resourceNames";
import { APISIX_TYPES } from "./gateway";
import { configOf, eventFacts, isSandbox, LABELS, labelMap, ofType, settle, show, TYPES, UNKNOWN } from "./lib";

interface SandboxView {
  readonly resource: PolicyResource;
  readonly user: string | undefined;
  readonly running: boolean;
  readonly memory: number | typeof UNKNOWN | undefined;
}

function sandboxViews(resources: readonly PolicyResource[]): SandboxView[] {
  return ofType(resources, TYPES.container).flatMap((r) => {
    const c = settle(r.props as { labels?: { label: string; value: string }[]; start?: boolean; memory?: number });
    if (c === UNKNOWN) return [{ resource: r, user: undefined, running: true, memory: UNKNOWN }];
    if (!isSandbox(c.labels)) return [];
    const labels = labelMap(c.labels);
    const user = labels === UNKNOWN ? undefined : labels.get(LABELS.user);
    return [
      {
        resource: r,
        user: typeof user === "string" ? user : undefined,
        // A container declared with start: false (a paused participant) uses no memory.
        running: c.start !== false,
        memory: c.memory === UNKNOWN ? UNKNOWN : c.memory,
      },
    ];
  });
}

/**
 * thon-unique-names: no two resources claim the same Docker container or
 * volume name, no two sandboxes the same participant, no two gateway
 * consumers the same username, no two gateway routes the same route id.
 * Pulumi keeps URNs unique, not these; APISIX keys consumers by username and
 * routes by id, so a second one would silently replace the first.
 */
export function uniqueNames(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-unique-names",
    description:
      "Names are unique: Docker container and volume names, the participant of each sandbox (label org.thon.user), gateway consumer usernames and route ids. Fix: give every participant a distinct name in thon.yaml (names are unique across groups); the program derives every other name from it.",
    enforcementLevel,
    validateStack: (args, report) => {
      const claims = new Map<string, PolicyResource[]>();
      const claim = (what: string, value: unknown, r: PolicyResource) => {
        if (typeof value !== "string" || value === "") return;
        const key = `${what} ${JSON.stringify(value)}`;
        claims.set(key, [...(claims.get(key) ?? []), r]);
      };
      for (const r of ofType(args.resources, TYPES.container)) {
        const c = settle(r.props as { name?: string; labels?: { label: string; value: string }[] });
        if (c === UNKNOWN) continue;
        claim("container name", c.name, r);
        const labels = labelMap(c.labels);
        if (labels !== UNKNOWN && labels.has(LABELS.user)) claim("participant", labels.get(LABELS.user), r);
      }
      for (const r of ofType(args.resources, TYPES.volume)) {
        const v = settle(r.props as { name?: string });
        if (v !== UNKNOWN) claim("volume name", v.name, r);
      }
      for (const r of ofType(args.resources, APISIX_TYPES.consumer)) {
        const c = settle(r.props as { username?: string });
        if (c !== UNKNOWN) claim("gateway consumer", c.username, r);
      }
      for (const r of ofType(args.resources, APISIX_TYPES.route)) {
        const c = settle(r.props as { routeId?: string });
        if (c !== UNKNOWN) claim("gateway route", c.routeId, r);
      }
      for (const [key, holders] of claims) {
        if (holders.length < 2) continue;
        for (const r of holders.slice(1)) report(`${key} is used by ${holders.map((h) => h.name).join(" and ")}`, r.urn);
      }
    },
  };
}

interface MemoryConfig {
  hostMemoryMiB?: number;
  reservedMiB: number;
}

/**
 * thon-host-memory: the running sandboxes' memory limits add up to no more
 * than the host's memory (thon.yaml event.hostMemory, or the policy config's
 * hostMemoryMiB), less what the config reserves for the rest. Advisory: the
 * limits are ceilings, and an idle code-server uses far less (about 70 MiB).
 */
export function hostMemory(enforcementLevel: EnforcementLevel = "advisory"): StackValidationPolicy {
  return {
    name: "thon-host-memory",
    description:
      "The running sandboxes' memory limits fit in the host's memory (event.hostMemory in thon.yaml). Fix: lower sandbox.memory, pause participants (state: stopped), move some to another host, or correct event.hostMemory.",
    enforcementLevel,
    configSchema: {
      properties: {
        hostMemoryMiB: { type: "number", minimum: 1, description: "The host's memory in MiB; default thon.yaml's event.hostMemory." },
        reservedMiB: { type: "number", minimum: 0, default: 0, description: "Memory kept for the host itself, nginx, Lemonade." },
      },
    },
    validateStack: (args, report) => {
      const config = configOf<MemoryConfig>(args, { reservedMiB: 0 });
      const host = config.hostMemoryMiB ?? eventFacts(args).hostMemoryMiB;
      if (host === undefined) args.notApplicable("the host's memory is not given (event.hostMemory in thon.yaml)");
      const running = sandboxViews(args.resources).filter((s) => s.running);
      const unknown = running.filter((s) => s.memory === UNKNOWN);
      if (unknown.length > 0) {
        report(`the memory limits of ${unknown.map((s) => s.resource.name).join(", ")} are unknown at preview, so the total cannot be checked`);
        return;
      }
      const total = running.reduce((sum, s) => sum + (typeof s.memory === "number" ? s.memory : 0), 0);
      const available = host! - config.reservedMiB;
      if (total > available) {
        report(
          `${running.length} running sandboxes may use ${total} MiB together; the host has ${host} MiB${config.reservedMiB ? ` (${config.reservedMiB} MiB reserved)` : ""}. Over by ${total - available} MiB`,
        );
      }
    },
  };
}

interface CountConfig {
  participants?: number;
}

/** Problems with the gateway's consumers against the event: one per participant (per-user) or per group (per-group). */
function consumerProblems(resources: readonly PolicyResource[], facts: ReturnType<typeof eventFacts>): string[] {
  const consumers = ofType(resources, APISIX_TYPES.consumer);
  if (facts.name === undefined || facts.participants === undefined || facts.groups === undefined) return [];
  if (facts.gatewayMode === undefined) {
    return consumers.length === 0 ? [] : [`the event has no gateway (${facts.llm ? "gateway.enabled is false" : "lemonade is off"}) but the stack declares ${consumers.length} gateway consumers: ${consumers.map((c) => c.name).join(", ")}`];
  }
  const usernames = new Set<string>();
  const problems: string[] = [];
  for (const c of consumers) {
    const p = settle(c.props as { username?: unknown });
    const username = p === UNKNOWN ? UNKNOWN : p.username;
    if (typeof username === "string") usernames.add(username);
    else problems.push(`gateway consumer ${c.name}: its username is ${show(username)}, so the pack cannot tell whose it is`);
  }
  const perUser = facts.gatewayMode === "per-user";
  const owners = perUser ? facts.participants : Object.keys(facts.groups).filter((g) => (facts.groups![g] ?? []).length > 0).sort();
  const expected = new Map(owners.map((o) => [consumerUsername(facts.name!, perUser ? "user" : "group", o), o]));
  const missing = [...expected].filter(([u]) => !usernames.has(u)).map(([, o]) => o);
  const extra = [...usernames].filter((u) => !expected.has(u)).sort();
  const what = perUser ? "participant" : "group";
  if (missing.length > 0) problems.push(`gateway.mode is ${facts.gatewayMode}, but there is no gateway consumer for ${what}${missing.length > 1 ? "s" : ""} ${missing.join(", ")}: their key would not work`);
  if (extra.length > 0) problems.push(`gateway consumers ${extra.join(", ")} belong to no ${what} of the event (gateway.mode ${facts.gatewayMode}): keys nobody was given, or left from another mode`);
  return problems;
}

/**
 * thon-participant-count: one sandbox per participant of the event, no more,
 * no fewer, and for the same names (the stack's event output lists them by
 * group; the policy config's `participants` overrides the count). With the
 * gateway, one consumer per participant (per-user) or per group with members
 * (per-group), by the usernames the program gives them; without it, none.
 */
export function participantCount(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-participant-count",
    description:
      "There is exactly one sandbox per participant listed in thon.yaml, for the same names, and with the gateway one consumer per participant (gateway.mode per-user) or per group (per-group). Fix: run the program from the current thon.yaml (thon validate), and declare sandboxes and consumers only through the Sandbox and Gateway components.",
    enforcementLevel,
    configSchema: {
      properties: { participants: { type: "integer", minimum: 0, description: "Expected number of participants; default the stack's event output." } },
    },
    validateStack: (args, report) => {
      const facts = eventFacts(args);
      const expected = configOf<CountConfig>(args, {}).participants ?? facts.participantCount;
      if (expected === undefined) args.notApplicable("the stack has no event output with participantCount");
      const sandboxes = sandboxViews(args.resources);
      if (sandboxes.length !== expected) {
        report(`the event has ${expected} participants but the stack declares ${sandboxes.length} sandboxes`);
      }
      if (facts.participants !== undefined) {
        const names = new Set(sandboxes.map((s) => s.user).filter((u): u is string => u !== undefined));
        const missing = facts.participants.filter((p) => !names.has(p));
        const listed = new Set(facts.participants);
        const extra = [...names].filter((n) => !listed.has(n)).sort();
        if (missing.length > 0) report(`no sandbox for ${missing.join(", ")}`);
        if (extra.length > 0) report(`sandboxes for ${extra.join(", ")}, who are not in the event's groups`);
      }
      for (const problem of consumerProblems(args.resources, facts)) report(problem);
    },
  };
}
