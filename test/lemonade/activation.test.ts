// The Lemonade component's host commands, run for real: the create/delete
// scripts the program registers (as command.local.Command inputs) are
// executed with /bin/sh against a temporary folder, with a fake `systemctl`
// (lemonade.paths.systemctl) that records its calls.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { evaluateLlm, record } from "../support/llm.ts";
import { diffEvaluations } from "../../infra/preview/diff.ts";
import type { Evaluation } from "../../infra/preview/evaluate.ts";

let dir: string;
const CMD = "command:local:Command";

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "thon-lemond-"));
  const fake = join(dir, "systemctl");
  writeFileSync(
    fake,
    `#!/bin/sh
echo "$*" >> '${dir}/systemctl.log'
case "$1" in
  is-active) [ -f '${dir}/active' ] && exit 0 || exit 3 ;;
  enable) [ "$2" = "--now" ] && touch '${dir}/active' ;;
  restart) touch '${dir}/active' ;;
  disable) rm -f '${dir}/active' ;;
esac
exit 0
`,
  );
  chmodSync(fake, 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function yaml(extra = "") {
  return [
    `  user: ${userInfo().username}`,
    "  paths:",
    `    unitDir: ${dir}/systemd`,
    `    cacheDir: ${dir}/var/lib/lemonade/.cache/lemonade`,
    `    envFile: ${dir}/etc/thon/lemond.env`,
    `    systemctl: ${dir}/systemctl`,
    `    lemond: ${dir}/lemond`,
    extra,
  ].join("\n");
}

const evaluateWith = (groups: Record<string, string[]>, extra = "") => evaluateLlm(groups, { lemonadeMore: yaml(extra), gateway: false });

/** Runs a Command's script as command.local would: sh -c, its stdin and environment. */
function run(e: Evaluation, name: string, script: "create" | "delete" = "create"): void {
  const inputs = record(e, CMD, name).inputs as { create: string; delete?: string; stdin?: string; environment?: Record<string, string> };
  const r = spawnSync("/bin/sh", ["-c", inputs[script]!], { input: inputs.stdin ?? "", env: { ...process.env, ...inputs.environment }, encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
}

const calls = () => (existsSync(join(dir, "systemctl.log")) ? readFileSync(join(dir, "systemctl.log"), "utf8").trim().split("\n") : []);
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe("lemond's files and activation, run for real against a fake systemctl", () => {
  it("first apply writes the unit (0644), the keys (0600) and config.json (0640), then enables and starts lemond without a restart", async () => {
    const e = await evaluateWith({ alpha: ["alice"] });
    for (const name of ["thon-lemonade-unit", "thon-lemonade-env", "thon-lemonade-config"]) run(e, name);
    const unit = join(dir, "systemd/lemond.service");
    expect(readFileSync(unit, "utf8")).toBe(record(e, CMD, "thon-lemonade-unit").inputs.stdin);
    expect(mode(unit)).toBe("644");
    const env = join(dir, "etc/thon/lemond.env");
    expect(readFileSync(env, "utf8")).toMatch(/^LEMONADE_ADMIN_API_KEY=[A-Za-z0-9]{48}\nLEMONADE_API_KEY=[A-Za-z0-9]{48}\n$/m);
    expect(mode(env)).toBe("600");
    const config = join(dir, "var/lib/lemonade/.cache/lemonade/config.json");
    expect(JSON.parse(readFileSync(config, "utf8"))).toMatchObject({ config_version: 2, host: "0.0.0.0", port: 13305, max_loaded_models: 2 });
    expect(mode(config)).toBe("640");
    expect(mode(join(dir, "var/lib/lemonade/.cache"))).toBe("750"); // created by THON, so given to the service user
    expect(mode(dir)).toBe("700"); // existing folders keep their mode

    run(e, "thon-lemonade-service");
    expect(calls()).toEqual(["daemon-reload", "is-active --quiet lemond.service", "enable --now lemond.service"]);
  });

  it("a changed config.json replaces the activation command, whose rerun restarts the running lemond", async () => {
    const before = await evaluateWith({ alpha: ["alice"] });
    for (const name of ["thon-lemonade-unit", "thon-lemonade-env", "thon-lemonade-config", "thon-lemonade-service"]) run(before, name);
    const after = await evaluateWith({ alpha: ["alice"] }, "  backend: vulkan");
    const diff = diffEvaluations(before, after);
    expect(diff.names("replace")).toEqual(["command:local:Command::thon-lemonade-service"]);
    expect(diff.names("update")).toEqual(["command:local:Command::thon-lemonade-config"]);
    run(after, "thon-lemonade-config");
    run(after, "thon-lemonade-service");
    expect(calls().slice(3)).toEqual(["daemon-reload", "is-active --quiet lemond.service", "restart lemond.service", "enable --now lemond.service"]);
    expect(JSON.parse(readFileSync(join(dir, "var/lib/lemonade/.cache/lemonade/config.json"), "utf8")).llamacpp.backend).toBe("vulkan");
  });

  it("a new participant changes no file and does not restart lemond", async () => {
    const diff = diffEvaluations(await evaluateWith({ alpha: ["alice"] }), await evaluateWith({ alpha: ["alice", "bob"] }));
    expect(diff.changes.filter((c) => c.name.startsWith("thon-lemonade-") && c.type === CMD)).toEqual([]);
  });

  it("removing Lemonade stops and disables lemond and removes its files", async () => {
    const e = await evaluateWith({ alpha: ["alice"] });
    for (const name of ["thon-lemonade-unit", "thon-lemonade-env", "thon-lemonade-config", "thon-lemonade-service"]) run(e, name);
    expect(record(e, CMD, "thon-lemonade-service").inputs.delete).toBeUndefined(); // a replacement must not stop lemond
    for (const name of ["thon-lemonade-unit", "thon-lemonade-env", "thon-lemonade-config"]) run(e, name, "delete");
    expect(calls().slice(3)).toEqual(["disable --now lemond.service", "daemon-reload"]);
    expect(existsSync(join(dir, "systemd/lemond.service"))).toBe(false);
    expect(existsSync(join(dir, "etc/thon/lemond.env"))).toBe(false);
    expect(existsSync(join(dir, "active"))).toBe(false);
  });

  it("Lemonade 10.1 and 10.2 get lemonade-server.service", async () => {
    const e = await evaluateLlm({ alpha: ["alice"] }, { lemonadeMore: '  version: "10.2"', gateway: false });
    expect(record(e, CMD, "thon-lemonade-service").inputs.create).toContain("enable --now 'lemonade-server.service'");
  });
});
