// The whole event as resources: Event -> plan -> components -> outputs.
// `infra/index.ts` runs it for `pulumi up`; `thon plan`, the tests and the
// benchmarks run the very same function under Pulumi's mocks. The one place
// components are declared: every name and per-participant decision comes
// from the planner (infra/plan.ts), this file only wires components together.
import * as pulumi from "@pulumi/pulumi";
import { sandboxFor, type Event } from "./config/event.ts";
import { planEvent, SANDBOX_PATHS, type EventPlan, type LlmOutputs, type LlmPlan, type ParticipantPlan, type SwarmPlan } from "./plan.ts";
import { renderKiloConfig } from "./render/kilo.ts";
import { createTarget, type NodeShell, type Target } from "./target.ts";
import { EventNetwork } from "../components/eventNetwork.ts";
import { Sandbox, type SandboxFile } from "../components/sandbox.ts";
import { SandboxImage } from "../components/sandboxImage.ts";
import { Lemonade } from "../components/lemonade.ts";
import { Gateway } from "../components/gateway.ts";
import { Tls } from "../components/tls.ts";
import { Proxy } from "../components/proxy.ts";
import { SwarmSandbox, type SwarmSecretFile } from "../components/swarmSandbox.ts";
import { NodeLabels } from "../components/nodeLabels.ts";
import { OverlayNetwork } from "../components/overlayNetwork.ts";
import { NodeProxy } from "../components/nodeProxy.ts";
import { EdgeProxy } from "../components/edgeProxy.ts";

/** What one participant receives; the whole map is a secret output. */
export interface ParticipantCredentials {
  readonly group: string;
  readonly state: "running" | "stopped";
  readonly url: string;
  readonly password?: string;
  readonly apiKey?: string;
}

export interface EventOutputs {
  readonly event: pulumi.Output<{
    name: string;
    url: string;
    /** Where participants download the certificate to trust; absent with tls.mode provided. */
    caCertUrl?: string;
    participantCount: number;
    groups: Record<string, string[]>;
    /** Facts the policy pack reads from this output (policies/lib.ts eventFacts). */
    host: string;
    altNames: string[];
    hostMemoryMiB?: number;
    tlsMaxValidityDays: number;
    /** The local LLM (Lemonade, gateway); absent when lemonade is off. */
    llm?: LlmOutputs;
    /** target.kind swarm: each node's capacity and assigned memory (policies/swarm.ts reads it); absent otherwise. */
    swarm?: { nodes: { name: string; memoryMiB: number; usedMiB: number }[] };
  }>;
  readonly participants: pulumi.Output<Record<string, ParticipantCredentials>>;
  /** The certificate participants import (not secret); null with tls.mode provided (nothing to import). */
  readonly caCertUrl: string | null;
  readonly caCertPem: pulumi.Output<string> | null;
}

export function defineEvent(event: Event): EventOutputs {
  const plan = planEvent(event);
  const target = createTarget(event.target);
  const { sandboxes, tls, llm } = plan.swarm ? defineSwarm(event, plan, plan.swarm, target) : defineHost(event, plan, target);
  const caCertUrl = tls.caCertPem !== undefined ? plan.caCertUrl : undefined;

  const participants = pulumi.all(
    sandboxes.map((s, i) => {
      const p = plan.participants[i]!;
      return pulumi.all([s.password, llm?.keyFor(p)]).apply(([password, apiKey]) => [
        p.name,
        {
          group: p.group,
          state: p.state,
          url: s.url,
          ...(password !== undefined ? { password } : {}),
          ...(apiKey !== undefined ? { apiKey } : {}),
        } satisfies ParticipantCredentials,
      ] as const);
    }),
  );

  return {
    event: pulumi.output({
      name: event.name,
      url: plan.baseUrl,
      ...(caCertUrl !== undefined ? { caCertUrl } : {}),
      participantCount: plan.participants.length,
      groups: Object.fromEntries(event.groups.map((g) => [g.name, [...g.users]])),
      host: event.host,
      altNames: [...event.altNames],
      ...(event.hostMemoryMiB !== undefined ? { hostMemoryMiB: event.hostMemoryMiB } : {}),
      tlsMaxValidityDays: event.tls.maxValidityDays,
      ...(plan.llm ? { llm: plan.llm.outputs } : {}),
      ...(plan.swarm ? { swarm: { nodes: plan.swarm.nodes.map((n) => ({ name: n.name, memoryMiB: n.memoryMiB, usedMiB: n.usedMiB })) } } : {}),
    }),
    participants: pulumi.secret(participants.apply((entries) => Object.fromEntries(entries))),
    // null, not undefined: Pulumi warns about undefined stack outputs.
    caCertUrl: caCertUrl ?? null,
    caCertPem: tls.caCertPem ?? null,
  };
}

interface Llm {
  /** The participant's API key (secret): see KeyPlan. */
  keyFor(p: ParticipantPlan): pulumi.Output<string>;
  /** Files for the participant's sandbox: the Kilo Code config. */
  filesFor(p: ParticipantPlan): SandboxFile[];
  /** The same on a swarm: the Kilo config as a Swarm secret, which the entrypoint copies into place. */
  secretFilesFor(p: ParticipantPlan): SwarmSecretFile[];
}

/**
 * Lemonade and, when on, the gateway; with lemonade.enabled: false the plan
 * has no llm and nothing is declared. `target` runs lemond's files and
 * activation: the host, or on a swarm the shell of Lemonade's node.
 */
function defineLlm(event: Event, plan: LlmPlan, target: Pick<Target, "command">): Llm {
  const lemonade = new Lemonade(plan.resourceName, { lemonade: event.lemonade, plan: plan.lemonade, target });
  const gateway = plan.gateway
    ? new Gateway(plan.gateway.resourceName, {
        plan: plan.gateway,
        lemonadeApiKey: lemonade.apiKey,
        adminKey: new pulumi.Config("thon").getSecret("apisixAdminKey"),
      })
    : undefined;
  const keyFor = (p: ParticipantPlan): pulumi.Output<string> => {
    const key = p.llm?.key;
    if (key?.from === "consumer" && gateway) return gateway.keyOf(key.consumer);
    if (key?.from === "lemonade") return lemonade.apiKey;
    throw new Error(`the plan gives ${p.name} no LLM key`);
  };
  // Only this participant's key goes in: a new key changes only their file.
  const kiloConfig = (p: ParticipantPlan) => pulumi.secret(keyFor(p).apply((apiKey) => renderKiloConfig({ ...plan.kilo, apiKey })));
  return {
    keyFor,
    filesFor: (p) => [{ path: p.llm!.kiloPath, content: kiloConfig(p) }],
    secretFilesFor: (p) => [{ key: "kilo", path: SANDBOX_PATHS.kiloSecret, env: "THON_KILO_CONFIG_FILE", content: kiloConfig(p) }],
  };
}
/** One host (target local or ssh): containers, the event's bridge, the host's nginx. */
function defineHost(event: Event, plan: EventPlan, target: Target): { sandboxes: readonly { url: string; password: pulumi.Output<string> | undefined }[]; tls: Tls; llm: Llm | undefined } {
  const image = new SandboxImage(plan.componentNames.image, {
    image: event.sandbox.image,
    build: event.sandbox.build,
    provider: target.docker,
    packages: event.sandbox.packages,
    target,
  });
  // Groups whose template names another image get one of their own.
  const groupImages = new Map<string, SandboxImage>();
  for (const [group, name] of Object.entries(plan.componentNames.groupImages)) {
    const s = sandboxFor(event, group);
    groupImages.set(group, new SandboxImage(name, { image: s.image, provider: target.docker, packages: s.packages, target }));
  }
  const llm = plan.llm ? defineLlm(event, plan.llm, target) : undefined;
  // The event network, unless the organizer put sandboxes on one of their own (or none).
  const network = plan.network ? new EventNetwork(plan.network.name, { eventName: event.name, plan: plan.network, egress: event.sandbox.egress, target }) : undefined;

  const sandboxes = plan.participants.map(
    (p) =>
      new Sandbox(p.resourceNames.sandbox, {
        plan: p,
        eventName: event.name,
        sandbox: sandboxFor(event, p.group),
        ...(network ? { eventNetwork: network.networkName } : {}),
        socketGroup: event.proxy.socketGroup,
        image: (groupImages.get(p.group) ?? image).imageId,
        target,
        ...(llm ? { files: llm.filesFor(p) } : {}),
      }),
  );

  // The HTTPS entry. Certificates depend on the event's names only, so
  // adding participants never re-issues them; the proxy writes one file each.
  const tls = new Tls(plan.componentNames.tls, {
    eventName: event.name,
    host: event.host,
    altNames: event.altNames,
    tls: event.tls,
    target,
  });
  new Proxy(plan.componentNames.proxy, { event, participants: plan.participants, tls, target });
  return { sandboxes, tls, llm };
}

/**
 * A Docker Swarm (issue 18, SWARM.md): the overlay network and each node's
 * labels on the manager, one pinned service per participant. The images are
 * referenced by name: a swarm here has no registry, so the image is imported
 * on every node beforehand (no SandboxImage: pulling on the manager would
 * not put it on the nodes). Lemonade runs on its node (LemonadePlan.node),
 * each participant's Kilo config is a Swarm secret (docs/llm.md).
 */
function defineSwarm(event: Event, plan: EventPlan, swarm: SwarmPlan, target: Target): { sandboxes: readonly { url: string; password: pulumi.Output<string> | undefined }[]; tls: Tls; llm: Llm | undefined } {
  const shells = target.nodes;
  if (!shells) throw new Error("a swarm plan needs the swarm target's node shells");
  const shellOf = (node: string | undefined, field: string): NodeShell => {
    const shell = node === undefined ? undefined : shells.get(node);
    if (!shell) throw new pulumi.RunError(`${field}: no node named ${String(node)} in target.nodes (${[...shells.keys()].join(", ")})`);
    return shell;
  };
  // lemond is a host service on its node (the GPU's); APISIX is the organizer's, configured over its Admin API.
  const llm = plan.llm ? defineLlm(event, plan.llm, shellOf(plan.llm.lemonade.node?.name, "lemonade.node")) : undefined;
  const network = new OverlayNetwork(swarm.network, { eventName: event.name, name: swarm.network, target });
  const labels = new Map(swarm.nodes.map((n) => [n.name, new NodeLabels(n.labelsResourceName, { target, node: n.name, labels: n.labels })]));
  const sandboxes = plan.participants.map((p) => {
    const shell = shellOf(p.node, `${p.name}'s node`);
    return new SwarmSandbox(
      p.resourceNames.sandbox,
      {
        plan: p,
        eventName: event.name,
        sandbox: sandboxFor(event, p.group),
        network: network.networkId,
        socketGroup: event.proxy.socketGroup,
        image: sandboxFor(event, p.group).image,
        target,
        node: shell,
        ...(llm ? { secretFiles: llm.secretFilesFor(p) } : {}),
        // The constraint names the node's label: set it first.
        after: [labels.get(shell.node)!.command],
      },
    );
  });
  // The certificates; a provided certificate is checked on the entry node, where the edge nginx serves it.
  const tls = new Tls(plan.componentNames.tls, {
    eventName: event.name,
    host: event.host,
    altNames: event.altNames,
    tls: event.tls,
    target: shellOf(swarm.entry, "target.entry"),
  });
  // Routing: each node's nginx serves its own participants' sockets; the
  // edge on the entry node sends /<user>/ to that node over TLS (docs/swarm-routing.md).
  const nodeProxies = new Map(
    swarm.nodes.map((n) => [
      n.name,
      new NodeProxy(n.proxyResourceName, { event, swarm, node: n, participants: plan.participants, tls, shell: shellOf(n.name, "target.nodes") }),
    ]),
  );
  new EdgeProxy(swarm.edgeResourceName, {
    event,
    swarm,
    participants: plan.participants,
    tls,
    shell: shellOf(swarm.entry, "target.entry"),
    // The entry's node server and the edge share one nginx: reload it once the node's files are in place.
    after: [nodeProxies.get(swarm.entry)!.reload],
  });
  return { sandboxes, tls, llm };
}
