// The program's sandboxes under mocks (issue 17): the event network and its
// rules, limits, the home volume, per-group templates and sandbox.packages.
import { describe, expect, it } from "vitest";
import { planNetwork } from "../infra/plan.ts";
import { egressApplyScript } from "../infra/render/egress.ts";
import { parseThonFile } from "../infra/config/load.ts";
import { toEvent } from "../infra/config/event.ts";
import { eventYaml, makeEvent } from "./support/events.ts";
import { find, runEvent, T } from "./support/program.ts";

const NETWORK = "docker:index/network:Network";

describe("program: the event network", () => {
  it("puts every sandbox on thon-net-<event>, a bridge with inter-container traffic off, and declares its rules", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice", "bob"] }));
    const net = find(e, NETWORK, "thon-net-test");
    expect(net.inputs).toMatchObject({ name: "thon-net-test", driver: "bridge", options: { "com.docker.network.bridge.enable_icc": "false", "com.docker.network.bridge.name": planNetwork(makeEvent({ a: ["x"] })).bridge } });
    for (const u of ["alice", "bob"]) expect(find(e, T.container, `thon-${u}`).inputs.networkMode).toBe("thon-net-test");
    const rules = find(e, T.command, "thon-egress-test");
    expect(rules.inputs.create).toContain("-j DROP");
    expect(rules.inputs.delete).toContain("ipt -X");
    expect(rules.options.dependencies).toContain(net.urn);
  });
  it("declares no event network or rules when sandbox.network names another network", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }, "sandbox:\n  network: none\n"));
    expect(e.resources.some((r) => r.type === NETWORK || r.name.startsWith("thon-egress-"))).toBe(false);
    expect(find(e, T.container, "thon-alice").inputs.networkMode).toBe("none");
  });
  it("opens the gateway's port on the host, not Lemonade's, when the gateway is on", () => {
    const event = makeEvent({ a: ["x"] }, "lemonade: { enabled: true }\ngateway: { enabled: true, port: 9080 }\n");
    expect(planNetwork(event).hostPorts).toEqual([9080]);
    const script = egressApplyScript({ network: planNetwork(event), egress: "internet" });
    expect(script).toContain("--dport 9080 -j ACCEPT");
    expect(script).not.toContain(`--dport ${event.lemonade.port}`);
  });
});

describe("program: limits and the home", () => {
  it("sets nofile on the container and the pids limit with a command per container", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }, "sandbox:\n  pidsLimit: 512\n  nofile: 4096\n"));
    const c = find(e, T.container, "thon-alice");
    expect(c.inputs.ulimits).toEqual([{ name: "nofile", soft: 4096, hard: 4096 }]);
    const pids = find(e, T.command, "thon-pids-alice");
    expect(pids.inputs.create).toContain("docker update --pids-limit 512 'thon-alice'");
    expect(pids.options.dependencies).toContain(c.urn);
    // Log caps stay.
    expect(c.inputs.logOpts).toEqual({ "max-size": "10m", "max-file": "3" });
  });
  it("gives each participant a home volume, retained like the workspace, mounted at /home/coder", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }, "sandbox:\n  workspaceSize: 5GiB\n"));
    const home = find(e, T.volume, "thon-home-alice");
    expect(home.options.retainOnDelete).toBe(true);
    expect(find(e, T.volume, "thon-workspace-alice").inputs.driverOpts).toEqual({ size: "5120m" });
    expect(find(e, T.container, "thon-alice").inputs.mounts).toContainEqual({ type: "volume", source: "thon-home-alice", target: "/home/coder" });
  });
});

describe("program: group templates and packages", () => {
  const templated = (extra = "") =>
    toEvent(parseThonFile(eventYaml({ data: ["alice"], web: ["bob"] }, extra).replace("  data:\n", "  data:\n    sandbox: { image: ds:1, env: { TRACK: data }, settings: { editor.fontSize: 16 } }\n")));

  it("gives a group its own image, env and settings; the other group keeps the event's", async () => {
    const e = await runEvent(templated());
    const own = find(e, T.image, "thon-sandbox-image-data");
    expect(own.inputs.name).toBe("ds:1");
    const alice = find(e, T.container, "thon-alice").inputs;
    const bob = find(e, T.container, "thon-bob").inputs;
    expect(alice.envs).toContain("TRACK=data");
    expect(bob.envs).not.toContain("TRACK=data");
    expect(alice.image).not.toBe(bob.image);
    const settingsOf = (c: typeof alice) => JSON.parse((c.uploads as { file: string; content: string }[]).find((u) => u.file === "/etc/thon/vscode-settings.json")!.content) as Record<string, unknown>;
    expect(settingsOf(alice)["editor.fontSize"]).toBe(16);
    expect(settingsOf(bob)["editor.fontSize"]).toBeUndefined();
  });

  it("builds sandbox.packages on top of the image with a host command whose output is the image every container runs", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }, "sandbox:\n  packages: [postgresql-client, graphviz]\n"));
    const build = find(e, T.command, "thon-sandbox-image-packages");
    expect(build.inputs.create).toContain("apt-get install -y --no-install-recommends graphviz postgresql-client");
    expect(build.inputs.create).toContain("docker build -q -t");
    expect(find(e, T.container, "thon-alice").options.dependencies).toContain(build.urn);
  });
});
