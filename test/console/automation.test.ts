// The Automation API adapter (console/apply/automation.ts) driving the real
// LocalWorkspace against a Pulumi CLI stand-in that writes engine events after
// the documented schema: events reach onEvent in order, policy pack, replace
// targets and the candidate config file reach the CLI, a locked stack becomes
// StackBusyError, and a missing CLI PulumiMissingError.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AutomationApplier } from "../../console/apply/automation.ts";
import { PulumiMissingError, StackBusyError, type EngineEvent } from "../../console/apply/applier.ts";
import { makeProject, type Fixture } from "../support/consoleFixture.ts";
import { startPulumiCliStandIn, type PulumiCliStandIn } from "../support/pulumiCliStandIn.ts";

const URN = "urn:pulumi:dev::thon::thon:sandbox:Sandbox$docker:index/container:Container::thon-alice";
const meta = { op: "replace", urn: URN, type: "docker:index/container:Container", provider: "", keys: ["image"], diffs: ["image"] };
/** A replace as the engine reports it: prelude, resourcePre, resOutputs, summary (sdk/nodejs/automation/events.ts). */
const EVENTS = [
  { sequence: 0, timestamp: 1764300000, preludeEvent: { config: { "thon:file": "event/thon.yaml" } } },
  { sequence: 1, timestamp: 1764300001, resourcePreEvent: { metadata: meta, planning: false } },
  { sequence: 2, timestamp: 1764300002, diagnosticEvent: { urn: URN, message: "replacing\n", color: "never", severity: "info" } },
  { sequence: 3, timestamp: 1764300003, resOutputsEvent: { metadata: meta, planning: false } },
  { sequence: 4, timestamp: 1764300004, summaryEvent: { maybeCorrupt: false, durationSeconds: 4, resourceChanges: { replace: 1, same: 3 }, policyPacks: { "thon-policies": "0.1.0" } } },
];

let cli: PulumiCliStandIn | undefined;
let fx: Fixture | undefined;
afterEach(() => {
  cli?.cleanup();
  fx?.cleanup();
  cli = fx = undefined;
});

describe("AutomationApplier against the Pulumi CLI stand-in", () => {
  it("up: engine events reach onEvent in sequence; policy pack and replace targets reach the CLI; the summary is the result", async () => {
    cli = startPulumiCliStandIn({ events: EVENTS });
    fx = makeProject();
    const applier = new AutomationApplier({ projectDir: fx.dir, stack: "dev", pulumiRoot: cli.root });
    const seen: EngineEvent[] = [];
    const r = await applier.up({ replace: [URN], onEvent: (e) => seen.push(e) });
    expect(seen.map((e) => e.sequence)).toEqual([0, 1, 2, 3, 4]);
    expect(seen[1]!.resourcePreEvent!.metadata.urn).toBe(URN);
    expect(r.changes).toEqual({ replace: 1, same: 3 });
    const up = cli.calls().find((c) => c[0] === "up")!;
    expect(up).toContain("--replace");
    expect(up[up.indexOf("--replace") + 1]).toBe(URN);
    expect(up[up.indexOf("--policy-pack") + 1]).toBe(join(fx.dir, "policies"));
    expect(up[up.indexOf("--stack") + 1]).toBe("dev");
  });

  it("preview of a candidate thon.yaml: a copy of the stack config naming it, removed afterwards", async () => {
    cli = startPulumiCliStandIn({ events: EVENTS });
    fx = makeProject();
    const applier = new AutomationApplier({ projectDir: fx.dir, stack: "dev", pulumiRoot: cli.root });
    const candidate = join(fx.dir, "event", ".thon.yaml.candidate.yaml");
    const r = await applier.preview({ eventFile: candidate, onEvent: () => undefined });
    expect(r.changes).toEqual({ replace: 1, same: 3 });
    const preview = cli.calls().find((c) => c[0] === "preview")!;
    const configFile = preview[preview.indexOf("--config-file") + 1]!;
    expect(configFile).toMatch(/stack-config\.yaml$/);
    expect(existsSync(configFile)).toBe(false);
    expect(readFileSync(join(fx.dir, "Pulumi.dev.yaml"), "utf8")).toContain("thon:file: event/thon.yaml");
  });

  it("a locked stack (an update from outside) is StackBusyError naming the cause and the fix", async () => {
    cli = startPulumiCliStandIn({ events: EVENTS, busy: true });
    fx = makeProject();
    const applier = new AutomationApplier({ projectDir: fx.dir, stack: "dev", pulumiRoot: cli.root });
    const err = await applier.up({ onEvent: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackBusyError);
    expect((err as Error).message).toMatch(/updated from outside this console.*pulumi cancel --stack dev/);
  });

  it("no Pulumi CLI: PulumiMissingError saying so", async () => {
    fx = makeProject();
    const applier = new AutomationApplier({ projectDir: fx.dir, stack: "dev", pulumiRoot: join(fx.dir, "no-such-pulumi") });
    const err = await applier.preview({ onEvent: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulumiMissingError);
    expect((err as Error).message).toMatch(/the Pulumi CLI cannot run here/);
  });
});
