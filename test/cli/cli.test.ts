// The thon command, run in-process with captured output, on files in temp folders.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectDir, resolveEventFile } from "../../infra/cli/main.ts";
import { loadEvent } from "../../infra/config/load.ts";
import { COMMENTED_EVENT as COMMENTED, tempEvent, thon } from "../support/cli.ts";

const DEV = join(import.meta.dirname, "../../stacks/dev/thon.yaml");

describe("thon validate", () => {
  it("exits 0 on the dev stack's file", async () => {
    const r = await thon(["validate", DEV]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/valid \(\d+ participants in \d+ groups\)/);
  });

  it("exits 1 and lists every problem with its path", async () => {
    const { file } = tempEvent("event: { name: e, host: 127.0.0.1 }\ngroups:\n  alpha:\n    users: [Alice, bob, bob]\n");
    const r = await thon(["validate", file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("groups.alpha.users[0]");
    expect(r.err).toContain('Fix: write "alice"');
    expect(r.err).toContain("groups.alpha.users[2]");
  });

  it("finds the file through the stack's thon:file setting", () => {
    const dir = mkdtempSync(join(tmpdir(), "thon-stack-"));
    writeFileSync(join(dir, "Pulumi.prod.yaml"), "config:\n  thon:file: events/prod.yaml\n");
    expect(resolveEventFile(dir, undefined, "prod")).toBe(join(dir, "events/prod.yaml"));
    expect(resolveEventFile(dir, undefined, "other")).toBe(join(dir, "thon.yaml"));
  });

  it("finds the project as Pulumi does from a subfolder: the stack file there, thon:file relative to it", () => {
    const project = mkdtempSync(join(tmpdir(), "thon-project-"));
    writeFileSync(join(project, "Pulumi.yaml"), "name: thon\nruntime: nodejs\n");
    writeFileSync(join(project, "Pulumi.prod.yaml"), "config:\n  thon:file: events/prod.yaml\n");
    mkdirSync(join(project, "events", "notes"), { recursive: true });
    expect(projectDir(join(project, "events", "notes"))).toBe(project);
    expect(resolveEventFile(join(project, "events", "notes"), undefined, "prod")).toBe(join(project, "events/prod.yaml"));
    // An explicit file stays relative to where the command runs.
    expect(resolveEventFile(join(project, "events"), "prod.yaml", "prod")).toBe(join(project, "events/prod.yaml"));
  });

  it("exits 2 with the usage on an unknown command", async () => {
    const r = await thon(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown command");
  });
});

describe("thon users / groups: edits keep comments and layout", () => {
  it("adds a participant and keeps every comment", async () => {
    const { file } = tempEvent();
    expect((await thon(["users", "add", "dave", "--group", "beta", "--file", file])).code).toBe(0);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("# Devfest 2026 participants");
    expect(text).toContain("- alice # team lead");
    expect(text).toContain("name: devfest # the event's name");
    expect(loadEvent(file).participants.map((p) => `${p.group}/${p.name}`)).toEqual(["alpha/alice", "alpha/bob", "beta/carol", "beta/dave"]);
  });

  it("moves a participant with their comment", async () => {
    const { file } = tempEvent();
    expect((await thon(["users", "move", "alice", "--to", "beta", "--file", file])).code).toBe(0);
    const event = loadEvent(file);
    expect(event.participants.find((p) => p.name === "alice")!.group).toBe("beta");
    expect(readFileSync(file, "utf8")).toContain("alice # team lead");
  });

  it("removes a participant and says their workspace is kept", async () => {
    const { file } = tempEvent();
    const r = await thon(["users", "remove", "bob", "--file", file]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("workspace is kept");
    expect(loadEvent(file).participants.map((p) => p.name)).toEqual(["alice", "carol"]);
  });

  it("stops and starts one participant", async () => {
    const { file } = tempEvent();
    await thon(["users", "stop", "bob", "--file", file]);
    expect(loadEvent(file).participants.find((p) => p.name === "bob")!.state).toBe("stopped");
    // In the file's own flow style (it writes `[carol]`, not `[ carol ]`).
    expect(readFileSync(file, "utf8")).toContain("{name: bob, state: stopped}");
    expect(readFileSync(file, "utf8")).toContain("users: [carol]");
    await thon(["users", "start", "bob", "--file", file]);
    expect(loadEvent(file).participants.find((p) => p.name === "bob")!.state).toBe("running");
  });

  it("stops a whole group and adds and removes groups", async () => {
    const { file } = tempEvent();
    await thon(["groups", "stop", "alpha", "--file", file]);
    expect(loadEvent(file).participants.filter((p) => p.state === "stopped").map((p) => p.name)).toEqual(["alice", "bob"]);
    await thon(["groups", "add", "gamma", "--file", file]);
    await thon(["users", "add", "erin", "--group", "gamma", "--file", file]);
    expect(loadEvent(file).groups.map((g) => g.name)).toEqual(["alpha", "beta", "gamma"]);
    const refused = await thon(["groups", "remove", "gamma", "--file", file]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('group "gamma" still has 1 participant(s)');
  });

  it("refuses an edit that would make the file invalid, and leaves the file untouched", async () => {
    const { file } = tempEvent();
    const r1 = await thon(["users", "add", "carol", "--group", "alpha", "--file", file]);
    expect(r1.code).toBe(1);
    expect(r1.err).toContain('"carol" is already in group "beta"');
    const r2 = await thon(["users", "add", "healthz", "--group", "alpha", "--file", file]);
    expect(r2.code).toBe(1);
    expect(r2.err).toContain('"healthz" is reserved');
    expect(readFileSync(file, "utf8")).toBe(COMMENTED);
    expect(existsSync(`${file}.thon-tmp`)).toBe(false);
  });

  it("rejects a malformed name before touching the file", async () => {
    const { file } = tempEvent();
    const r = await thon(["users", "add", "Eve!", "--group", "alpha", "--file", file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('"Eve!" is not a valid participant name');
    expect(readFileSync(file, "utf8")).toBe(COMMENTED);
  });
});

/** A folder with a Pulumi.yaml, as `thon init` needs (issue 13, defect 6). */
function tempProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "thon-project-"));
  writeFileSync(join(dir, "Pulumi.yaml"), "name: thon\nruntime: nodejs\n");
  return dir;
}

describe("thon init", () => {
  it("writes a valid, commented thon.yaml and the stack config from flags", async () => {
    const r = await thon(["init", "--non-interactive", "--name", "jam", "--host", "jam.example.org", "--group", "red=ann,ben", "--group", "blue=cy", "--stack", "jam"], tempProject());
    expect(r.code).toBe(0);
    const event = loadEvent(join(r.cwd, "thon.yaml"));
    expect(event).toMatchObject({ name: "jam", host: "jam.example.org" });
    expect(event.participants.map((p) => `${p.group}/${p.name}`)).toEqual(["red/ann", "red/ben", "blue/cy"].sort((a, b) => a.split("/")[1]!.localeCompare(b.split("/")[1]!)));
    expect(readFileSync(join(r.cwd, "thon.yaml"), "utf8")).toMatch(/^# yaml-language-server: \$schema=\S+\n# THON event file/);
    expect(readFileSync(join(r.cwd, "Pulumi.jam.yaml"), "utf8")).toContain("thon:file: thon.yaml");
    expect(resolveEventFile(r.cwd, undefined, "jam")).toBe(join(r.cwd, "thon.yaml"));
  });

  it("run in a subfolder of a project, writes the stack file next to Pulumi.yaml with thon:file relative to it", async () => {
    const project = mkdtempSync(join(tmpdir(), "thon-project-"));
    writeFileSync(join(project, "Pulumi.yaml"), "name: thon\nruntime: nodejs\n");
    mkdirSync(join(project, "stacks", "jam"), { recursive: true });
    const r = await thon(["init", "--non-interactive", "--name", "jam", "--host", "h", "--group", "a=b", "--stack", "jam"], join(project, "stacks", "jam"));
    expect(r.code).toBe(0);
    expect(existsSync(join(project, "stacks", "jam", "thon.yaml"))).toBe(true);
    expect(readFileSync(join(project, "Pulumi.jam.yaml"), "utf8")).toContain("thon:file: stacks/jam/thon.yaml");
    expect(r.out).toContain("next: npx thon validate thon.yaml && pulumi up --stack jam");
  });

  it("asks for what the flags do not give", async () => {
    const r = await thon(["init"], tempProject(), ["quiz", "10.0.0.5", "a=x,y", "", "none", "ephemeral"]);
    expect(r.code).toBe(0);
    const event = loadEvent(join(r.cwd, "thon.yaml"));
    expect(event).toMatchObject({ name: "quiz", host: "10.0.0.5", workspace: { mode: "ephemeral" } });
    expect(event.sandbox.auth).toBe("none");
  });

  it("does not overwrite an existing thon.yaml, and writes nothing invalid", async () => {
    const { dir } = tempEvent();
    const r = await thon(["init", "--non-interactive", "--name", "x", "--host", "h", "--group", "a=b"], dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain("exists; pass --force");
    const bad = await thon(["init", "--non-interactive", "--name", "Bad Name", "--host", "h", "--group", "a=b"], tempProject());
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("event.name");
    expect(existsSync(join(bad.cwd, "thon.yaml"))).toBe(false);
  });
});

describe("thon plan", () => {
  it("lists a volume, a container and a password per participant of the dev stack, named from the user", async () => {
    const r = await thon(["plan", "--json", DEV]);
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.out) as { type: string; name: string; urn: string; inputsHash: string }[];
    for (const user of loadEvent(DEV).participants.map((p) => p.name)) {
      const names = entries.filter((e) => e.name.endsWith(`-${user}`) || e.name === `thon-${user}`).map((e) => `${e.type}::${e.name}`);
      expect(names).toEqual(expect.arrayContaining([
        `docker:index/volume:Volume::thon-workspace-${user}`,
        `docker:index/container:Container::thon-${user}`,
        `random:index/randomPassword:RandomPassword::thon-password-${user}`,
      ]));
    }
    expect(entries.every((e) => /^[0-9a-f]{16}$/.test(e.inputsHash) && e.urn.startsWith("urn:pulumi:dev::thon::"))).toBe(true);
  });

  it("shows what a change would do with --against", async () => {
    const { dir, file } = tempEvent();
    const old = join(dir, "old.yaml");
    writeFileSync(old, COMMENTED);
    await thon(["users", "add", "dave", "--group", "alpha", "--file", file]);
    const r = await thon(["plan", file, "--against", old]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("+  docker:index/container:Container  thon-dave");
    expect(r.out).toContain("+  command:local:Command  thon-nginx-dave");
    expect(r.out).toContain("+  command:local:Command  thon-upstream-dave");
    expect(r.out).toContain("+  docker:index/volume:Volume  thon-home-dave");
    expect(r.out).toContain("~  command:local:Command  thon-proxy-reload  [stdin]");
    expect(r.out).toContain("+  thon:host:File  thon-nginx-dave");
    // Their socket folder and two nginx files are each a thon:host:* component and its command; plus the pids limit and the home volume.
    expect(r.out).toContain("12 to create, 1 to update, 0 to replace, 0 to delete");
  });

  it("fails with the file's problems, before declaring anything", async () => {
    const { file } = tempEvent("event: { name: e, host: 127.0.0.1 }\ngroups: { a: { users: [Bad] } }\n");
    const r = await thon(["plan", file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("groups.a.users[0]");
  });
});

describe("thon credentials", () => {
  const outputs = {
    event: { name: "devfest", caCertUrl: "https://127.0.0.1/ca.crt" },
    participants: {
      bob: { group: "alpha", state: "running", url: "https://127.0.0.1/bob/", password: "pw,with\"quote" },
      alice: { group: "alpha", state: "running", url: "https://127.0.0.1/alice/", password: "p<a>ss" },
    },
  };

  it("prints a table, CSV and HTML cards from saved stack outputs", async () => {
    const { dir } = tempEvent();
    writeFileSync(join(dir, "out.json"), JSON.stringify(outputs));
    const table = await thon(["credentials", "--from", "out.json"], dir);
    expect(table.out.split("\n")[2]).toMatch(/^alice\s+alpha\s+running\s+https:\/\/127\.0\.0\.1\/alice\/\s+p<a>ss$/);
    const csv = await thon(["credentials", "--from", "out.json", "--csv"], dir);
    expect(csv.out).toBe('name,group,state,url,password,apiKey\r\nalice,alpha,running,https://127.0.0.1/alice/,p<a>ss,\r\nbob,alpha,running,https://127.0.0.1/bob/,"pw,with""quote",\r\n');
    const html = await thon(["credentials", "--from", "out.json", "--html"], dir);
    expect(html.out).toContain("<code>p&lt;a&gt;ss</code>");
    expect(html.out).toContain("https://127.0.0.1/ca.crt");
    expect(html.out.match(/<section class="card">/g)).toHaveLength(2);
  });

  it("reads the outputs through `pulumi stack output --json --show-secrets`", async () => {
    const { dir } = tempEvent();
    const bin = mkdtempSync(join(tmpdir(), "thon-fake-pulumi-"));
    // A stand-in for the Pulumi CLI that records its arguments and prints outputs.
    writeFileSync(join(bin, "pulumi"), `#!/bin/sh\necho "$@" > "${bin}/args"\ncat <<'EOF'\n${JSON.stringify(outputs)}\nEOF\n`);
    chmodSync(join(bin, "pulumi"), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const r = await thon(["credentials", "--stack", "prod", "--json"], dir);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out).map((row: { name: string }) => row.name)).toEqual(["alice", "bob"]);
      expect(readFileSync(join(bin, "args"), "utf8").trim()).toBe("stack output --json --show-secrets --stack prod");
    } finally {
      process.env.PATH = path;
    }
  });

  it("asks Pulumi in the project's folder when run from a subfolder (the file backend's state is found from there)", async () => {
    const project = mkdtempSync(join(tmpdir(), "thon-project-"));
    writeFileSync(join(project, "Pulumi.yaml"), "name: thon\nruntime: nodejs\n");
    mkdirSync(join(project, "cards"));
    const bin = mkdtempSync(join(tmpdir(), "thon-fake-pulumi-"));
    writeFileSync(join(bin, "pulumi"), `#!/bin/sh\npwd > "${bin}/cwd"\ncat <<'EOF'\n${JSON.stringify(outputs)}\nEOF\n`);
    chmodSync(join(bin, "pulumi"), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const r = await thon(["credentials", "--stack", "prod", "--csv"], join(project, "cards"));
      expect(r.code).toBe(0);
      expect(readFileSync(join(bin, "cwd"), "utf8").trim()).toBe(project);
    } finally {
      process.env.PATH = path;
    }
  });

  it("explains hidden secrets and a missing Pulumi CLI", async () => {
    const { dir } = tempEvent();
    writeFileSync(join(dir, "hidden.json"), JSON.stringify({ participants: "[secret]" }));
    const hidden = await thon(["credentials", "--from", "hidden.json"], dir);
    expect(hidden.code).toBe(1);
    expect(hidden.err).toContain("--show-secrets");
    const path = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), "thon-empty-path-"));
    try {
      const missing = await thon(["credentials"], dir);
      expect(missing.code).toBe(1);
      expect(missing.err).toContain("the Pulumi CLI is not installed here");
    } finally {
      process.env.PATH = path;
    }
  });
});

describe("thon purge", () => {
  it("refuses to delete the workspace of someone still in the event", async () => {
    const { file } = tempEvent();
    const r = await thon(["purge", "alice", "--yes", "--file", file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("alice is still in");
  });

  it("asks for --yes before deleting anything", async () => {
    const { file } = tempEvent();
    const r = await thon(["purge", "zed", "--file", file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("thon-workspace-zed");
    expect(r.err).toContain("add --yes");
  });
});
