// Authentication and passwords: the real program's sandboxes and passwords,
// for events on loopback and beyond, and fabricated bad cases.
import { beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../../infra/preview/evaluate.ts";
import { stackResources } from "../../infra/policy/analyzer.ts";
import { authMode } from "../../policies/access.ts";
import { isLoopback, isPrivateAddress } from "../../policies/lib.ts";
import { makeEvent } from "../support/events.ts";
import { find, runEvent, T } from "../support/program.ts";
import { runResourcePolicy, runStackPolicy, withEventOutput, withProps, WIRE, type PolicyRun, type TestResource } from "../support/policies.ts";

function messages(run: PolicyRun, policy: string): string[] {
  for (const v of run.violations) expect(v.policy).toBe(policy);
  return run.violations.map((v) => v.message);
}

let passwordEvent: Evaluation;
let noAuthEvent: Evaluation;
beforeAll(async () => {
  passwordEvent = await runEvent(makeEvent({ alpha: ["alice", "bob"] }));
  noAuthEvent = await runEvent(makeEvent({ alpha: ["alice", "bob"] }, "sandbox:\n  auth: none\n"));
});

/** The stack's resources with the sandbox containers changed. */
function patchContainers(e: Evaluation, patch: Record<string, unknown>): TestResource[] {
  return stackResources(e).map((r) => (r.type === T.container ? withProps(r, patch) : r));
}

describe("thon-code-server-auth", () => {
  const policy = "thon-code-server-auth";

  it("passes password auth wherever the event is reachable", async () => {
    expect((await runStackPolicy(policy, passwordEvent)).violations).toEqual([]);
    expect((await runStackPolicy(policy, withEventOutput(passwordEvent, { host: "203.0.113.10" }))).violations).toEqual([]);
  });

  it("passes auth none when the event is on loopback only (host 127.0.0.1, no altNames)", async () => {
    expect((await runStackPolicy(policy, noAuthEvent)).violations).toEqual([]);
    expect((await runStackPolicy(policy, withEventOutput(noAuthEvent, { host: "localhost", altNames: ["::1"] }))).violations).toEqual([]);
  });

  it("fails auth none when the event's host is reachable beyond loopback", async () => {
    const run = await runStackPolicy(policy, withEventOutput(noAuthEvent, { host: "203.0.113.10" }));
    expect(messages(run, policy)).toEqual([
      'thon-alice: code-server runs with --auth "none" while the event is reachable at 203.0.113.10. Anyone who can reach it gets a shell',
      'thon-bob: code-server runs with --auth "none" while the event is reachable at 203.0.113.10. Anyone who can reach it gets a shell',
    ]);
    expect(run.violations[0]!.urn).toBe(find(noAuthEvent, T.container, "thon-alice").urn);
  });

  it("fails auth none when only an altName is beyond loopback, and takes the hosts from the config over the output", async () => {
    const alt = await runStackPolicy(policy, withEventOutput(noAuthEvent, { altNames: ["thon.example.org"] }));
    expect(messages(alt, policy)[0]).toMatch(/reachable at thon.example.org/);
    const configured = await runStackPolicy(policy, noAuthEvent, { eventHosts: ["10.1.2.3"] });
    expect(messages(configured, policy)[0]).toMatch(/reachable at 10.1.2.3/);
  });

  it("assumes the event is reachable when nothing says where it is", async () => {
    const run = await runStackPolicy(policy, stackResources(noAuthEvent).filter((r) => r.type !== "pulumi:pulumi:Stack"));
    expect(messages(run, policy)).toHaveLength(2);
    expect(run.violations[0]!.message).toMatch(/could not tell where the event is reachable .* so it assumes beyond loopback/);
  });

  it("fails a command without --auth and a command unknown at preview", async () => {
    const reachable = (patch: Record<string, unknown>) => withEventOutput({ ...passwordEvent, resources: passwordEvent.resources }, { host: "198.51.100.4" }).map((r) => (r.type === T.container ? withProps(r, patch) : r));
    expect(messages(await runStackPolicy(policy, reachable({ command: ["--socket", "/run/thon/code-server.sock"] })), policy)[0]).toMatch(/runs with --auth \(not given\)/);
    expect(messages(await runStackPolicy(policy, reachable({ command: WIRE.unknownArray })), policy)[0]).toMatch(/command is unknown at preview/);
  });

  it("reads --auth in both spellings", () => {
    expect(authMode(["--auth", "password"])).toBe("password");
    expect(authMode(["--auth=none"])).toBe("none");
    expect(authMode(["--socket", "x"])).toBeUndefined();
  });

  it("tells loopback and private addresses apart", () => {
    for (const h of ["127.0.0.1", "127.8.9.10", "::1", "localhost", "0:0:0:0:0:0:0:1"]) expect(isLoopback(h), h).toBe(true);
    for (const h of ["10.0.0.1", "192.0.2.1", "thon.local", "::2"]) expect(isLoopback(h), h).toBe(false);
    for (const h of ["10.2.3.4", "172.16.0.1", "172.31.255.1", "192.168.1.1", "fd00::1", "fe80::1", "100.64.0.1"]) expect(isPrivateAddress(h), h).toBe(true);
    for (const h of ["172.32.0.1", "203.0.113.10", "8.8.8.8", "2001:db8::1"]) expect(isPrivateAddress(h), h).toBe(false);
  });
});

describe("thon-password-strength", () => {
  const policy = "thon-password-strength";

  it("passes the program's passwords (24 characters by default, 16 at least)", async () => {
    expect((await runResourcePolicy(policy, find(passwordEvent, T.password, "thon-password-alice"))).violations).toEqual([]);
    const short = await runEvent(makeEvent({ alpha: ["alice"] }, "sandbox:\n  passwordLength: 16\n"));
    expect((await runResourcePolicy(policy, find(short, T.password, "thon-password-alice"))).violations).toEqual([]);
  });

  it("fails a shorter password, an unknown length, and honours a stricter minLength", async () => {
    const pw = find(passwordEvent, T.password, "thon-password-alice");
    expect(messages(await runResourcePolicy(policy, withProps(pw, { length: 12 })), policy)).toEqual(["thon-password-alice makes 12-character passwords; at least 16 are needed"]);
    expect(messages(await runResourcePolicy(policy, withProps(pw, { length: WIRE.unknownNumber })), policy)).toEqual([
      "thon-password-alice: length is unknown at preview; give a literal length of at least 16",
    ]);
    expect(messages(await runResourcePolicy(policy, pw, { minLength: 32 }), policy)).toEqual(["thon-password-alice makes 24-character passwords; at least 32 are needed"]);
  });
});

describe("thon-sandbox-password-from-random", () => {
  const policy = "thon-sandbox-password-from-random";

  it("passes the program's sandboxes, whose PASSWORD comes from their RandomPassword", async () => {
    expect((await runStackPolicy(policy, passwordEvent)).violations).toEqual([]);
  });

  it("passes while the environment is unknown at preview (a new password)", async () => {
    expect((await runStackPolicy(policy, patchContainers(passwordEvent, { envs: WIRE.unknownArray }))).violations).toEqual([]);
  });

  it("fails a sandbox whose password is a literal (no RandomPassword behind it)", async () => {
    const literal = stackResources(passwordEvent).map((r) =>
      r.type === T.container
        ? {
            ...withProps(r, { envs: ["PASSWORD=hunter2hunter2hunter2", "THON_USER=x"] }),
            // A literal comes from no resource: neither the dependencies nor the environment's per-property ones name a password.
            dependencies: (r.dependencies ?? []).filter((d) => !d.includes("RandomPassword")),
            propertyDependencies: { ...r.propertyDependencies, envs: [] },
          }
        : r,
    );
    const m = messages(await runStackPolicy(policy, literal), policy);
    expect(m).toEqual([
      "thon-alice uses password auth but depends on no random.RandomPassword: its PASSWORD is a literal, readable in the program or thon.yaml",
      "thon-bob uses password auth but depends on no random.RandomPassword: its PASSWORD is a literal, readable in the program or thon.yaml",
    ]);
  });

  it("fails password auth without a PASSWORD in the environment", async () => {
    const m = messages(await runStackPolicy(policy, patchContainers(passwordEvent, { envs: ["THON_USER=alice"] })), policy);
    expect(m[0]).toMatch(/thon-alice uses password auth without a PASSWORD in its environment/);
  });

  it("does not ask auth none sandboxes for a password", async () => {
    expect((await runStackPolicy(policy, noAuthEvent)).violations).toEqual([]);
  });
});
