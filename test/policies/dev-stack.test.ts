// The dev stack, evaluated from stacks/dev/thon.yaml through infra/index.ts
// exactly as `pulumi preview` would run it, passes every policy of the pack.
import { describe, expect, it } from "vitest";
import { evaluateEventFile } from "../../infra/cli/plan.ts";
import { thonPolicies } from "../../policies/pack.ts";
import { runWholePack } from "../support/policies.ts";

describe("the dev stack and the policy pack", () => {
  it("passes every policy", async () => {
    const e = await evaluateEventFile("stacks/dev/thon.yaml", "dev");
    expect(e.resources.filter((r) => r.type === "docker:index/container:Container")).toHaveLength(4);
    expect(await runWholePack(e)).toEqual([]);
    expect(thonPolicies()).toHaveLength(18);
  });

  it("passes the example event (every setting) too", async () => {
    const e = await evaluateEventFile("stacks/example/thon.yaml", "example");
    expect(await runWholePack(e)).toEqual([]);
  });
});
