// The sandbox image's entrypoint (infra/image/entrypoint.sh), run by the real
// sh with a stand-in `code-server` first on PATH that prints the environment
// it was started with: what the entrypoint hands code-server, without an image.
// The image itself, with the real code-server, is in test/e2e/image.test.ts.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
