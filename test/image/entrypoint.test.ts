// The sandbox image's entrypoint (infra/image/entrypoint.sh), run by the real
// sh with a stand-in `code-server` first on PATH that prints the environment
// it was started with: what the entrypoint hands code-server, without an image.
// The image itself, with the real code-server, is in test/e2e/image.test.ts.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ENTRYPOINT = resolve(import.meta.dirname, "../../infra/image/entrypoint.sh");
const dir = mkdtempSync(join(tmpdir(), "thon-entrypoint-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Prints its arguments, then its environment, one variable a line.
writeFileSync(join(dir, "code-server"), '#!/bin/sh\necho "args: $*"\nenv\n');
chmodSync(join(dir, "code-server"), 0o755);

function run(env: Record<string, string>): { status: number | null; stdout: string; stderr: string; env: Map<string, string> } {
  const r = spawnSync("sh", [ENTRYPOINT, "--auth", "password", "/workspace"], {
    env: { PATH: `${dir}:/usr/bin:/bin`, HOME: dir, ...env },
    encoding: "utf8",
    timeout: 10_000,
  });
  const vars = new Map(
    r.stdout
      .split("\n")
      .filter((l) => l.includes("=") && !l.startsWith("args:"))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const),
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, env: vars };
}

describe("entrypoint: the password from a secret file (swarm)", () => {
  it("exports PASSWORD from PASSWORD_FILE for code-server and drops PASSWORD_FILE", () => {
    const file = join(dir, "thon-password");
    writeFileSync(file, "Tr0ub4dorAnd3\n", { mode: 0o400 });
    const r = run({ PASSWORD_FILE: file });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("args: --auth password /workspace");
    // The trailing newline is not part of the password.
    expect(r.env.get("PASSWORD")).toBe("Tr0ub4dorAnd3");
    expect(r.env.has("PASSWORD_FILE")).toBe(false);
  });

  it("leaves a PASSWORD given directly alone when there is no PASSWORD_FILE (one host)", () => {
    const r = run({ PASSWORD: "direct-one" });
    expect(r.status).toBe(0);
    expect(r.env.get("PASSWORD")).toBe("direct-one");
  });

  it("refuses to start code-server when the password file cannot be read, saying which file", () => {
    const missing = join(dir, "no-such-secret");
    const r = run({ PASSWORD_FILE: missing });
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain("args:");
    expect(r.stderr).toContain(`thon-entrypoint: cannot read the password file ${missing}; not starting`);
  });
});

describe("entrypoint: the Kilo Code config from a secret file (swarm)", () => {
  const KILO = '{"provider":{"thon":{"options":{"apiKey":"sk-thon-abc"}}}}\n';

  it("copies THON_KILO_CONFIG_FILE to ~/.config/kilo/config.json, the user's own at 0600, and drops the variable", () => {
    const home = mkdtempSync(join(dir, "home-"));
    const secret = join(dir, "thon-kilo.json");
    writeFileSync(secret, KILO, { mode: 0o400 });
    const r = run({ HOME: home, THON_KILO_CONFIG_FILE: secret });
    expect(r.status).toBe(0);
    const target = join(home, ".config/kilo/config.json");
    expect(readFileSync(target, "utf8")).toBe(KILO);
    // Writable by the participant (the secret itself is 0400), readable by nobody else.
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(statSync(target).uid).toBe(process.getuid!());
    expect(statSync(join(home, ".config/kilo")).mode & 0o077).toBe(0);
    expect(r.env.has("THON_KILO_CONFIG_FILE")).toBe(false);
    expect(r.stdout).toContain("args: --auth password /workspace");
  });

  it("replaces an older copy at the next start (a new key lands with the new task), leaving no temporary file", () => {
    const home = mkdtempSync(join(dir, "home-"));
    mkdirSync(join(home, ".config/kilo"), { recursive: true });
    writeFileSync(join(home, ".config/kilo/config.json"), '{"old":true}', { mode: 0o400 });
    const secret = join(dir, "thon-kilo-2.json");
    writeFileSync(secret, KILO, { mode: 0o400 });
    expect(run({ HOME: home, THON_KILO_CONFIG_FILE: secret }).status).toBe(0);
    expect(readFileSync(join(home, ".config/kilo/config.json"), "utf8")).toBe(KILO);
    expect(statSync(join(home, ".config/kilo/config.json")).mode & 0o777).toBe(0o600);
    expect(() => statSync(join(home, ".config/kilo/.config.json.thon"))).toThrow();
  });

  it("starts code-server without it when the secret cannot be read, saying which file", () => {
    const home = mkdtempSync(join(dir, "home-"));
    const missing = join(dir, "no-such-kilo.json");
    const r = run({ HOME: home, THON_KILO_CONFIG_FILE: missing });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("args: --auth password /workspace");
    expect(r.stderr).toContain(`thon-entrypoint: could not put the Kilo Code config ${missing} in place`);
    expect(() => statSync(join(home, ".config/kilo/config.json"))).toThrow();
    expect(() => statSync(join(home, ".config/kilo/.config.json.thon"))).toThrow();
  });

  it("does nothing with the home without THON_KILO_CONFIG_FILE (one host uploads the file)", () => {
    const home = mkdtempSync(join(dir, "home-"));
    expect(run({ HOME: home }).status).toBe(0);
    expect(() => statSync(join(home, ".config"))).toThrow();
  });
});
