// Every shell script of the repository passes shellcheck (Debian package
// shellcheck; scripts/ensure-tools.sh installs it): the nginx reload shipped
// to event hosts, the image build, the CI helpers.
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const SKIP = new Set(["node_modules", ".git", "test-results"]);

function shellScripts(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return shellScripts(path);
    return e.isFile() && e.name.endsWith(".sh") ? [relative(ROOT, path)] : [];
  });
}

describe("shellcheck", () => {
  const scripts = shellScripts(ROOT).sort();

  it("finds the repository's scripts, the nginx reload among them", () => {
    execFileSync("shellcheck", ["--version"], { stdio: "ignore" });
    expect(scripts).toContain("infra/render/nginx/reload.sh");
    expect(scripts).toContain("scripts/ensure-tools.sh");
  });

  it.each(scripts)("passes %s", (script) => {
    const res = spawnSync("shellcheck", ["--external-sources", script], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(res.stdout + res.stderr).toBe("");
    expect(res.status).toBe(0);
  });
});
