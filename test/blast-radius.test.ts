// What one organizer action touches on a 50-participant event: two mock runs
// of the real program compared by URN and input hashes, the way `pulumi
// preview` would count creates, updates, replaces and deletes.
import { beforeAll, describe, expect, it } from "vitest";
import { parseThonFile } from "../infra/config/load.ts";
import { toEvent } from "../infra/config/event.ts";
import { diffEvaluations, type EvaluationDiff } from "../infra/preview/diff.ts";
import type { Evaluation } from "../infra/preview/evaluate.ts";
import * as edit from "../infra/cli/edit.ts";
import { bigGroups, eventYaml } from "./support/events.ts";
import { runEvent } from "./support/program.ts";

const base = eventYaml(bigGroups(50));
const evaluateText = (text: string) => runEvent(toEvent(parseThonFile(text)));

let before: Evaluation;
beforeAll(async () => {
  before = await evaluateText(base);
});

async function afterEdit(change: (text: string) => string): Promise<EvaluationDiff> {
  return diffEvaluations(before, await evaluateText(change(base)));
}

/** The user a resource belongs to, from its name (thon-<user>, thon-workspace-<user>, thon-nginx-<user>, ...). */
function owner(name: string): string {
  return name.replace(/^thon-(workspace-dir-|workspace-|password-|sockets-|stop-|nginx-|upstream-|pids-|home-)?/, "");
}

/** The shared proxy reload, rerun because its manifest (stdin) lists the participant files. */
const RELOAD = { kind: "update", name: "thon-proxy-reload", inputs: ["stdin"] };
const isTls = (type: string) => type.startsWith("tls:") || type === "thon:tls:Tls";

function touched(diff: EvaluationDiff): Set<string> {
  return new Set(diff.changes.map((c) => owner(c.name)));
}

describe("blast radius on a 50-participant event", () => {
  it("starts from 50 sandboxes", () => {
    expect(before.resources.filter((r) => r.type === "docker:index/container:Container")).toHaveLength(50);
  });

  it("adding one participant creates only their seven resources and their two nginx files, plus the reload update", async () => {
    const diff = await afterEdit((t) => edit.addUser(t, "newcomer", "g3"));
    // The socket folder and the two nginx files are each a thon:host:* component and its command.
    expect(diff.counts).toEqual({ create: 12, update: 1, replace: 0, delete: 0 });
    expect(diff.names("create")).toEqual([
      "command:local:Command::thon-nginx-newcomer",
      "command:local:Command::thon-pids-newcomer",
      "command:local:Command::thon-sockets-newcomer",
      "command:local:Command::thon-upstream-newcomer",
      "docker:index/container:Container::thon-newcomer",
      "docker:index/volume:Volume::thon-home-newcomer",
      "docker:index/volume:Volume::thon-workspace-newcomer",
      "random:index/randomPassword:RandomPassword::thon-password-newcomer",
      "thon:host:Directory::thon-sockets-newcomer",
      "thon:host:File::thon-nginx-newcomer",
      "thon:host:File::thon-upstream-newcomer",
      "thon:sandbox:Sandbox::thon-newcomer",
    ]);
    expect(diff.changes.filter((c) => c.kind === "update")).toEqual([expect.objectContaining(RELOAD)]);
    // No certificate, key or other participant's file changes.
    expect(diff.changes.some((c) => isTls(c.type))).toBe(false);
  });

  it("removing one participant deletes only their resources and their nginx files, plus the reload update; their volume is retained", async () => {
    const diff = await afterEdit((t) => edit.removeUser(t, "u017"));
    expect(diff.counts).toEqual({ create: 0, update: 1, replace: 0, delete: 12 });
    expect(diff.names("delete")).toContain("command:local:Command::thon-nginx-u017");
    expect(diff.names("delete")).toContain("command:local:Command::thon-upstream-u017");
    expect(diff.changes.filter((c) => c.kind === "update")).toEqual([expect.objectContaining(RELOAD)]);
    expect(touched(diff)).toEqual(new Set(["u017", "proxy-reload"]));
    expect(diff.changes.some((c) => isTls(c.type))).toBe(false);
    for (const name of ["thon-workspace-u017", "thon-home-u017"]) {
      expect(before.resources.find((r) => r.name === name)!.options.retainOnDelete, name).toBe(true);
    }
  });

  it("moving one participant to another group changes no resource at all", async () => {
    // u020 is in g1 (see bigGroups); g2 is another group.
    const diff = await afterEdit((t) => edit.moveUser(t, "u020", "g2"));
    expect(diff.counts).toEqual({ create: 0, update: 0, replace: 0, delete: 0 });
  });

  it("stopping one participant updates their container in place and adds the stop command, nothing else", async () => {
    const diff = await afterEdit((t) => edit.setUserState(t, "u033", "stopped"));
    expect(diff.counts).toEqual({ create: 1, update: 1, replace: 0, delete: 0 });
    expect(diff.names("create")).toEqual(["command:local:Command::thon-stop-u033"]);
    expect(diff.changes.find((c) => c.kind === "update")).toMatchObject({ name: "thon-u033", inputs: ["start"] });
  });

  it("changing the image replaces every container but no volume or password", async () => {
    const diff = await afterEdit((t) => t + "sandbox:\n  image: thon-sandbox:next\n");
    expect(diff.counts.replace).toBe(51); // the image and 50 containers
    expect(diff.counts.delete + diff.counts.create).toBe(0);
    expect(diff.changes.every((c) => !c.type.includes("volume") && !c.type.includes("randomPassword"))).toBe(true);
  });

  it("changing one group's template replaces only that group's containers (and reruns their pids limit), nothing else", async () => {
    const g2 = bigGroups(50).g2!;
    const diff = await afterEdit((t) => t.replace("  g2:\n", "  g2:\n    sandbox: { env: { TRACK: web }, extensions: [ms-python.python] }\n"));
    expect(diff.counts.create + diff.counts.delete + diff.counts.update).toBe(0);
    const replaced = diff.changes.filter((c) => c.kind === "replace");
    expect(new Set(replaced.map((c) => owner(c.name)))).toEqual(new Set(g2));
    expect(replaced.every((c) => c.type === "docker:index/container:Container" || c.name.startsWith("thon-pids-"))).toBe(true);
  });

  it("changing one group's memory updates only that group's containers in place", async () => {
    const g4 = bigGroups(50).g4!;
    const diff = await afterEdit((t) => t.replace("  g4:\n", "  g4:\n    sandbox: { memory: 3GiB }\n"));
    expect(diff.counts).toEqual({ create: 0, update: g4.length, replace: 0, delete: 0 });
    expect(diff.changes.every((c) => g4.includes(owner(c.name)) && c.inputs.includes("memory"))).toBe(true);
  });

  it("changing one group's image creates that group's image and replaces only its containers", async () => {
    const g1 = bigGroups(50).g1!;
    const diff = await afterEdit((t) => t.replace("  g1:\n", "  g1:\n    sandbox: { image: thon-sandbox:data-science }\n"));
    expect(diff.names("create")).toEqual(["docker:index/remoteImage:RemoteImage::thon-sandbox-image-g1", "thon:sandbox:SandboxImage::thon-sandbox-image-g1"]);
    const replaced = diff.changes.filter((c) => c.kind === "replace");
    expect(new Set(replaced.map((c) => owner(c.name)))).toEqual(new Set(g1));
  });
});
