// What one organizer action touches when Lemonade and the gateway are on:
// two mock runs of the real program compared the way `pulumi preview`
// would, with each provider's replace rules (the dynamic providers' own
// `diff` included, see infra/preview/diff.ts).
import { describe, expect, it } from "vitest";
import { parseThonFile } from "../infra/config/load.ts";
import { toEvent } from "../infra/config/event.ts";
import { diffEvaluations, type EvaluationDiff } from "../infra/preview/diff.ts";
import type { Evaluation } from "../infra/preview/evaluate.ts";
import * as edit from "../infra/cli/edit.ts";
import { bigGroups, eventYaml } from "./support/events.ts";
import { runEvent } from "./support/program.ts";
import { llmYaml } from "./support/llm.ts";

// Adding or removing someone also updates the proxy's one reload resource.
const RELOAD = "command:local:Command::thon-proxy-reload";

const evaluateText = (text: string) => runEvent(toEvent(parseThonFile(text)));

// The unchanged events are evaluated once per text (two modes, two sizes).
const bases = new Map<string, Promise<Evaluation>>();
const baseline = (text: string) => bases.get(text) ?? (bases.set(text, evaluateText(text)), bases.get(text)!);

async function blast(base: string, change: (text: string) => string): Promise<EvaluationDiff> {
  return diffEvaluations(await baseline(base), await evaluateText(change(base)));
}

// A participant's own resources: their sandbox and their nginx location and
// upstream files (each a thon:host:File or Directory and the command that writes it).
const SANDBOX = (u: string) => [
  `command:local:Command::thon-nginx-${u}`,
  `command:local:Command::thon-pids-${u}`,
  `command:local:Command::thon-sockets-${u}`,
  `command:local:Command::thon-upstream-${u}`,
  `docker:index/container:Container::thon-${u}`,
  `docker:index/volume:Volume::thon-home-${u}`,
  `docker:index/volume:Volume::thon-workspace-${u}`,
  `random:index/randomPassword:RandomPassword::thon-password-${u}`,
  `thon:host:Directory::thon-sockets-${u}`,
  `thon:host:File::thon-nginx-${u}`,
  `thon:host:File::thon-upstream-${u}`,
  `thon:sandbox:Sandbox::thon-${u}`,
];

describe("blast radius with the local LLM on a 50-participant event", () => {
  it("per-user: adding a participant creates their sandbox, their key and their consumer, and changes nothing else (slots already at maxParallel)", async () => {
    const diff = await blast(eventYaml(bigGroups(50), llmYaml()), (t) => edit.addUser(t, "newcomer", "g3"));
    expect(diff.counts).toEqual({ create: 14, update: 1, replace: 0, delete: 0 });
    expect(diff.names("update")).toEqual([RELOAD]);
    expect(diff.names("create")).toEqual(
      [...SANDBOX("newcomer"), "pulumi-nodejs:dynamic/apisix:Consumer::thon-consumer-newcomer", "random:index/randomPassword:RandomPassword::thon-llm-key-newcomer"].sort(),
    );
  });

  it("per-user below maxParallel: the same, plus both models reloaded in place with one more slot", async () => {
    const diff = await blast(eventYaml(bigGroups(10), llmYaml()), (t) => edit.addUser(t, "newcomer", "g3"));
    expect(diff.counts).toEqual({ create: 14, update: 3, replace: 0, delete: 0 });
    expect(diff.changes.filter((c) => c.kind === "update" && c.name !== "thon-proxy-reload").map((c) => [c.name, c.inputs])).toEqual([
      ["thon-lemonade-chat", ["load"]],
      ["thon-lemonade-embedding", ["load"]],
    ]);
  });

  it("per-group: adding a participant updates their group's budget and creates their sandbox, nothing else", async () => {
    const diff = await blast(eventYaml(bigGroups(50), llmYaml({ mode: "per-group" })), (t) => edit.addUser(t, "newcomer", "g3"));
    expect(diff.counts).toEqual({ create: 12, update: 2, replace: 0, delete: 0 });
    expect(diff.names("create")).toEqual(SANDBOX("newcomer"));
    expect(diff.changes.find((c) => c.kind === "update" && c.name !== "thon-proxy-reload")).toMatchObject({ name: "thon-consumer-group-g3", inputs: ["desc", "plugins"] });
  });

  it("per-user: removing a participant deletes their sandbox (the volume is retained), key and consumer", async () => {
    const diff = await blast(eventYaml(bigGroups(50), llmYaml()), (t) => edit.removeUser(t, "u017"));
    expect(diff.counts).toEqual({ create: 0, update: 1, replace: 0, delete: 14 });
    expect(diff.names("update")).toEqual([RELOAD]);
  });

  it("per-user: moving a participant between groups changes nothing", async () => {
    const diff = await blast(eventYaml(bigGroups(50), llmYaml()), (t) => edit.moveUser(t, "u020", "g2"));
    expect(diff.counts).toEqual({ create: 0, update: 0, replace: 0, delete: 0 });
  });

  it("per-group: moving a participant gives them the new group's key, which replaces their sandbox only; both budgets update", async () => {
    const diff = await blast(eventYaml(bigGroups(50), llmYaml({ mode: "per-group" })), (t) => edit.moveUser(t, "u020", "g2"));
    expect(diff.names("replace")).toEqual(["docker:index/container:Container::thon-u020"]);
    expect(diff.changes.find((c) => c.kind === "replace")!.inputs).toEqual(["uploads"]);
    expect(diff.names("update")).toEqual(["pulumi-nodejs:dynamic/apisix:Consumer::thon-consumer-group-g1", "pulumi-nodejs:dynamic/apisix:Consumer::thon-consumer-group-g2"]);
    expect(diff.counts.create + diff.counts.delete).toBe(0);
  });

  it("a changed token limit updates every consumer in place and touches no sandbox", async () => {
    const diff = await blast(eventYaml(bigGroups(50), llmYaml()), (t) => t.replace("  mode: per-user", "  mode: per-user\n  limit: { tokens: 5000, windowSeconds: 60 }"));
    expect(diff.counts).toEqual({ create: 0, update: 50, replace: 0, delete: 0 });
    expect(diff.changes.every((c) => c.type === "pulumi-nodejs:dynamic/apisix:Consumer")).toBe(true);
  });
});
