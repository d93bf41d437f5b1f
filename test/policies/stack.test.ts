// Whole-stack policies on the real program's resources, and on copies with
// a duplicate, a missing or an extra sandbox.
import { beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../../infra/preview/evaluate.ts";
import { stackResources } from "../../infra/policy/analyzer.ts";
import { parseThonFile } from "../../infra/config/load.ts";
import { toEvent } from "../../infra/config/event.ts";
import { APISIX_TYPES } from "../../policies/gateway.ts";
import { evaluateFeatures } from "../support/features.ts";
import { makeEvent } from "../support/events.ts";
import { find, runEvent, T } from "../support/program.ts";
import { runStackPolicy, withEventOutput, withProps, WIRE, type PolicyRun, type TestResource } from "../support/policies.ts";

function messages(run: PolicyRun, policy: string): string[] {
  for (const v of run.violations) expect(v.policy).toBe(policy);
  return run.violations.map((v) => v.message);
}

let e: Evaluation;
let perUser: Evaluation;
let perGroup: Evaluation;
beforeAll(async () => {
  e = await runEvent(makeEvent({ alpha: ["alice", "bob"], beta: ["carol", "dave"] }));
  perUser = await evaluateFeatures({ gateway: "per-user" });
  perGroup = await evaluateFeatures({ gateway: "per-group" });
});

/** A copy of one of the evaluation's resources under another Pulumi name. */
function copyOf(ev: Evaluation, type: string, name: string, as: string, patch: Record<string, unknown> = {}): TestResource {
  const original = stackResources(ev).find((r) => r.type === type && r.name === name)!;
  return { ...withProps(original, patch), name: as, urn: original.urn.replace(/::[^:]+$/, `::${as}`) };
}

/** A second container claiming an existing one's Docker name and participant. */
function duplicateOf(name: string): TestResource {
  const original = stackResources(e).find((r) => r.type === T.container && r.name === name)!;
  return { ...original, name: `${name}-again`, urn: `${original.urn}-again` };
}

describe("thon-unique-names", () => {
  const policy = "thon-unique-names";

  it("passes the program's resources", async () => {
    expect((await runStackPolicy(policy, e)).violations).toEqual([]);
  });

  it("fails two containers with one Docker name and participant, reported on the second", async () => {
    const dup = duplicateOf("thon-alice");
    const run = await runStackPolicy(policy, [...stackResources(e), dup]);
    expect(messages(run, policy)).toEqual(['container name "thon-alice" is used by thon-alice and thon-alice-again', 'participant "alice" is used by thon-alice and thon-alice-again']);
    expect(run.violations.every((v) => v.urn === dup.urn)).toBe(true);
  });

  it("fails two volumes with one name", async () => {
    const v = stackResources(e).find((r) => r.type === T.volume && r.name === "thon-workspace-bob")!;
    const run = await runStackPolicy(policy, [...stackResources(e), { ...v, name: "copy", urn: `${v.urn}-copy` }]);
    expect(messages(run, policy)).toEqual(['volume name "thon-workspace-bob" is used by thon-workspace-bob and copy']);
  });

  it("passes the gateway's consumers and routes, per user and per group", async () => {
    expect((await runStackPolicy(policy, perUser)).violations).toEqual([]);
    expect((await runStackPolicy(policy, perGroup)).violations).toEqual([]);
  });

  it("fails a second consumer with a username APISIX already has, and a second route with the same id", async () => {
    const consumer = copyOf(perUser, APISIX_TYPES.consumer, "thon-consumer-alice", "thon-consumer-alice2");
    const route = copyOf(perGroup, APISIX_TYPES.route, "thon-gateway-chat", "thon-gateway-chat2");
    expect(messages(await runStackPolicy(policy, [...stackResources(perUser), consumer]), policy)).toEqual([
      'gateway consumer "thon_feat_alice" is used by thon-consumer-alice and thon-consumer-alice2',
    ]);
    expect(messages(await runStackPolicy(policy, [...stackResources(perGroup), route]), policy)).toEqual([
      'gateway route "thon-feat-chat" is used by thon-gateway-chat and thon-gateway-chat2',
    ]);
  });
});

describe("thon-host-memory (advisory)", () => {
  const policy = "thon-host-memory";

  it("is not applicable when thon.yaml gives no host memory", async () => {
    const run = await runStackPolicy(policy, e);
    expect(run).toEqual({ violations: [], notApplicable: "the host's memory is not given (event.hostMemory in thon.yaml)" });
  });

  it("passes when the running sandboxes fit, and does not count paused ones", async () => {
    const fits = await runEvent(toEvent(parseThonFile("event:\n  name: t\n  host: 127.0.0.1\n  hostMemory: 4GiB\ngroups:\n  a:\n    users: [alice, bob, { name: carol, state: stopped }]\n")));
    expect(fits.outputs.event).toMatchObject({ hostMemoryMiB: 4096 });
    expect((await runStackPolicy(policy, fits)).violations).toEqual([]);
  });

  it("fails when the memory limits add up to more than the host has", async () => {
    const over = await runEvent(toEvent(parseThonFile("event:\n  name: t\n  host: 127.0.0.1\n  hostMemory: 3GiB\ngroups:\n  a:\n    users: [alice, bob]\n")));
    expect(messages(await runStackPolicy(policy, over), policy)).toEqual(["2 running sandboxes may use 4096 MiB together; the host has 3072 MiB. Over by 1024 MiB"]);
  });

  it("takes host memory and a reserve from the config", async () => {
    const run = await runStackPolicy(policy, e, { hostMemoryMiB: 8192, reservedMiB: 4096 });
    expect(messages(run, policy)).toEqual([expect.stringMatching(/^4 running sandboxes may use 8192 MiB together; the host has 8192 MiB \(4096 MiB reserved\)/)]);
  });

  it("fails memory limits unknown at preview", async () => {
    const unknown = withEventOutput(e, { hostMemoryMiB: 65536 }).map((r) => (r.name === "thon-bob" && r.type === T.container ? withProps(r, { memory: WIRE.unknownNumber }) : r));
    expect(messages(await runStackPolicy(policy, unknown), policy)).toEqual(["the memory limits of thon-bob are unknown at preview, so the total cannot be checked"]);
  });
});

describe("thon-participant-count", () => {
  const policy = "thon-participant-count";

  it("passes one sandbox per participant", async () => {
    expect(e.outputs.event).toMatchObject({ participantCount: 4 });
    expect((await runStackPolicy(policy, e)).violations).toEqual([]);
  });

  it("fails a missing sandbox, naming the participant", async () => {
    const alice = find(e, T.container, "thon-alice");
    const run = await runStackPolicy(policy, stackResources(e).filter((r) => r.urn !== alice.urn));
    expect(messages(run, policy)).toEqual(["the event has 4 participants but the stack declares 3 sandboxes", "no sandbox for alice"]);
  });

  it("fails a sandbox for someone not in the event", async () => {
    const mallory = { ...withProps(duplicateOf("thon-bob"), { labels: [{ label: "org.thon.user", value: "mallory" }] }), name: "thon-mallory" };
    const run = await runStackPolicy(policy, [...stackResources(e), mallory]);
    expect(messages(run, policy)).toEqual(["the event has 4 participants but the stack declares 5 sandboxes", "sandboxes for mallory, who are not in the event's groups"]);
  });

  it("passes the gateway's consumers: one per participant (per-user), one per group with members (per-group)", async () => {
    expect((await runStackPolicy(policy, perUser)).violations).toEqual([]);
    expect((await runStackPolicy(policy, perGroup)).violations).toEqual([]);
    expect(perGroup.outputs.event).toMatchObject({ llm: { gatewayMode: "per-group" }, groups: { empty: [] } });
  });

  it("fails a participant without a consumer (per-user) and a group without one (per-group)", async () => {
    const without = (ev: Evaluation, name: string) => stackResources(ev).filter((r) => !(r.type === APISIX_TYPES.consumer && r.name === name));
    expect(messages(await runStackPolicy(policy, without(perUser, "thon-consumer-dave")), policy)).toEqual([
      "gateway.mode is per-user, but there is no gateway consumer for participant dave: their key would not work",
    ]);
    expect(messages(await runStackPolicy(policy, without(perGroup, "thon-consumer-group-beta")), policy)).toEqual([
      "gateway.mode is per-group, but there is no gateway consumer for group beta: their key would not work",
    ]);
  });

  it("fails consumers that belong to nobody: someone not in the event, or left over from the other mode", async () => {
    const mallory = copyOf(perUser, APISIX_TYPES.consumer, "thon-consumer-alice", "thon-consumer-mallory", { username: "thon_feat_mallory" });
    expect(messages(await runStackPolicy(policy, [...stackResources(perUser), mallory]), policy)).toEqual([
      "gateway consumers thon_feat_mallory belong to no participant of the event (gateway.mode per-user): keys nobody was given, or left from another mode",
    ]);
    const mixed = [...stackResources(perGroup), ...stackResources(perUser).filter((r) => r.type === APISIX_TYPES.consumer && r.name === "thon-consumer-bob")];
    expect(messages(await runStackPolicy(policy, mixed), policy)).toEqual([
      "gateway consumers thon_feat_bob belong to no group of the event (gateway.mode per-group): keys nobody was given, or left from another mode",
    ]);
  });

  it("fails consumers in an event without the gateway", async () => {
    const noGateway = withEventOutput(perUser, { llm: { via: "lemonade" } });
    expect(messages(await runStackPolicy(policy, noGateway), policy)).toEqual([
      "the event has no gateway (gateway.enabled is false) but the stack declares 4 gateway consumers: thon-consumer-alice, thon-consumer-bob, thon-consumer-carol, thon-consumer-dave",
    ]);
  });

  it("takes the expected count from the config, and is not applicable without any", async () => {
    expect(messages(await runStackPolicy(policy, e, { participants: 5 }), policy)).toEqual(["the event has 5 participants but the stack declares 4 sandboxes"]);
    const noStack = await runStackPolicy(policy, stackResources(e).filter((r) => r.type !== "pulumi:pulumi:Stack"));
    expect(noStack.notApplicable).toBe("the stack has no event output with participantCount");
  });
});
