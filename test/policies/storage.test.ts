// Workspace retention, on the volumes the real program declares and the
// typed `workspace` input of their Sandbox.
import { beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../../infra/preview/evaluate.ts";
import { stackResources } from "../../infra/policy/analyzer.ts";
import { makeEvent } from "../support/events.ts";
import { find, runEvent, T } from "../support/program.ts";
import { resource, runStackPolicy, withProps, WIRE, type TestResource } from "../support/policies.ts";

const policy = "thon-workspace-retained";
let e: Evaluation;
beforeAll(async () => {
  e = await runEvent(makeEvent({ alpha: ["alice"] }));
});

/** The stack's resources with some of them changed. */
const changing = (change: (r: TestResource) => TestResource, extra: TestResource[] = []) => [...stackResources(e).map(change), ...extra];
const sandboxKeeping = (retainOnDelete: boolean, name = "thon-workspace-alice") => (r: TestResource) =>
  r.type === T.sandbox ? withProps(r, { workspace: { kind: "volume", name, retainOnDelete } }) : r;

describe("thon-workspace-retained", () => {
  it("passes the program's workspace volume (retainOnDelete, declared by its Sandbox's workspace input)", async () => {
    const volume = find(e, T.volume, "thon-workspace-alice");
    expect(volume.options.retainOnDelete).toBe(true);
    expect(volume.parent).toBe(find(e, T.sandbox, "thon-alice").urn);
    expect(find(e, T.sandbox, "thon-alice").inputs.workspace).toEqual({ kind: "volume", name: "thon-workspace-alice", retainOnDelete: true });
    expect((await runStackPolicy(policy, e)).violations).toEqual([]);
  });

  it("fails a workspace volume that is neither retained nor protected (its Sandbox does not keep it, or keeps another volume)", async () => {
    const volume = find(e, T.volume, "thon-workspace-alice");
    const expected = [
      {
        policy,
        urn: volume.urn,
        message:
          "thon-workspace-alice holds a participant's workspace but is neither protected nor kept by its Sandbox (workspace.retainOnDelete): `pulumi destroy` or removing the participant would delete their work",
      },
    ];
    expect((await runStackPolicy(policy, changing(sandboxKeeping(false)))).violations).toEqual(expected);
    expect((await runStackPolicy(policy, changing(sandboxKeeping(true, "thon-workspace-bob")))).violations).toEqual(expected);
  });

  it("passes a protected workspace volume whose Sandbox does not keep it", async () => {
    const protectedVolume = (r: TestResource) => (r.type === T.volume ? { ...r, protect: true } : sandboxKeeping(false)(r));
    expect((await runStackPolicy(policy, changing(protectedVolume))).violations).toEqual([]);
  });

  it("knows workspaces by name too, and treats unknown labels as a workspace", async () => {
    const byName = resource(T.volume, "thon-workspace-zoe", { name: "thon-workspace-zoe", driver: "local" });
    expect((await runStackPolicy(policy, [byName])).violations.map((v) => v.policy)).toEqual([policy]);
    const unknown = resource(T.volume, "cache", { name: "cache", labels: WIRE.unknownArray });
    expect((await runStackPolicy(policy, [unknown])).violations.map((v) => v.policy)).toEqual([policy]);
  });

  it("leaves other volumes alone", async () => {
    expect((await runStackPolicy(policy, [resource(T.volume, "thon-nginx-cache", { name: "thon-nginx-cache", labels: [] })])).violations).toEqual([]);
  });
});
