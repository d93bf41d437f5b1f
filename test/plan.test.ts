import { describe, expect, it } from "vitest";
import { baseUrl, planEvent, planParticipant } from "../infra/plan.ts";
import { makeEvent } from "./support/events.ts";

describe("planner", () => {
  it("derives every name and path from the participant's name alone", () => {
    const plan = planEvent(makeEvent({ alpha: ["alice"] }));
    const alice = plan.participants[0]!;
    expect(alice.resourceNames).toEqual({
      sandbox: "thon-alice",
      container: "thon-alice",
      volume: "thon-workspace-alice",
      password: "thon-password-alice",
      socketDir: "thon-sockets-alice",
      workspaceDir: "thon-workspace-dir-alice",
      stop: "thon-stop-alice",
      proxyConfig: "thon-nginx-alice",
      proxyUpstream: "thon-upstream-alice",
      pidsLimit: "thon-pids-alice",
      homeVolume: "thon-home-alice",
    });
    expect(alice.containerName).toBe("thon-alice");
    expect(alice.workspace).toEqual({ kind: "volume", volumeName: "thon-workspace-alice" });
    expect(alice.home).toEqual({ kind: "volume", volumeName: "thon-home-alice" });
    expect(alice.socketHostDir).toBe("/var/lib/thon/sockets/alice");
    expect(alice.socketHostPath).toBe("/var/lib/thon/sockets/alice/code-server.sock");
    expect(alice.endpointPath).toBe("/alice/");
    expect(alice.url).toBe("https://127.0.0.1/alice/");
    const { group, ...identity } = alice;
    expect(group).toBe("alpha");
    expect(JSON.stringify(identity)).not.toContain("alpha");
  });

  it("keeps the group out of labels, names and paths (labels force a container replacement)", () => {
    const inAlpha = planEvent(makeEvent({ alpha: ["alice"] })).participants[0]!;
    const inBeta = planEvent(makeEvent({ beta: ["alice"] })).participants[0]!;
    const { group: g1, ...rest1 } = inAlpha;
    const { group: g2, ...rest2 } = inBeta;
    expect([g1, g2]).toEqual(["alpha", "beta"]);
    expect(rest1).toEqual(rest2);
    expect(Object.values(inAlpha.labels)).not.toContain("alpha");
  });

  it("leaves everyone's plan unchanged when a participant is added before them", () => {
    const before = planEvent(makeEvent({ alpha: ["bob", "carol"] }));
    const after = planEvent(makeEvent({ alpha: ["alice", "bob", "carol"] }));
    for (const name of ["bob", "carol"]) {
      expect(after.participants.find((p) => p.name === name)).toEqual(before.participants.find((p) => p.name === name));
    }
  });

  it("sorts participants by name whatever the file's order", () => {
    const plan = planEvent(makeEvent({ zeta: ["zoe", "adam"], alpha: ["mia"] }));
    expect(plan.participants.map((p) => p.name)).toEqual(["adam", "mia", "zoe"]);
  });

  it("puts bind-mounted workspaces in a per-participant folder of hostDir", () => {
    const event = makeEvent({ alpha: ["alice"] }, "workspace:\n  mode: bind\n  hostDir: /srv/thon/\n");
    expect(planParticipant(event, event.participants[0]!).workspace).toEqual({ kind: "bind", hostPath: "/srv/thon/alice" });
  });

  it("plans no storage for ephemeral workspaces", () => {
    const event = makeEvent({ alpha: ["alice"] }, "workspace:\n  mode: ephemeral\n");
    expect(planEvent(event).participants[0]!.workspace).toEqual({ kind: "ephemeral" });
  });

  it.each([
    ["127.0.0.1", 443, "https://127.0.0.1/"],
    ["thon.example.org", 8443, "https://thon.example.org:8443/"],
    ["2001:db8::1", 443, "https://[2001:db8::1]/"],
  ])("builds the base URL for host %s on port %i", (host, port, url) => {
    expect(baseUrl({ host, proxy: { httpsPort: port } } as Parameters<typeof baseUrl>[0])).toBe(url);
  });

  it("keeps odd but valid names intact in URLs and paths", () => {
    const plan = planEvent(makeEvent({ a: ["x", "team_7-b", "0day"] }));
    expect(plan.participants.map((p) => p.endpointPath)).toEqual(["/0day/", "/team_7-b/", "/x/"]);
    expect(plan.participants.map((p) => p.containerName)).toEqual(["thon-0day", "thon-team_7-b", "thon-x"]);
  });
});
