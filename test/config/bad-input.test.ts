// Issue 13, defect 8: the validation gaps an organizer met, each refused
// with the file, the line, the key and a fix.
import { describe, expect, it } from "vitest";
import { parseThonFile, ThonConfigError, type ConfigProblem } from "../../infra/config/load.ts";
import { toEvent } from "../../infra/config/event.ts";

const HEAD = "event:\n  name: e\n  host: 127.0.0.1\n";

function problems(text: string): ConfigProblem[] {
  try {
    parseThonFile(text, "thon.yaml");
  } catch (err) {
    if (err instanceof ThonConfigError) return [...err.problems];
    throw err;
  }
  throw new Error("the file was accepted");
}

describe("thon.yaml: the gaps of issue 13", () => {
  it("an IP-looking host must be an IP address", () => {
    for (const host of ["300.1.1.1", "::::", "1.2.3", "fe80:::1"]) {
      const [p, ...rest] = problems(`event:\n  name: e\n  host: "${host}"\ngroups: { a: { users: [x] } }\n`);
      expect(rest, host).toEqual([]);
      expect(p, host).toMatchObject({ path: "event.host", line: 3, column: 9 });
      expect(p!.message, host).toContain(`"${host}": is not an IP address`);
    }
    for (const host of ["203.0.113.10", "2001:db8::1", "::1", "thon.example.org", "h1.local"]) {
      expect(parseThonFile(`event:\n  name: e\n  host: "${host}"\ngroups: { a: { users: [x] } }\n`).event.host).toBe(host);
    }
  });

  it("a YAML bomb is refused with the file and the line of its first alias", () => {
    const rows = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (const [name, prev] of [["b", "a"], ["c", "b"], ["d", "c"], ["e", "d"]]) rows.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    const err = (() => {
      try {
        parseThonFile(`${HEAD}${rows.join("\n")}\ngroups: { g: { users: [x] } }\n`, "thon.yaml");
      } catch (e) {
        return e as ThonConfigError;
      }
      throw new Error("accepted");
    })();
    expect(err).toBeInstanceOf(ThonConfigError);
    expect(err.problems).toHaveLength(1);
    expect(err.message).toContain("thon.yaml:5:8 the aliases (*name) in this file expand too far");
  });

  it("merge keys share settings between groups", () => {
    const file = parseThonFile(`${HEAD}groups:\n  alpha: &paused\n    state: stopped\n    users: [alice]\n  beta:\n    <<: *paused\n    users: [bob]\n`);
    expect(file.groups.beta).toEqual({ state: "stopped", users: ["bob"] });
    expect(toEvent(file).participants.map((p) => `${p.name}:${p.state}`)).toEqual(["alice:stopped", "bob:stopped"]);
    // A merged key is still checked.
    const [p] = problems(`${HEAD}groups:\n  alpha: &shared\n    stat: stopped\n    users: [alice]\n`);
    expect(p!.message).toContain('unknown setting "stat". Fix: did you mean "state"?');
  });

  it("names in other scripts get distinct suggestions and the reason", () => {
    const found = problems(`${HEAD}groups: { a: { users: ["ａｌｉｃｅ", "李雷", "😀", "韩梅梅"] } }\n`);
    const fixes = found.map((p) => /Fix: write "([^"]+)"/.exec(p.message)?.[1]);
    expect(fixes).toEqual(["alice", "u-674e-96f7", "u-1f600", "u-97e9-6885-6885"]);
    for (const p of found) expect(p.message).toContain("a name becomes a container, a volume, a folder and a URL path");
  });

  it("a group written as a bare list gets a fix in the right shape", () => {
    const found = problems(`${HEAD}groups:\n  a: { users: [alice] }\n  b: [carol, dan]\n`);
    expect(found).toEqual([{ path: "groups.b", line: 6, column: 6, message: "a group is a mapping with users, not a list. Fix: write b: { users: [carol, dan] }" }]);
  });

  it("a bad environment variable name is named", () => {
    const found = problems(`${HEAD}sandbox:\n  env:\n    GOOD: 1\n    BAD-NAME: x\ngroups: { a: { users: [x] } }\n`);
    expect(found).toEqual([
      { path: 'sandbox.env["BAD-NAME"]', line: 7, column: 5, message: "the name \"BAD-NAME\" is refused: environment variable names are letters, digits and '_'" },
    ]);
  });

  it("an invalid group name is a bad name, not a bad shape, and not 'no participants'", () => {
    const found = problems(`${HEAD}groups:\n  Team.One: { users: [x] }\n`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ path: 'groups["Team.One"]', line: 5, column: 3 });
    expect(found[0]!.message).toContain('the name "Team.One" is refused: a group name must be');
    expect(found[0]!.message).toContain('Fix: write "team-one"');
  });

  it("more running participants than the host can hold is refused with the figure", () => {
    const users = Array.from({ length: 20 }, (_, i) => `u${i}`);
    const found = problems(`event:\n  name: e\n  host: 127.0.0.1\n  hostMemory: 1GiB\ngroups: { a: { users: [${users.join(", ")}] } }\n`);
    expect(found).toEqual([
      {
        path: "event.hostMemory",
        line: 4,
        column: 15,
        message:
          `"1GiB": 20 running sandboxes need at least 1220 MiB even when idle (61 MiB each, measured), more than the host's 1024 MiB; this host holds at most 16. Fix: pause participants (state: stopped), split the event over hosts, or correct event.hostMemory`,
      },
    ]);
    // Stopped participants take no memory: the same file with four paused fits.
    const paused = users.map((u, i) => (i < 4 ? `{ name: ${u}, state: stopped }` : u));
    expect(() => parseThonFile(`event:\n  name: e\n  host: 127.0.0.1\n  hostMemory: 1GiB\ngroups: { a: { users: [${paused.join(", ")}] } }\n`)).not.toThrow();
  });
});
