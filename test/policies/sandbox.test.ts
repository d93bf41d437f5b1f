// Container policies, on the container the real program declares (passing)
// and on copies with one setting changed (failing), as Analyze would see them.
import { beforeAll, describe, expect, it } from "vitest";
import type { RecordedResource } from "../../infra/preview/evaluate.ts";
import { sensitiveHostPath } from "../../policies/sandbox.ts";
import { makeEvent } from "../support/events.ts";
import { find, runEvent, T } from "../support/program.ts";
import { resource, runResourcePolicy, withProps, WIRE, type PolicyRun } from "../support/policies.ts";

let container: RecordedResource;
beforeAll(async () => {
  const e = await runEvent(makeEvent({ alpha: ["alice"] }));
  container = find(e, T.container, "thon-alice");
});

function messages(run: PolicyRun, policy: string): string[] {
  for (const v of run.violations) expect(v.policy).toBe(policy);
  return run.violations.map((v) => v.message);
}

/** A container of the event that is not a sandbox (e.g. a future nginx or APISIX container). */
const serviceContainer = (props: Record<string, unknown> = {}) =>
  resource(T.container, "thon-nginx", { name: "thon-nginx", image: "nginx", labels: [{ label: "org.thon.event", value: "test" }], ...props });

describe("thon-container-not-privileged", () => {
  const policy = "thon-container-not-privileged";
  it("passes the program's sandbox", async () => {
    expect((await runResourcePolicy(policy, container)).violations).toEqual([]);
  });
  it.each([
    [{ privileged: true }, /thon-alice is privileged/],
    [{ capabilities: { adds: ["SYS_ADMIN"], drops: ["ALL"] } }, /adds capability SYS_ADMIN/],
    [{ capabilities: { adds: ["cap_net_admin"] } }, /adds capability cap_net_admin/],
    [{ pidMode: "host" }, /shares the host's namespace \(pidMode: host\)/],
    [{ ipcMode: "host" }, /ipcMode: host/],
    [{ usernsMode: "host" }, /usernsMode: host/],
    [{ devices: [{ hostPath: "/dev/kvm" }] }, /gets host devices/],
    [{ securityOpts: ["no-new-privileges:true", "seccomp=unconfined"] }, /turns a protection off \(securityOpts: seccomp=unconfined\)/],
    [{ securityOpts: ["apparmor:unconfined", "no-new-privileges"] }, /apparmor:unconfined/],
    [{ securityOpts: [] }, /sandbox without no-new-privileges/],
    [{ privileged: WIRE.unknownBoolean }, /privileged is unknown at preview/],
  ])("fails %j", async (patch, expected) => {
    const m = messages(await runResourcePolicy(policy, withProps(container, patch)), policy);
    expect(m.join("\n")).toMatch(expected);
  });
  it("applies to every container of the event, not only sandboxes", async () => {
    expect((await runResourcePolicy(policy, serviceContainer())).violations).toEqual([]);
    const m = messages(await runResourcePolicy(policy, serviceContainer({ privileged: true })), policy);
    expect(m).toEqual(["thon-nginx is privileged: it can take over the host. Remove privileged: true"]);
  });
  it("does not apply to other resource types", async () => {
    const run = await runResourcePolicy(policy, resource(T.volume, "v", { name: "v" }));
    expect(run.violations).toEqual([]);
    expect(run.notApplicable).toMatch(/docker:index\/container:Container/);
  });
});

describe("thon-container-no-host-mounts", () => {
  const policy = "thon-container-no-host-mounts";
  it("passes the program's sandbox (a named volume and the participant's own socket folder)", async () => {
    expect((await runResourcePolicy(policy, container)).violations).toEqual([]);
  });
  it.each([
    ["/var/run/docker.sock", /mounts \/var\/run\/docker.sock .*container engine's socket/],
    ["/run/docker.sock", /container engine's socket/],
    ["/", /the host's root/],
    ["/etc", /the host's \/etc/],
    ["/etc/nginx/thon", /inside the host's \/etc/],
    ["/var", /\/var, which holds \/var\/lib\/docker/],
    ["/var/lib/thon/../docker/volumes", /inside the host's \/var\/lib\/docker/],
    ["/home/", /the host's \/home/],
  ])("fails a bind mount of %s", async (source, expected) => {
    const mounts = [...(container.inputs.mounts as object[]), { type: "bind", source, target: "/host" }];
    const m = messages(await runResourcePolicy(policy, withProps(container, { mounts })), policy);
    expect(m).toHaveLength(1);
    expect(m[0]).toMatch(expected);
  });
  it("fails the legacy volumes form and a bind source unknown at preview", async () => {
    const run = await runResourcePolicy(policy, withProps(container, { volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" }] }));
    expect(messages(run, policy)).toEqual([expect.stringMatching(/mounts \/var\/run\/docker.sock \(volume at "\/var\/run\/docker.sock"\)/)]);
    const unknown = await runResourcePolicy(policy, withProps(container, { mounts: [{ type: "bind", source: WIRE.unknown, target: "/x" }] }));
    expect(messages(unknown, policy)).toEqual([expect.stringMatching(/host path of mount at "\/x" is unknown at preview/)]);
  });
  it("lets workspaces and socket folders under their own paths through", () => {
    for (const ok of ["/var/lib/thon/sockets/alice", "/srv/thon/alice", "/home/organizer/thon/alice", "/data/workspaces/bob"]) expect(sensitiveHostPath(ok), ok).toBeUndefined();
  });
});

describe("thon-sandbox-no-host-network", () => {
  const policy = "thon-sandbox-no-host-network";
  it("passes the program's sandbox on the bridge and with no network", async () => {
    expect((await runResourcePolicy(policy, container)).violations).toEqual([]);
    expect((await runResourcePolicy(policy, withProps(container, { networkMode: "none" }))).violations).toEqual([]);
  });
  it("fails host networking unless the pack's config allows it", async () => {
    const host = withProps(container, { networkMode: "host" });
    expect(messages(await runResourcePolicy(policy, host), policy)).toEqual([expect.stringMatching(/thon-alice uses the host's network \(networkMode: host\)/)]);
    expect((await runResourcePolicy(policy, host, { allowHostNetwork: true })).violations).toEqual([]);
  });
  it("fails another container's network namespace even when host networking is allowed", async () => {
    const run = await runResourcePolicy(policy, withProps(container, { networkMode: "container:thon-bob" }), { allowHostNetwork: true });
    expect(messages(run, policy)).toEqual([expect.stringMatching(/joins another container's network namespace \(container:thon-bob\)/)]);
  });
  it("fails published ports and an unknown network mode", async () => {
    const ports = await runResourcePolicy(policy, withProps(container, { ports: [{ internal: 8080, external: 8080 }] }));
    expect(messages(ports, policy)).toEqual([expect.stringMatching(/publishes ports .*bypassing the HTTPS proxy/)]);
    const unknown = await runResourcePolicy(policy, withProps(container, { networkMode: WIRE.unknown }));
    expect(messages(unknown, policy)).toEqual(["thon-alice: networkMode is unknown at preview"]);
  });
  it("leaves containers that are not sandboxes alone", async () => {
    expect((await runResourcePolicy(policy, serviceContainer({ networkMode: "host" }))).violations).toEqual([]);
  });
});

describe("thon-sandbox-resource-limits", () => {
  const policy = "thon-sandbox-resource-limits";
  it("passes the program's sandbox", async () => {
    expect((await runResourcePolicy(policy, container)).violations).toEqual([]);
  });
  it.each([
    [{ memory: undefined }, "thon-alice has no memory limit (memory: (not set))"],
    [{ memory: 0 }, "thon-alice has no memory limit (memory: 0)"],
    [{ memorySwap: -1 }, "thon-alice may swap without limit (memorySwap: -1); set memorySwap to the memory limit"],
    [{ cpus: undefined }, "thon-alice has no CPU limit (cpus: (not set))"],
    [{ cpus: "0" }, 'thon-alice has no CPU limit (cpus: "0")'],
    [{ memory: WIRE.unknownNumber }, "thon-alice: memory is unknown at preview"],
  ])("fails %j", async (patch, expected) => {
    expect(messages(await runResourcePolicy(policy, withProps(container, patch)), policy)).toEqual([expected]);
  });
  it("accepts a CPU quota instead of cpus", async () => {
    expect((await runResourcePolicy(policy, withProps(container, { cpus: undefined, cpuQuota: 50000, cpuPeriod: 100000 }))).violations).toEqual([]);
  });
});

describe("thon-sandbox-restart-policy", () => {
  const policy = "thon-sandbox-restart-policy";
  it("passes unless-stopped, always and on-failure", async () => {
    for (const restart of ["unless-stopped", "always", "on-failure"]) {
      expect((await runResourcePolicy(policy, withProps(container, { restart }))).violations, restart).toEqual([]);
    }
  });
  it("fails no, a missing policy (the provider's default is no) and an unknown one", async () => {
    expect(messages(await runResourcePolicy(policy, withProps(container, { restart: "no" })), policy)).toEqual(['thon-alice would stay down after a crash or reboot (restart: "no")']);
    expect(messages(await runResourcePolicy(policy, withProps(container, { restart: undefined })), policy)).toEqual(["thon-alice would stay down after a crash or reboot (restart: (not set))"]);
    expect(messages(await runResourcePolicy(policy, withProps(container, { restart: WIRE.unknown })), policy)).toEqual(["thon-alice: restart is unknown at preview"]);
  });
});

describe("thon-sandbox-non-root", () => {
  const policy = "thon-sandbox-non-root";
  it("passes the program's sandbox (1000:1000) and a named user", async () => {
    expect((await runResourcePolicy(policy, container)).violations).toEqual([]);
    expect((await runResourcePolicy(policy, withProps(container, { user: "coder" }))).violations).toEqual([]);
  });
  it.each([
    [{ user: "0" }, ['thon-alice runs with root\'s user 0 (user: "0")']],
    [{ user: "root:root" }, ['thon-alice runs with root\'s user root (user: "root:root")', 'thon-alice runs with root\'s group root (user: "root:root")']],
    [{ user: "1000:0" }, ['thon-alice runs with root\'s group 0 (user: "1000:0")']],
    [{ user: undefined }, ["thon-alice runs as the image's default user, which may be root; set user explicitly"]],
    [{ groupAdds: ["docker"] }, ['thon-alice joins group "docker"']],
    [{ user: WIRE.unknown }, ["thon-alice: user is unknown at preview"]],
  ])("fails %j", async (patch, expected) => {
    expect(messages(await runResourcePolicy(policy, withProps(container, patch)), policy)).toEqual(expected);
  });
});
