// thon-secret-file-mode on the real program with Lemonade (its key file) and
// the sandboxes' Kilo Code config (an upload holding the participant's key),
// with the gateway per user, per group, and without it.
import { beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../../infra/preview/evaluate.ts";
import { stackResources } from "../../infra/policy/analyzer.ts";
import { SANDBOX_PATHS } from "../../infra/plan.ts";
import { evaluateFeatures } from "../support/features.ts";
import { runStackPolicy, withProps, WIRE, type PolicyRun, type TestResource } from "../support/policies.ts";

const policy = "thon-secret-file-mode";
function messages(run: PolicyRun): string[] {
  for (const v of run.violations) expect(v.policy).toBe(policy);
  return run.violations.map((v) => v.message);
}

const CMD = "command:local:Command";
const FILE = "thon:host:File";
const CONTAINER = "docker:index/container:Container";
const PASSWORD = "random:index/randomPassword:RandomPassword";

let perUser: Evaluation;
let perGroup: Evaluation;
let lemonadeOnly: Evaluation;
beforeAll(async () => {
  perUser = await evaluateFeatures({ gateway: "per-user" });
  perGroup = await evaluateFeatures({ gateway: "per-group" });
  lemonadeOnly = await evaluateFeatures({ gateway: false });
});

const named = (e: Evaluation, type: string, name: string): TestResource => stackResources(e).find((x) => x.type === type && x.name === name)!;
const changing = (e: Evaluation, type: string, name: string, change: (r: TestResource) => TestResource) =>
  stackResources(e).map((r) => (r.type === type && r.name === name ? change(r) : r));

describe("thon-secret-file-mode", () => {
  it("passes the program: Lemonade's key file a thon:host:File of mode 0600, written from stdin, Kilo configs uploaded 0600", async () => {
    for (const e of [perUser, perGroup, lemonadeOnly]) {
      const env = named(e, CMD, "thon-lemonade-env");
      const file = named(e, FILE, "thon-lemonade-env");
      const keys = [named(e, PASSWORD, "thon-lemonade-admin-key").urn, named(e, PASSWORD, "thon-lemonade-api-key").urn].sort();
      expect(env.propertyDependencies?.stdin).toEqual(keys);
      expect(file.propertyDependencies?.sha256).toEqual(keys);
      expect(env.parent).toBe(file.urn);
      expect(file.properties).toMatchObject({ path: "/etc/thon/lemond.env", mode: "0600", owner: "0", group: "0" });
      expect((await runStackPolicy(policy, e)).violations).toEqual([]);
    }
    // The upload's key: the participant's own (per-user), the group's (per-group), Lemonade's (no gateway).
    expect(named(perUser, CONTAINER, "thon-alice").propertyDependencies?.uploads).toEqual([named(perUser, PASSWORD, "thon-llm-key-alice").urn]);
    expect(named(perGroup, CONTAINER, "thon-alice").propertyDependencies?.uploads).toEqual([named(perGroup, PASSWORD, "thon-llm-key-group-alpha").urn]);
    expect(named(lemonadeOnly, CONTAINER, "thon-alice").propertyDependencies?.uploads).toEqual([named(lemonadeOnly, PASSWORD, "thon-lemonade-api-key").urn]);
  });

  it("does not count the sandbox password (an environment variable, not a file) or the unit's triggers (hashes)", async () => {
    const alice = named(perUser, CONTAINER, "thon-alice");
    expect(alice.propertyDependencies?.envs).toEqual([named(perUser, PASSWORD, "thon-password-alice").urn]);
    const service = named(perUser, CMD, "thon-lemonade-service");
    expect(service.propertyDependencies?.triggers).toHaveLength(2);
    expect(service.properties.stdin).toBeUndefined();
  });

  it("fails Lemonade's key file given mode 0644", async () => {
    const loose = changing(perUser, FILE, "thon-lemonade-env", (r) => withProps(r, { mode: "0644" }));
    expect(messages(await runStackPolicy(policy, loose))).toEqual([
      'thon-lemonade-env: "/etc/thon/lemond.env" holds a key or password and has mode "0644", readable beyond its owner. Fix: mode "0600"',
    ]);
  });

  it("fails Lemonade's keys written by a command outside a thon:host:File (no typed mode, no umask 077 the pack can rely on)", async () => {
    const lemonade = named(perGroup, "thon:lemonade:Lemonade", "thon-lemonade").urn;
    const loose = changing(perGroup, CMD, "thon-lemonade-env", (r) => ({ ...r, parent: lemonade }));
    expect(messages(await runStackPolicy(policy, loose))).toEqual([
      "thon-lemonade-env: gets a key or password on stdin but is not the writer of a thon:host:File, so the pack cannot tell which file gets it or with which mode. Fix: declare the file with HostFile (components/hostFile.ts)",
    ]);
  });

  it("fails a Kilo config uploaded with permissions 0644, per user and per group", async () => {
    for (const e of [perUser, perGroup]) {
      const loose = changing(e, CONTAINER, "thon-bob", (r) =>
        withProps(r, { uploads: (r.properties.uploads as { file: string }[]).map((u) => (u.file === SANDBOX_PATHS.kiloConfig ? { ...u, permissions: "0644" } : u)) }),
      );
      expect(messages(await runStackPolicy(policy, loose))).toEqual([
        `thon-bob uploads "${SANDBOX_PATHS.kiloConfig}" with permissions "0644", and its uploads hold a key or password; use "0600"`,
      ]);
    }
  });

  it("fails uploads whose permissions are unknown at preview, but not content unknown at preview (the key is new)", async () => {
    const withUploads = (patch: Record<string, unknown>) =>
      changing(perUser, CONTAINER, "thon-alice", (r) => withProps(r, { uploads: (r.properties.uploads as object[]).map((u) => ({ ...u, ...patch })) }));
    expect((await runStackPolicy(policy, withUploads({ content: WIRE.unknown }))).violations).toEqual([]);
    expect(messages(await runStackPolicy(policy, withUploads({ permissions: WIRE.unknown })))).toHaveLength(2);
  });

  it("has nothing to check without Lemonade (no key file, no Kilo config)", async () => {
    const none = await evaluateFeatures({ lemonade: false });
    expect(none.resources.some((r) => r.name === "thon-lemonade-env")).toBe(false);
    expect((await runStackPolicy(policy, none)).violations).toEqual([]);
  });
});
