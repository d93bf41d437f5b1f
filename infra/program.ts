// The whole event as resources: Event -> plan -> components -> outputs.
// `infra/index.ts` runs it for `pulumi up`; `thon plan`, the tests and the
// benchmarks run the very same function under Pulumi's mocks.
import * as pulumi from "@pulumi/pulumi";
import { sandboxFor, type Event } from "./config/event.ts";
import { planEvent, planNetwork } from "./plan.ts";
import { EventNetwork } from "../components/eventNetwork.ts";
import { createTarget } from "./target.ts";
import { Sandbox } from "../components/sandbox.ts";
import { SandboxImage } from "../components/sandboxImage.ts";
import { defineLlm, type LlmOutputs } from "./llm.ts";
import { Tls } from "../components/tls.ts";
import { Proxy } from "../components/proxy.ts";

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
  }>;
  readonly participants: pulumi.Output<Record<string, ParticipantCredentials>>;
  /** The certificate participants import (not secret); null with tls.mode provided (nothing to import). */
  readonly caCertUrl: string | null;
  readonly caCertPem: pulumi.Output<string> | null;
}

export function defineEvent(event: Event): EventOutputs {
  const plan = planEvent(event);
  const target = createTarget(event.target);
  const image = new SandboxImage("thon-sandbox-image", {
    image: event.sandbox.image,
    build: event.sandbox.build,
    provider: target.docker,
    packages: event.sandbox.packages,
    target,
  });
  // Groups whose template names another image get one of their own.
  const groupImages = new Map<string, SandboxImage>();
  for (const [group, s] of Object.entries(event.groupSandboxes ?? {})) {
    if (s.image === event.sandbox.image) continue;
    groupImages.set(group, new SandboxImage(`thon-sandbox-image-${group}`, { image: s.image, provider: target.docker, packages: s.packages, target }));
  }
  const llm = defineLlm(event, target);
  // The event network, unless the organizer put sandboxes on one of their own (or none).
  const network =
    event.sandbox.network === undefined
      ? new EventNetwork(planNetwork(event).name, { eventName: event.name, plan: planNetwork(event), egress: event.sandbox.egress, target })
      : undefined;

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
  const tls = new Tls("thon-tls", {
    eventName: event.name,
    host: event.host,
    altNames: event.altNames,
    tls: event.tls,
    target,
  });
  new Proxy("thon-proxy", { event, participants: plan.participants, tls, target });
  const caCertUrl = tls.caCertPem !== undefined ? plan.caCertUrl : undefined;

  const participants = pulumi.all(
    sandboxes.map((s, i) => {
      const p = plan.participants[i]!;
      return pulumi.all([s.password, llm?.apiKeyFor(p.name)]).apply(([password, apiKey]) => [
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
      ...(llm ? { llm: llm.outputs } : {}),
    }),
    participants: pulumi.secret(participants.apply((entries) => Object.fromEntries(entries))),
    // null, not undefined: Pulumi warns about undefined stack outputs.
    caCertUrl: caCertUrl ?? null,
    caCertPem: tls.caCertPem ?? null,
  };
}
