// target.kind swarm: the rules of issue 18 on docker.Service inputs.
// - No VIP and no ingress-mode ports: this kernel (and many) has no IPVS, so a
//   VIP or the routing mesh fails; participants are reached through nginx.
// - Every participant service is pinned to one node by the node label
//   THON applies, because its home volume exists on that node only.
// - No node is given more sandbox memory than its capacity.
import type { EnforcementLevel, PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { eventFacts, LABELS, labelMap, ofType, settle, show, UNKNOWN, type Preview, type Unknown } from "./lib";

export const SWARM_TYPES = {
  service: "docker:index/service:Service",
} as const;

type Label = { label?: string; value?: string };

interface ServiceInputs {
  name?: string;
  labels?: Label[];
  endpointSpec?: { mode?: string; ports?: { publishMode?: string; targetPort?: number; publishedPort?: number }[] };
  taskSpec?: {
    placement?: { constraints?: string[] };
    resources?: { limits?: { memoryBytes?: number } };
    containerSpec?: { labels?: Label[] };
  };
}

const MiB = 1024 * 1024;
/** The constraint prefix a participant's pin starts with: node.labels.org.thon.node==<node>. */
const PIN = `node.labels.${LABELS.node}==`;

/**
 * The participant a service runs, from `org.thon.user` on the service or its
 * container spec; UNKNOWN when the labels are unknown at preview (treated as
 * a participant, so the stricter rules apply); undefined for other services.
 */
function participantOf(s: Preview<ServiceInputs>): string | Unknown | undefined {
  if (s === UNKNOWN) return UNKNOWN;
  const spec = s.taskSpec === UNKNOWN ? UNKNOWN : s.taskSpec?.containerSpec === UNKNOWN ? UNKNOWN : s.taskSpec?.containerSpec?.labels;
  for (const labels of [s.labels, spec]) {
    const map = labelMap(labels as Preview<readonly Label[] | undefined>);
    if (map === UNKNOWN) return UNKNOWN;
    const user = map.get(LABELS.user);
    if (user !== undefined) return user;
  }
  return undefined;
}

/** The node of a participant's pin; UNKNOWN at preview, undefined when unpinned; an error text when pinned twice. */
function pinOf(s: Preview<ServiceInputs>): string | Unknown | undefined | { twice: string[] } {
  if (s === UNKNOWN || s.taskSpec === UNKNOWN) return UNKNOWN;
  const placement = s.taskSpec?.placement;
  if (placement === UNKNOWN) return UNKNOWN;
  const constraints = placement?.constraints;
  if (constraints === UNKNOWN) return UNKNOWN;
  const pins: string[] = [];
  for (const c of constraints ?? []) {
    if (c === UNKNOWN) return UNKNOWN;
    const text = String(c).replace(/\s+/g, "");
    if (text.startsWith(PIN) && text.length > PIN.length) pins.push(text.slice(PIN.length));
  }
  if (pins.length > 1) return { twice: pins };
  return pins[0];
}

/**
 * thon-swarm-no-vip: every swarm service uses DNS round-robin (endpointSpec.mode
 * dnsrr) and publishes no port through the ingress routing mesh; participant
 * services publish no port at all.
 */
export function swarmNoVip(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
  return {
    name: "thon-swarm-no-vip",
    description:
      "Swarm services use endpoint mode dnsrr and publish no ingress-mode port (no virtual IP, no routing mesh: both need IPVS, and participants are reached through nginx); participant services publish no port at all. Fix: declare services through THON's swarm components, which set endpointSpec { mode: dnsrr } and no ports.",
    enforcementLevel,
    validateResource: (args, report) => {
      if (args.type !== SWARM_TYPES.service) return;
      const s = settle(args.props as ServiceInputs);
      if (s === UNKNOWN || s.endpointSpec === UNKNOWN) {
        report(`${args.name}: its endpoint spec is unknown at preview, so its mode and ports cannot be checked`);
        return;
      }
      const mode = s.endpointSpec?.mode;
      if (mode !== "dnsrr") report(`${args.name}: endpointSpec.mode is ${show(mode)}${mode === undefined ? " (Swarm's default, vip)" : ""}; a virtual IP needs IPVS. Set mode "dnsrr"`);
      const ports = s.endpointSpec?.ports;
      if (ports === UNKNOWN) {
        report(`${args.name}: its published ports are unknown at preview`);
        return;
      }
      const participant = participantOf(s) !== undefined;
      (ports ?? []).forEach((p, i) => {
        const publishMode = p === UNKNOWN ? UNKNOWN : p.publishMode;
        if (participant) {
          report(`${args.name}: a participant's service publishes port ${i} (${show(p === UNKNOWN ? p : p.targetPort)}); participants are reached through nginx only`);
        } else if (publishMode !== "host") {
          report(`${args.name}: endpointSpec.ports[${i}] is published in mode ${show(publishMode)}${publishMode === undefined ? " (Swarm's default, ingress)" : ""}; the routing mesh needs IPVS. Use publishMode "host"`);
        }
      });
    },
  };
}

interface ServiceView {
  readonly resource: PolicyResource;
  readonly user: string | Unknown;
  readonly pin: ReturnType<typeof pinOf>;
  readonly memoryBytes: number | Unknown | undefined;
}

function participantServices(resources: readonly PolicyResource[]): ServiceView[] {
  return ofType(resources, SWARM_TYPES.service).flatMap((r) => {
    const s = settle(r.props as ServiceInputs);
    const user = participantOf(s);
    if (user === undefined) return [];
    const limits = s === UNKNOWN || s.taskSpec === UNKNOWN ? UNKNOWN : s.taskSpec?.resources === UNKNOWN ? UNKNOWN : s.taskSpec?.resources?.limits;
    const memoryBytes = limits === UNKNOWN ? UNKNOWN : limits?.memoryBytes;
    return [{ resource: r, user, pin: pinOf(s), memoryBytes }];
  });
}

/**
 * thon-swarm-service-pinned: every participant's service has exactly one
 * placement constraint node.labels.org.thon.node==<node>, naming a node of
 * the event (the `event` output's swarm.nodes, when the stack has it).
 */
export function swarmServicePinned(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-swarm-service-pinned",
    description:
      "Every participant's swarm service is pinned to one node by the constraint node.labels.org.thon.node==<node>, and that node is one of target.nodes: a participant's home volume exists on that node only, so an unpinned service would start elsewhere with an empty home. Fix: declare participant services through THON's swarm component, which pins them from the plan.",
    enforcementLevel,
    validateStack: (args, report) => {
      const nodes = eventFacts(args).swarm?.nodes.map((n) => n.name);
      for (const s of participantServices(args.resources)) {
        const who = s.user === UNKNOWN ? s.resource.name : `${s.resource.name} (${s.user})`;
        if (s.pin === UNKNOWN) report(`${who}: its placement constraints are unknown at preview, so its pin cannot be checked`, s.resource.urn);
        else if (s.pin === undefined) report(`${who} has no constraint ${PIN}<node>: Swarm may start it on any node, away from its home volume`, s.resource.urn);
        else if (typeof s.pin === "object") report(`${who} is pinned to several nodes (${s.pin.twice.join(", ")}); it must have exactly one ${PIN}<node>`, s.resource.urn);
        else if (nodes !== undefined && !nodes.includes(s.pin)) report(`${who} is pinned to ${s.pin}, which is not one of target.nodes (${nodes.join(", ")})`, s.resource.urn);
      }
    },
  };
}

/**
 * thon-swarm-node-memory: the sandbox memory pinned to each node (the
 * services' memory limits, stopped ones included as placement counts them)
 * and the planner's own figure stay within the node's capacity
 * (target.nodes[].memory, from the `event` output's swarm.nodes).
 */
export function swarmNodeMemory(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-swarm-node-memory",
    description:
      "The memory limits of the participant services pinned to each swarm node add up to no more than the node's memory (target.nodes[].memory in thon.yaml). Fix: add a node or give one more memory, send newcomers elsewhere (host:), lower sandbox.memory, or move participants with `thon users move-node`.",
    enforcementLevel,
    validateStack: (args, report) => {
      const facts = eventFacts(args).swarm;
      const services = participantServices(args.resources);
      if (facts === undefined) {
        // Not a swarm event: nothing is pinned, so nothing to check (and the policy still ran).
        if (services.length > 0) report(`participant services (${services.map((s) => s.resource.name).join(", ")}) exist, but the event output has no swarm.nodes, so the nodes' capacities are unknown`);
        return;
      }
      const pinned = new Map<string, { bytes: number; users: string[] }>();
      const unknown: string[] = [];
      for (const s of services) {
        if (typeof s.pin !== "string") continue; // thon-swarm-service-pinned reports it
        if (s.memoryBytes === UNKNOWN) {
          unknown.push(s.resource.name);
          continue;
        }
        const entry = pinned.get(s.pin) ?? { bytes: 0, users: [] };
        entry.bytes += typeof s.memoryBytes === "number" ? s.memoryBytes : 0;
        entry.users.push(typeof s.user === "string" ? s.user : s.resource.name);
        pinned.set(s.pin, entry);
      }
      if (unknown.length > 0) report(`the memory limits of ${unknown.join(", ")} are unknown at preview, so the nodes' totals cannot be checked`);
      for (const node of facts.nodes) {
        const services = pinned.get(node.name);
        const fromServices = services ? Math.ceil(services.bytes / MiB) : 0;
        if (fromServices > node.memoryMiB) {
          report(`node ${node.name} has ${node.memoryMiB} MiB, but the services pinned to it (${services!.users.sort().join(", ")}) may use ${fromServices} MiB: over by ${fromServices - node.memoryMiB} MiB`);
        } else if (node.usedMiB > node.memoryMiB) {
          report(`node ${node.name} has ${node.memoryMiB} MiB, but the plan assigns it ${node.usedMiB} MiB`);
        }
      }
    },
  };
}
