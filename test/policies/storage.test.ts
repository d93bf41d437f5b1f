// Workspace retention, on the volumes the real program declares.
import { beforeAll, describe, expect, it } from "vitest";
import type { RecordedResource } from "../../infra/preview/evaluate.ts";
import { makeEvent } from "../support/events.ts";
import { find, runEvent, T } from "../support/program.ts";
import { resource, runResourcePolicy, withProps, WIRE } from "../support/policies.ts";

const policy = "thon-workspace-retained";
let volume: RecordedResource;
beforeAll(async () => {
  volume = find(await runEvent(makeEvent({ alpha: ["alice"] })), T.volume, "thon-workspace-alice");
});

const labelsWithout = (key: string) => (volume.inputs.labels as { label: string; value: string }[]).filter((l) => l.label !== key);

describe("thon-workspace-retained", () => {
  it("passes the program's workspace volume (retainOnDelete, labelled org.thon.on-delete=retain)", async () => {
    expect(volume.options.retainOnDelete).toBe(true);
    expect((await runResourcePolicy(policy, volume)).violations).toEqual([]);
  });

  it("fails a workspace volume that is neither retained nor protected", async () => {
    const run = await runResourcePolicy(policy, withProps(volume, { labels: labelsWithout("org.thon.on-delete") }));
    expect(run.violations).toEqual([
      {
        policy,
        message:
          "thon-workspace-alice holds a participant's workspace but is neither protected nor marked org.thon.on-delete=retain: `pulumi destroy` or removing the participant would delete their work",
      },
    ]);
  });

  it("passes a protected workspace volume without the label", async () => {
    const protectedVolume = { ...withProps(volume, { labels: labelsWithout("org.thon.on-delete") }), protect: true };
    expect((await runResourcePolicy(policy, protectedVolume)).violations).toEqual([]);
  });

  it("knows workspaces by name too, and treats unknown labels as a workspace", async () => {
    const byName = resource(T.volume, "thon-workspace-zoe", { name: "thon-workspace-zoe", driver: "local" });
    expect((await runResourcePolicy(policy, byName)).violations.map((v) => v.policy)).toEqual([policy]);
    const unknown = resource(T.volume, "cache", { name: "cache", labels: WIRE.unknownArray });
    expect((await runResourcePolicy(policy, unknown)).violations.map((v) => v.policy)).toEqual([policy]);
  });

  it("leaves other volumes alone", async () => {
    expect((await runResourcePolicy(policy, resource(T.volume, "thon-nginx-cache", { name: "thon-nginx-cache", labels: [] }))).violations).toEqual([]);
  });
});
