// The dev stack, evaluated from stacks/dev/thon.yaml through infra/index.ts
// exactly as `pulumi preview` would run it, passes every policy of the pack;
// so does every combination of the program's features (TLS modes, Lemonade,
// the gateway per user and per group).
import { describe, expect, it } from "vitest";
import { evaluateEventFile } from "../../infra/cli/plan.ts";
import { thonPolicies } from "../../policies/pack.ts";
import { runWholePack } from "../support/policies.ts";
import { ALL_FEATURES, evaluateFeatures } from "../support/features.ts";

describe("the dev stack and the policy pack", () => {
  it("passes every policy", async () => {
    const e = await evaluateEventFile("stacks/dev/thon.yaml", "dev");
    expect(e.resources.filter((r) => r.type === "docker:index/container:Container")).toHaveLength(4);
    expect(await runWholePack(e)).toEqual([]);
    expect(thonPolicies()).toHaveLength(26);
  });

  it("passes the example event (every setting) too", async () => {
    const e = await evaluateEventFile("stacks/example/thon.yaml", "example");
    expect(await runWholePack(e)).toEqual([]);
  });

  it.each(ALL_FEATURES.map((f) => [f.label, f] as const))("passes an all-features event: %s", async (_label, features) => {
    const e = await evaluateFeatures(features);
    const types = new Set(e.resources.map((r) => r.type));
    // The resources the TLS, secret-file and gateway policies read are really there.
    expect(types.has("tls:index/privateKey:PrivateKey")).toBe(features.tls !== "provided");
    expect(types.has("pulumi-nodejs:dynamic/apisix:Consumer")).toBe(features.lemonade !== false && features.gateway !== false);
    expect(e.resources.some((r) => r.name === "thon-lemonade-env")).toBe(features.lemonade !== false);
    expect(await runWholePack(e)).toEqual([]);
  });
});
