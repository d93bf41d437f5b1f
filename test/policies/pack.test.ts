// The pack as a whole: which policies it has, how they are described and
// configured, and that its conventions are the program's.
import { describe, expect, it } from "vitest";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import * as command from "@pulumi/command";
import { thonPolicies, PACK_NAME } from "../../policies/pack.ts";
import { eventFacts, LABELS, TYPES } from "../../policies/lib.ts";
import { parseThonFile } from "../../infra/config/load.ts";
import { toEvent } from "../../infra/config/event.ts";
import { stackResources } from "../../infra/policy/analyzer.ts";
import { policyResources } from "../support/policies.ts";
import { planEvent } from "../../infra/plan.ts";
import { makeEvent } from "../support/events.ts";
import { find, runEvent, T } from "../support/program.ts";
import { evaluateFeatures } from "../support/features.ts";

/** The pack's policies; removing one (or adding one without tests) fails here first. */
export const EXPECTED_POLICIES = [
  "thon-container-not-privileged",
  "thon-container-no-host-mounts",
  "thon-sandbox-no-host-network",
  "thon-sandbox-resource-limits",
  "thon-sandbox-restart-policy",
  "thon-sandbox-non-root",
  "thon-sandbox-pids-limit",
  "thon-sandbox-egress-no-metadata",
  "thon-code-server-auth",
  "thon-password-strength",
  "thon-sandbox-password-from-random",
  "thon-workspace-retained",
  "thon-tls-key-strength",
  "thon-tls-cert-validity",
  "thon-tls-key-file-mode",
  "thon-secret-file-mode",
  "thon-gateway-consumer-key-and-limit",
  "thon-gateway-route-key-auth",
  "thon-gateway-admin-not-public",
  "thon-unique-names",
  "thon-host-memory",
  "thon-group-memory",
  "thon-participant-count",
  "thon-swarm-no-vip",
  "thon-swarm-service-pinned",
  "thon-swarm-node-memory",
];

describe("policy pack: contents", () => {
  it("has exactly the expected policies, each once", () => {
    expect(thonPolicies().map((p) => p.name)).toEqual(EXPECTED_POLICIES);
    expect(PACK_NAME).toBe("thon");
  });

  it("names policies thon-<kebab-case> and describes each with what to fix", () => {
    for (const p of thonPolicies()) {
      expect(p.name, p.name).toMatch(/^thon-[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(p.description, p.name).toMatch(/ Fix: /);
      expect(p.description.length, p.name).toBeLessThan(400);
    }
  });

  it("is mandatory except the capacity check, which is advisory", () => {
    const levels = Object.fromEntries(thonPolicies().map((p) => [p.name, p.enforcementLevel]));
    expect(levels["thon-host-memory"]).toBe("advisory");
    for (const name of EXPECTED_POLICIES.filter((n) => n !== "thon-host-memory")) expect(levels[name], name).toBe("mandatory");
  });

  it("declares its tunables as config schemas, without enforcementLevel (the CLI owns that key)", () => {
    const schemas = Object.fromEntries(thonPolicies().filter((p) => p.configSchema).map((p) => [p.name, Object.keys(p.configSchema!.properties)]));
    expect(schemas).toEqual({
      "thon-sandbox-no-host-network": ["allowHostNetwork"],
      "thon-code-server-auth": ["eventHosts"],
      "thon-password-strength": ["minLength"],
      "thon-tls-key-strength": ["minRsaBits", "ecdsaCurves"],
      "thon-tls-cert-validity": ["maxValidityDays"],
      "thon-gateway-admin-not-public": ["allowedAdminHosts"],
      "thon-host-memory": ["hostMemoryMiB", "reservedMiB"],
      "thon-participant-count": ["participants"],
    });
  });
});

describe("policy pack: the program's conventions", () => {
  const tokenOf = (cls: unknown) => (cls as { __pulumiType: string }).__pulumiType;

  it("matches resources by the SDKs' own type tokens", () => {
    expect(TYPES).toMatchObject({
      container: tokenOf(docker.Container),
      volume: tokenOf(docker.Volume),
      randomPassword: tokenOf(random.RandomPassword),
      localCommand: tokenOf(command.local.Command),
      remoteCommand: tokenOf(command.remote.Command),
      privateKey: tokenOf(tls.PrivateKey),
    });
  });

  it("recognizes sandboxes by the label the planner gives them", () => {
    const [alice] = planEvent(makeEvent({ alpha: ["alice"] })).participants;
    expect(alice!.labels[LABELS.user]).toBe("alice");
    expect(alice!.labels[LABELS.event]).toBe("test");
  });

  it("sees retainOnDelete through the workspace volume's label, which the program sets exactly when it retains the volume", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice", "bob"] }));
    const volumes = e.resources.filter((r) => r.type === T.volume);
    expect(volumes).toHaveLength(4); // a workspace and a home each
    for (const v of volumes) {
      const labels = Object.fromEntries((v.inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));
      expect(labels[LABELS.onDelete] === "retain", v.name).toBe(v.options.retainOnDelete);
      expect(labels[LABELS.purpose]).toBe(v.name.startsWith("thon-home-") ? "home" : "workspace");
    }
  });

  it("reads the event facts the program exports in the event output", async () => {
    const e = await runEvent(
      toEvent(parseThonFile("event:\n  name: facts\n  host: 192.0.2.7\n  altNames: [thon.local]\n  hostMemory: 8GiB\ntls:\n  maxValidityDays: 200\n  validityDays: 90\ngroups:\n  alpha:\n    users: [alice]\n")),
    );
    expect(e.outputs.event).toMatchObject({ host: "192.0.2.7", altNames: ["thon.local"], hostMemoryMiB: 8192, participantCount: 1, tlsMaxValidityDays: 200, groups: { alpha: ["alice"] } });
    const stack = policyResources(stackResources(e)).find((r) => r.type === TYPES.stack)!;
    expect(eventFacts({ resources: [stack] })).toEqual({
      name: "facts",
      hosts: ["192.0.2.7", "thon.local"],
      participantCount: 1,
      participants: ["alice"],
      groups: { alpha: ["alice"] },
      hostMemoryMiB: 8192,
      tlsMaxValidityDays: 200,
      llm: false,
    });
    expect(find(e, T.container, "thon-alice").inputs.labels).toContainEqual({ label: LABELS.user, value: "alice" });
  });

  it("reads the gateway mode from the event output's llm part", async () => {
    for (const mode of ["per-user", "per-group"] as const) {
      const e = await evaluateFeatures({ gateway: mode });
      const stack = policyResources(stackResources(e)).find((r) => r.type === TYPES.stack)!;
      expect(eventFacts({ resources: [stack] })).toMatchObject({ name: "feat", llm: true, gatewayMode: mode });
    }
    const lemonadeOnly = await evaluateFeatures({ gateway: false });
    const stack = policyResources(stackResources(lemonadeOnly)).find((r) => r.type === TYPES.stack)!;
    expect(eventFacts({ resources: [stack] })).toMatchObject({ llm: true });
    expect(eventFacts({ resources: [stack] }).gatewayMode).toBeUndefined();
  });
});
