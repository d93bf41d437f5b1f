// The policies for issue 17's settings, on the real program's resources and
// on copies with one thing changed: the pids limit, the egress rules'
// metadata block, and group templates within the host's memory.
import { describe, expect, it } from "vitest";
import { parseThonFile } from "../../infra/config/load.ts";
import { toEvent } from "../../infra/config/event.ts";
import { stackResources } from "../../infra/policy/analyzer.ts";
import { coversMetadata } from "../../policies/sandbox.ts";
import { makeEvent } from "../support/events.ts";
import { find, runEvent, T } from "../support/program.ts";
import { runResourcePolicy, runStackPolicy, withProps, type PolicyRun } from "../support/policies.ts";

function messages(run: PolicyRun, policy: string): string[] {
  for (const v of run.violations) expect(v.policy).toBe(policy);
  return run.violations.map((v) => v.message);
}

const withEgress = (egress: string) => runEvent(makeEvent({ alpha: ["alice"] }, `sandbox:\n  egress: ${egress}\n`));

describe("thon-sandbox-pids-limit", () => {
  const policy = "thon-sandbox-pids-limit";
  it("passes the program's sandboxes, each with its docker update --pids-limit command", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice", "bob"] }, "sandbox:\n  pidsLimit: 300\n"));
    expect(find(e, T.command, "thon-pids-bob").inputs.create).toBe("set -eu\ndocker update --pids-limit 300 'thon-bob' >/dev/null");
    expect((await runStackPolicy(policy, e)).violations).toEqual([]);
  });
  it("fails a sandbox without its pids command, and one whose limit is not positive", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice", "bob"] }));
    const without = stackResources(e).filter((r) => r.name !== "thon-pids-alice");
    expect(messages(await runStackPolicy(policy, without), policy)).toEqual([
      "thon-alice has no pids limit: a fork bomb in it would exhaust the host's process table. Set sandbox.pidsLimit",
    ]);
    const zero = stackResources(e).map((r) => (r.name === "thon-pids-bob" ? withProps(r, { create: "docker update --pids-limit 0 'thon-bob'" }) : r));
    expect(messages(await runStackPolicy(policy, zero), policy)).toEqual(["thon-bob has pids limit 0, which means none. Set sandbox.pidsLimit to a positive number"]);
  });
});

describe("thon-sandbox-egress-no-metadata", () => {
  const policy = "thon-sandbox-egress-no-metadata";
  it.each(["internet", "none", "[203.0.113.0/24, 198.51.100.7]"])("passes the program's rules for egress %s", async (egress) => {
    const e = await withEgress(egress);
    const rules = find(e, T.command, "thon-egress-test");
    expect((await runResourcePolicy(policy, rules)).violations).toEqual([]);
  });
  it.each([
    ["[169.254.169.254]", "169.254.169.254"],
    ["[169.254.0.0/16]", "169.254.0.0/16"],
    ["[0.0.0.0/0]", "0.0.0.0/0"],
  ])("fails an allow-list %s that covers the metadata address", async (egress, cidr) => {
    const e = await withEgress(egress);
    const run = await runResourcePolicy(policy, find(e, T.command, "thon-egress-test"));
    expect(messages(run, policy)).toEqual([`thon-egress-test lets sandboxes reach ${cidr}, which covers the cloud metadata address 169.254.169.254`]);
  });
  it("fails internet rules without the metadata drop", async () => {
    const rules = find(await withEgress("internet"), T.command, "thon-egress-test");
    const create = (rules.inputs.create as string).split("\n").filter((l) => !l.includes("169.254.")).join("\n");
    const run = await runResourcePolicy(policy, withProps(rules, { create }));
    expect(messages(run, policy)).toEqual(["thon-egress-test lets sandboxes reach the internet without first dropping the cloud metadata address 169.254.169.254"]);
  });
  it("knows which CIDRs cover the address", () => {
    expect(["169.254.169.254", "169.254.169.254/32", "169.254.0.0/16", "128.0.0.0/1", "0.0.0.0/0"].every(coversMetadata)).toBe(true);
    expect(["169.254.169.253", "169.254.170.0/24", "10.0.0.0/8", "nonsense"].some(coversMetadata)).toBe(false);
  });
});

describe("thon-group-memory", () => {
  const policy = "thon-group-memory";
  const event = (extra: string) =>
    runEvent(toEvent(parseThonFile(`event:\n  name: t\n  host: 127.0.0.1\n  hostMemory: 8GiB\ngroups:\n  data:\n    users: [alice, bob]\n${extra}  web:\n    users: [carol]\n`)));
  it("passes groups whose templates fit the host", async () => {
    expect((await runStackPolicy(policy, await event("    sandbox: { memory: 4GiB }\n"))).violations).toEqual([]);
  });
  it("fails a group template whose sandboxes together exceed the host, and one sandbox above the host", async () => {
    expect(messages(await runStackPolicy(policy, await event("    sandbox: { memory: 5GiB }\n")), policy)).toEqual([
      "group data: 2 running sandboxes may use 10240 MiB together, more than the host's 8192 MiB",
    ]);
    expect(messages(await runStackPolicy(policy, await event("    sandbox: { memory: 9GiB }\n")), policy)).toEqual([
      "thon-alice may use 9216 MiB, more than the host's 8192 MiB",
      "thon-bob may use 9216 MiB, more than the host's 8192 MiB",
      "group data: 2 running sandboxes may use 18432 MiB together, more than the host's 8192 MiB",
    ]);
  });
  it("is not applicable without the host's memory", async () => {
    expect((await runStackPolicy(policy, await runEvent(makeEvent({ a: ["x"] })))).notApplicable).toMatch(/host's memory is not given/);
  });
});
