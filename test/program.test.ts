// The program under Pulumi's mocks: which resources an event declares, how
// they are named and parented, and that secrets stay secret.
import { describe, expect, it } from "vitest";
import { makeEvent } from "./support/events.ts";
import { parseThonFile } from "../infra/config/load.ts";
import { toEvent } from "../infra/config/event.ts";
import { find, runEvent, T } from "./support/program.ts";

describe("program: one sandbox per participant", () => {
  it("declares a volume, a password, a socket folder and a container for each participant, under their Sandbox", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice", "bob"], beta: ["carol"] }));
    for (const user of ["alice", "bob", "carol"]) {
      const sandbox = find(e, T.sandbox, `thon-${user}`);
      for (const [type, name] of [
        [T.volume, `thon-workspace-${user}`],
        [T.password, `thon-password-${user}`],
        [T.directory, `thon-sockets-${user}`],
        [T.container, `thon-${user}`],
      ] as const) {
        expect(find(e, type, name).parent, `${type} ${name}`).toBe(sandbox.urn);
      }
      expect(find(e, T.command, `thon-sockets-${user}`).parent).toBe(find(e, T.directory, `thon-sockets-${user}`).urn);
    }
    expect(e.resources.filter((r) => r.type === T.container)).toHaveLength(3);
    expect(e.resources.filter((r) => r.type === T.image)).toHaveLength(1);
  });

  it("names Docker objects from the user name and keeps URNs free of groups", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }));
    expect(find(e, T.container, "thon-alice").inputs.name).toBe("thon-alice");
    expect(find(e, T.volume, "thon-workspace-alice").inputs.name).toBe("thon-workspace-alice");
    expect(e.resources.map((r) => r.urn).join("\n")).not.toContain("alpha");
  });

  it("keeps workspace volumes when the participant or the stack goes away", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }));
    const volume = find(e, T.volume, "thon-workspace-alice");
    expect(volume.options.retainOnDelete).toBe(true);
    const container = find(e, T.container, "thon-alice");
    expect(container.inputs.mounts).toContainEqual({ type: "volume", source: "thon-workspace-alice", target: "/workspace" });
    // A replaced container must free its fixed name before the new one is created.
    expect(container.options.deleteBeforeReplace).toBe(true);
  });

  it("runs code-server on a unix socket in the participant's own folder, with no published port", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }));
    const container = find(e, T.container, "thon-alice");
    expect(container.inputs.ports).toBeUndefined();
    expect(container.inputs.mounts).toContainEqual({ type: "bind", source: "/var/lib/thon/sockets/alice", target: "/run/thon" });
    expect(container.inputs.command).toEqual(expect.arrayContaining(["--socket", "/run/thon/code-server.sock", "--socket-mode", "660"]));
    const dir = find(e, T.command, "thon-sockets-alice");
    expect(find(e, T.directory, "thon-sockets-alice").inputs).toEqual({ path: "/var/lib/thon/sockets/alice", mode: "2770", owner: "1000", group: "www-data", keep: false });
    expect(dir.inputs.create).toContain("install -d -m 2770 -o '1000' -g 'www-data' -- '/var/lib/thon/sockets/alice'");
    expect(container.options.dependencies).toContain(dir.urn);
  });

  it("sets limits, restart policy, non-root user, labels and hardening on the container", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }, "sandbox:\n  cpus: 2\n  memory: 3GiB\n"));
    const c = find(e, T.container, "thon-alice").inputs;
    expect(c).toMatchObject({ memory: 3072, memorySwap: 3072, cpus: "2", restart: "unless-stopped", user: "1000:1000", init: true, start: true, mustRun: false });
    expect(c.securityOpts).toEqual(["no-new-privileges:true"]);
    expect(c.capabilities).toEqual({ drops: ["ALL"] });
    expect(c.privileged).toBeUndefined();
    expect(c.labels).toEqual([
      { label: "org.thon.event", value: "test" },
      { label: "org.thon.managed-by", value: "pulumi" },
      { label: "org.thon.user", value: "alice" },
    ]);
  });

  it("injects the organizer's VS Code settings (workspace trust off) beside the participant's, for the entrypoint to merge over them", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }, "sandbox:\n  settings:\n    editor.fontSize: 15\n"));
    const uploads = find(e, T.container, "thon-alice").inputs.uploads as { file: string; content: string; owner: string }[];
    // Not the participant's own file (in the home volume): that one survives new containers.
    expect(uploads.some((u) => u.file === "/home/coder/.local/share/code-server/User/settings.json")).toBe(false);
    const settings = uploads.find((u) => u.file === "/etc/thon/vscode-settings.json")!;
    expect(JSON.parse(settings.content)).toMatchObject({ "security.workspace.trust.enabled": false, "editor.fontSize": 15 });
    expect(settings.owner).toBe("1000");
  });

  it("passes extra environment and the extensions to install", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }, "sandbox:\n  env: { TZ: Europe/Berlin }\n  extensions: [ms-python.python]\n"));
    const envs = find(e, T.container, "thon-alice").inputs.envs as string[];
    expect(envs).toEqual(expect.arrayContaining(["TZ=Europe/Berlin", "THON_EXTENSIONS=ms-python.python", "THON_USER=alice", "THON_EVENT=test"]));
    expect(envs.some((v) => v.startsWith("THON_GROUP"))).toBe(false);
  });
});

describe("program: secrets", () => {
  it("keeps the password secret in the container's environment and in the stack outputs", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }));
    const container = find(e, T.container, "thon-alice");
    expect(container.secretInputs).toEqual(["envs"]);
    const password = (container.inputs.envs as string[]).find((v) => v.startsWith("PASSWORD="))!.slice("PASSWORD=".length);
    expect(password).toHaveLength(24);
    expect(find(e, T.password, "thon-password-alice").inputs).toMatchObject({ length: 24, special: false });
    expect(e.secretOutputs).toContain("participants");
    expect(e.secretOutputs).not.toContain("event");
    expect(e.outputs.participants).toEqual({ alice: { group: "alpha", state: "running", url: "https://127.0.0.1/alice/", password } });
  });

  it("declares no password when auth is none", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }, "sandbox:\n  auth: none\n"));
    expect(e.resources.some((r) => r.type === T.password)).toBe(false);
    const c = find(e, T.container, "thon-alice");
    expect(c.inputs.command).toEqual(expect.arrayContaining(["--auth", "none"]));
    expect((c.inputs.envs as string[]).some((v) => v.startsWith("PASSWORD="))).toBe(false);
    expect((e.outputs.participants as Record<string, object>).alice).not.toHaveProperty("password");
  });
});

describe("program: workspaces and run states", () => {
  it("bind mode creates the participant's folder and mounts it, without a workspace volume (the home stays a volume)", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }, "workspace:\n  mode: bind\n  hostDir: /srv/ws\n"));
    expect(e.resources.filter((r) => r.type === T.volume).map((r) => r.name)).toEqual(["thon-home-alice"]);
    const dir = find(e, T.command, "thon-workspace-dir-alice");
    expect(find(e, T.directory, "thon-workspace-dir-alice").inputs).toEqual({ path: "/srv/ws/alice", mode: "0750", owner: "1000", group: "1000", keep: true });
    expect(dir.inputs.create).toContain("install -d -m 0750 -o '1000' -g '1000' -- '/srv/ws/alice'");
    expect(dir.inputs.delete).toBeUndefined(); // the folder outlives the participant
    expect(find(e, T.container, "thon-alice").inputs.mounts).toContainEqual({ type: "bind", source: "/srv/ws/alice", target: "/workspace" });
  });

  it("ephemeral mode mounts nothing at /workspace", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }, "workspace:\n  mode: ephemeral\n"));
    const mounts = find(e, T.container, "thon-alice").inputs.mounts as { target: string }[];
    expect(mounts.map((m) => m.target)).toEqual(["/run/thon"]);
    expect(e.resources.some((r) => r.type === T.volume)).toBe(false); // no home volume either
  });

  it("declares a stopped participant's container without running it, and stops a running one once", async () => {
    const event = toEvent(parseThonFile(`event: { name: test, host: 127.0.0.1 }
groups:
  alpha:
    users: [alice, { name: bob, state: stopped }]
`));
    const e = await runEvent(event);
    expect(find(e, T.container, "thon-bob").inputs).toMatchObject({ start: false, mustRun: false });
    expect(find(e, T.container, "thon-alice").inputs).toMatchObject({ start: true, mustRun: false });
    const stop = find(e, T.command, "thon-stop-bob");
    expect(stop.inputs.create).toContain("docker stop --time 30 'thon-bob'");
    // Resuming (the command deleted) starts the container: mustRun stays false (idle parking, docs/idle.md).
    expect(stop.inputs.delete).toContain("docker start 'thon-bob'");
    expect(stop.options.deleteBeforeReplace).toBe(true);
    expect(stop.parent).toBe(find(e, T.sandbox, "thon-bob").urn);
    expect(e.resources.some((r) => r.name === "thon-stop-alice")).toBe(false);
    // The password and volume stay: resuming gives the same credentials and files.
    find(e, T.password, "thon-password-bob");
    find(e, T.volume, "thon-workspace-bob");
    expect((e.outputs.participants as Record<string, { state: string }>).bob!.state).toBe("stopped");
  });
});
