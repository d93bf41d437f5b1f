// Issue 13's defects 1-7, each with the test that failed before its fix, and
// the new declarative verbs (users rename, groups rename, credentials --user).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { buildCli, main } from "../../infra/cli/main.ts";
import * as edit from "../../infra/cli/edit.ts";
import { loadEvent, parseThonFile } from "../../infra/config/load.ts";
import { toEvent } from "../../infra/config/event.ts";
import { COMMENTED_EVENT as EVENT, tempEvent, thon } from "../support/cli.ts";

const ROOT = join(import.meta.dirname, "../..");

function tempProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "thon-project-"));
  writeFileSync(join(dir, "Pulumi.yaml"), "name: thon\nruntime: nodejs\n");
  return dir;
}

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe("defect 1: bad flags give one line and the usage, exit 2, never a stack trace", () => {
  it("an unknown option at the top", async () => {
    const r = await thon(["--bogus"]);
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toBe("thon: unknown option '--bogus'");
    expect(r.err).toContain("usage: thon ");
    noStack(r.err);
  });

  it("a missing value names the option and shows the subcommand's usage", async () => {
    const { file } = tempEvent();
    const r = await thon(["users", "add", "bob", "--group", "--file", file]);
    // commander reads "--file" as the group's value here, then misses --file's: both name an option.
    expect(r.code).toBe(2);
    const r2 = await thon(["users", "add", "bob", "--group"]);
    expect(r2.code).toBe(2);
    expect(r2.err.split("\n")[0]).toBe("thon: option '--group <group>' argument missing");
    expect(r2.err).toContain("usage: thon users add [options] <user>");
    noStack(r.err + r2.err);
    expect(readFileSync(file, "utf8")).toBe(EVENT);
  });

  it("an option of another subcommand is refused, not ignored", async () => {
    const { file } = tempEvent();
    const r = await thon(["users", "add", "dave", "--group", "alpha", "--csv", "--file", file]);
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toBe("thon: unknown option '--csv'");
    expect(r.err).toContain("usage: thon users add");
    expect(readFileSync(file, "utf8")).toBe(EVENT);
  });

  it("each subcommand has its own --help", async () => {
    const r = await thon(["users", "add", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Usage: thon users add [options] <user>");
    expect(r.out).toContain("--create-group");
    expect(r.out).not.toContain("--csv");
    const c = await thon(["credentials", "--help"]);
    expect(c.out).toContain("--user <name>");
  });

  it("the real binary: no stack trace on a bad flag, and unexpected errors are one line unless THON_DEBUG=1", () => {
    const bin = join(ROOT, "bin/thon.mjs");
    const bad = spawnSync(process.execPath, [bin, "users", "add", "bob", "--group"], { encoding: "utf8", timeout: 60_000 });
    expect(bad.status).toBe(2);
    noStack(bad.stderr);
    const dir = mkdtempSync(join(tmpdir(), "thon-cli-"));
    const missing = spawnSync(process.execPath, [bin, "check", "--from", "nope.json"], { cwd: dir, encoding: "utf8", timeout: 60_000, env: { ...process.env, THON_DEBUG: "" } });
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/^thon check: ENOENT/);
    const debug = spawnSync(process.execPath, [bin, "check", "--from", "nope.json"], { cwd: dir, encoding: "utf8", timeout: 60_000, env: { ...process.env, THON_DEBUG: "1" } });
    expect(debug.stderr).toMatch(/^\s+at /m);
  });

  it("buildCli exposes users and groups for others to extend before parsing", async () => {
    const program = buildCli({ out: () => {}, err: () => {}, cwd: tmpdir() });
    expect(program.commands.find((c) => c.name() === "users")?.commands.map((c) => c.name())).toEqual(["add", "remove", "move", "rename", "stop", "start"]);
    expect(program.commands.find((c) => c.name() === "groups")?.commands.map((c) => c.name())).toEqual(["add", "remove", "rename", "stop", "start"]);
    let ran = "";
    const r = await main(["users", "restart", "alice"], { out: () => {}, err: () => {}, cwd: tmpdir() }, (p) => {
      p.commands.find((c) => c.name() === "users")!.command("restart <user>").action((u: string) => void (ran = u));
    });
    expect(r).toBe(0);
    expect(ran).toBe("alice");
  });
});

describe("defect 2: the README's setup order (pulumi stack init, then thon init) works", () => {
  // What `pulumi stack init myevent --secrets-provider passphrase` writes, plus a
  // secret set with `pulumi config set --secret` (Pulumi's own layout).
  const PULUMI_WRITTEN = `secretsprovider: passphrase
encryptionsalt: v1:3Jq1n9mqOeQ=:v1:Jdx8SO2eV2XxWd7u:k3f7Vn0tGb7e0l1y3g1cDw==
config:
  thon:apisixAdminKey:
    secure: v1:9YyD4bq2hQeQb4i2:7o8bIeX4Zq1d6m2G1VqC2o3x6vE=
`;

  it("npx thon init --stack myevent edits Pulumi.myevent.yaml and keeps what is in it", async () => {
    const project = tempProject();
    writeFileSync(join(project, "Pulumi.myevent.yaml"), PULUMI_WRITTEN);
    // Exactly the README's command; the answers as an organizer types them.
    const r = await thon(["init", "--stack", "myevent"], project, ["myevent", "127.0.0.1", "alpha=alice,bob", ""]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const stack = readFileSync(join(project, "Pulumi.myevent.yaml"), "utf8");
    expect(stack).toBe(PULUMI_WRITTEN + "  thon:file: thon.yaml\n");
    expect(loadEvent(join(project, "thon.yaml")).participants.map((p) => p.name)).toEqual(["alice", "bob"]);
  });

  it("another thon:file is only replaced with --force", async () => {
    const project = tempProject();
    writeFileSync(join(project, "Pulumi.myevent.yaml"), `${PULUMI_WRITTEN}  thon:file: events/old.yaml\n`);
    const args = ["init", "--non-interactive", "--stack", "myevent", "--group", "a=b"];
    const r = await thon(args, project);
    expect(r.code).toBe(1);
    expect(r.err).toContain('its thon:file is already "events/old.yaml"; pass --force');
    expect(existsSync(join(project, "thon.yaml"))).toBe(false);
    // Interactive: refused before the first question, so no answer is lost.
    const asked = await thon(["init", "--stack", "myevent"], project, ["x"]);
    expect(asked.code).toBe(1);
    expect(asked.asked).toEqual([]);
    const forced = await thon([...args, "--force"], project);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(project, "Pulumi.myevent.yaml"), "utf8")).toContain("encryptionsalt: v1:3Jq1n9mqOeQ=");
    expect(readFileSync(join(project, "Pulumi.myevent.yaml"), "utf8")).toContain("thon:file: thon.yaml");
  });
});

describe("defect 3: a typo in a group name is refused, not a new group", () => {
  it("users add and users move name the existing groups; --create-group means it", async () => {
    const { file } = tempEvent();
    const add = await thon(["users", "add", "erin", "--group", "gamma", "--file", file]);
    expect(add.code).toBe(1);
    expect(add.err).toContain('there is no group "gamma" in thon.yaml (groups: alpha, beta)');
    expect(add.err).toContain("--create-group");
    const move = await thon(["users", "move", "alice", "--to", "nowhere", "--file", file]);
    expect(move.code).toBe(1);
    expect(move.err).toContain('there is no group "nowhere"');
    expect(readFileSync(file, "utf8")).toBe(EVENT);
    expect((await thon(["users", "add", "erin", "--group", "gamma", "--create-group", "--file", file])).code).toBe(0);
    expect((await thon(["users", "move", "alice", "--to", "delta", "--create-group", "--file", file])).code).toBe(0);
    expect(loadEvent(file).participants.map((p) => `${p.group}/${p.name}`)).toEqual(["delta/alice", "alpha/bob", "beta/carol", "gamma/erin"]);
  });

  it("the edit functions say which field", () => {
    expect(() => edit.addUser(EVENT, "erin", "gamma")).toThrow(expect.objectContaining({ field: "groups.gamma" }));
  });
});

describe("defect 4: a participant's state is inherited or overridden, never both by accident", () => {
  type Verb = "users stop" | "users start" | "groups stop" | "groups start";
  const verbs: Verb[] = ["users stop", "users start", "groups stop", "groups start"];
  const apply = (text: string, verb: Verb) => {
    const state = verb.endsWith("stop") ? "stopped" : "running";
    return verb.startsWith("users") ? edit.setUserState(text, "alice", state) : edit.setGroupState(text, "alpha", state);
  };
  const sequences = (n: number): Verb[][] => (n === 0 ? [[]] : sequences(n - 1).flatMap((s) => verbs.map((v) => [...s, v])));

  it("after every sequence of up to four verbs, alice does what the last verb said, bob what the last group verb said", () => {
    let checked = 0;
    for (const base of ["running", "stopped"] as const) {
      const start = base === "running" ? EVENT : EVENT.replace("groups:", "sandbox:\n  state: stopped\ngroups:");
      for (let n = 1; n <= 4; n++) {
        for (const seq of sequences(n)) {
          let text = start;
          for (const verb of seq) text = apply(text, verb);
          const event = toEvent(parseThonFile(text));
          const state = (name: string) => event.participants.find((p) => p.name === name)!.state;
          const intent = (v: Verb | undefined, fallback: string) => (v === undefined ? fallback : v.endsWith("stop") ? "stopped" : "running");
          expect(state("alice"), seq.join(", ")).toBe(intent(seq.at(-1), base));
          expect(state("bob"), seq.join(", ")).toBe(intent(seq.filter((v) => v.startsWith("groups")).at(-1), base));
          // An override is there only when it differs from the group's state.
          const alpha = (parseYaml(text) as { groups: { alpha: { state?: string; users: unknown[] } } }).groups.alpha;
          const own = (alpha.users[0] as { state?: string }).state;
          if (own !== undefined) expect(own, seq.join(", ")).not.toBe(alpha.state ?? base);
          expect(text, seq.join(", ")).toContain("# team lead");
          checked++;
        }
      }
    }
    expect(checked).toBe(2 * (4 + 16 + 64 + 256));
  });

  it("the reported case: users start, then groups stop, stops the user", async () => {
    const { file } = tempEvent();
    await thon(["users", "stop", "alice", "--file", file]);
    await thon(["users", "start", "alice", "--file", file]);
    expect(readFileSync(file, "utf8")).toContain("- alice # team lead");
    await thon(["groups", "stop", "alpha", "--file", file]);
    expect(loadEvent(file).participants.find((p) => p.name === "alice")!.state).toBe("stopped");
  });
});

describe("defect 5: the interactive init checks each answer when it is given", () => {
  it("asks again after a bad answer and keeps the others", async () => {
    const project = tempProject();
    const r = await thon(["init"], project, [
      "Big Event", "jam", // name: refused, then fine
      "300.1.1.1", "jam.example.org", // host
      "alpha=alice,bob", "beta=Carol", "beta=carol", "", // groups: beta=Carol asked again
      "maybe", "none", // auth
      "bind", "relative/dir", "/srv/jam", // workspace and its folder
      "selfsigned", "y", "y", // TLS, Lemonade, gateway
    ]);
    expect(r.code).toBe(0);
    expect(r.left).toEqual([]);
    expect(r.err).toContain("event.name must be");
    expect(r.err).toContain('"Carol": a participant name must be');
    expect(r.err).toContain("try again");
    const event = loadEvent(join(project, "thon.yaml"));
    expect(event).toMatchObject({ name: "jam", host: "jam.example.org", workspace: { mode: "bind", hostDir: "/srv/jam" } });
    expect(event.participants.map((p) => `${p.group}/${p.name}`)).toEqual(["alpha/alice", "alpha/bob", "beta/carol"]);
    expect(event.sandbox.auth).toBe("none");
    expect(event.tls.mode).toBe("selfsigned");
    expect(event.lemonade.enabled).toBe(true);
    expect(event.gateway.enabled).toBe(true);
  });

  it("--gateway without --lemonade is a flag error", async () => {
    const project = tempProject();
    const r = await thon(["init", "--non-interactive", "--group", "a=b", "--gateway"], project);
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toBe("thon: --gateway fronts Lemonade: add --lemonade, or leave out --gateway");
    expect(r.err).not.toContain("thon.yaml:");
    expect(readdirSync(project)).toEqual(["Pulumi.yaml"]);
  });

  it("the flags cover the same: TLS mode, bind folder, Lemonade and the gateway", async () => {
    const project = tempProject();
    const r = await thon(["init", "--non-interactive", "--group", "a=b", "--tls", "selfsigned", "--workspace", "bind", "--workspace-dir", "/srv/x", "--lemonade", "--gateway"], project);
    expect(r.code).toBe(0);
    const event = loadEvent(join(project, "thon.yaml"));
    expect(event).toMatchObject({ tls: { mode: "selfsigned" }, workspace: { mode: "bind", hostDir: "/srv/x" }, lemonade: { enabled: true }, gateway: { enabled: true } });
    const bad = await thon(["init", "--non-interactive", "--group", "a=b", "--tls", "acme"], tempProject());
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("'acme' is invalid");
  });

  it("points the first line at the JSON schema, relative to the file", async () => {
    const project = tempProject();
    mkdirSync(join(project, "events"));
    await thon(["init", "--non-interactive", "--group", "a=b", "--out", "events/jam.yaml"], project);
    const first = readFileSync(join(project, "events/jam.yaml"), "utf8").split("\n")[0]!;
    const schema = first.replace("# yaml-language-server: $schema=", "");
    expect(join(project, "events", schema)).toBe(join(project, "events", schema)); // a relative path...
    expect(join(project, "events", schema).endsWith("docs/thon.schema.json")).toBe(true);
    expect(schema.startsWith("/")).toBe(false);
  });
});

describe("defect 6: init outside a project says where the project is and writes nothing", () => {
  it("refuses without a Pulumi.yaml here or above", async () => {
    const dir = mkdtempSync(join(tmpdir(), "thon-noproject-"));
    const r = await thon(["init", "--non-interactive", "--group", "a=b"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`no Pulumi.yaml in ${dir} or above`);
    expect(r.err).toContain(ROOT);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("defect 7: thon groups names the next step", () => {
  it("every groups verb says what to run next", async () => {
    const { file } = tempEvent();
    for (const args of [["add", "gamma"], ["stop", "alpha"], ["start", "alpha"], ["rename", "gamma", "delta"], ["remove", "delta"]]) {
      const r = await thon(["groups", ...args, "--file", file, "--stack", "jam"]);
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.out, args.join(" ")).toMatch(/`pulumi up --stack jam`|`thon users add <user> --group gamma`/);
    }
  });
});

describe("declarative verbs: users rename, groups rename, credentials --user", () => {
  it("renames a participant in place, with their comment and state", async () => {
    const { file } = tempEvent();
    await thon(["users", "stop", "alice", "--file", file]);
    const r = await thon(["users", "rename", "alice", "alicia", "--file", file]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("alice's workspace is kept");
    // The file writes flow collections tight (`[carol]`), so the new entry follows it (keepStyle).
    expect(readFileSync(file, "utf8")).toContain("- {name: alicia, state: stopped} # team lead");
    const clash = await thon(["users", "rename", "bob", "carol", "--file", file]);
    expect(clash.code).toBe(1);
    expect(clash.err).toContain('"carol" is already in group "beta"');
  });

  it("renames a group in place", async () => {
    const { file } = tempEvent();
    expect((await thon(["groups", "rename", "alpha", "red", "--file", file])).code).toBe(0);
    expect(loadEvent(file).groups.map((g) => g.name)).toEqual(["beta", "red"]);
    expect(readFileSync(file, "utf8")).toContain("  red:\n    users:\n      - alice # team lead");
    expect((await thon(["groups", "rename", "nope", "x", "--file", file])).code).toBe(1);
  });

  it("re-prints one participant's card", async () => {
    const { dir } = tempEvent();
    writeFileSync(join(dir, "out.json"), JSON.stringify({ participants: { alice: { group: "a", state: "running", url: "https://h/alice/", password: "pa" }, bob: { group: "a", state: "running", url: "https://h/bob/", password: "pb" } } }));
    const one = await thon(["credentials", "--from", "out.json", "--user", "bob", "--json"], dir);
    expect(JSON.parse(one.out).map((r: { name: string }) => r.name)).toEqual(["bob"]);
    const none = await thon(["credentials", "--from", "out.json", "--user", "zed"], dir);
    expect(none.code).toBe(1);
    expect(none.err).toContain('no participant "zed" (it has: alice, bob)');
    const both = await thon(["credentials", "--from", "out.json", "--csv", "--html"], dir);
    expect(both.code).toBe(2);
  });
});
