// The lemond unit and env file, and config.json. The unit is checked by the
// real systemd-analyze (Debian's systemd; scripts/ensure-tools.sh installs it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderEnvFile, renderLemondUnit } from "../../infra/render/systemd.ts";
import { renderLemonadeConfig } from "../../infra/render/lemonadeConfig.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "thon-unit-"));
  writeFileSync(join(dir, "lemond"), "#!/bin/sh\nexit 0\n");
  chmodSync(join(dir, "lemond"), 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = () => ({ unitName: "lemond.service", lemond: join(dir, "lemond"), user: "lemonade", cacheDir: "/var/lib/lemonade/.cache/lemonade", envFile: "/etc/thon/lemond.env" });

function verify(text: string, name = "lemond.service"): { status: number | null; output: string } {
  const path = join(dir, name);
  writeFileSync(path, text);
  const r = spawnSync("systemd-analyze", ["verify", path], { encoding: "utf8", timeout: 30_000 });
  // Lines about the host's other units are not ours.
  const output = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.includes(path) || l.includes(name)).join("\n");
  return { status: r.status, output };
}

describe("lemond's systemd unit", () => {
  it("passes systemd-analyze verify without a warning", () => {
    expect(verify(renderLemondUnit(options()))).toEqual({ status: 0, output: "" });
  });

  it("the check can fail: a misspelt setting is reported", () => {
    const broken = renderLemondUnit(options()).replace("Restart=on-failure", "Restart=sometimes");
    expect(verify(broken).output).toContain("Failed to parse service restart specifier");
  });

  it("pins LEMONADE_CACHE_DIR, reads THON's env file after the package's, keeps the package's hardening", () => {
    const unit = renderLemondUnit(options());
    expect(unit).toContain("Environment=LEMONADE_CACHE_DIR=/var/lib/lemonade/.cache/lemonade\n");
    expect(unit.indexOf("EnvironmentFile=-/etc/lemonade/conf.d/*.conf")).toBeLessThan(unit.indexOf("EnvironmentFile=/etc/thon/lemond.env"));
    for (const line of ["User=lemonade", "ProtectSystem=full", "ProtectHome=yes", "NoNewPrivileges=yes", "ReadWritePaths=-/var/lib/lemonade/.cache/lemonade", "WantedBy=multi-user.target"]) {
      expect(unit).toContain(line + "\n");
    }
  });

  it("refuses paths a unit file cannot hold and escapes %", () => {
    expect(() => renderLemondUnit({ ...options(), cacheDir: "/var/lib/my cache" })).toThrow(/lemonade.paths.cacheDir/);
    expect(renderLemondUnit({ ...options(), cacheDir: "/srv/100%" })).toContain("LEMONADE_CACHE_DIR=/srv/100%%");
  });
});

describe("the env file and config.json", () => {
  it("the env file is sorted KEY=value lines and refuses values that would need quoting", () => {
    expect(renderEnvFile({ LEMONADE_API_KEY: "abc", LEMONADE_ADMIN_API_KEY: "def" })).toBe("# Written by THON; read by systemd for lemond (mode 0600).\nLEMONADE_ADMIN_API_KEY=def\nLEMONADE_API_KEY=abc\n");
    expect(() => renderEnvFile({ K: "a b" })).toThrow(/quoted/);
  });

  it("config.json: config_version 2 (no ctx_size migration), host, port, slots per type, args as one string, sorted keys", () => {
    const o = { host: "0.0.0.0", port: 13305, maxLoadedModels: 2, llamacppArgs: ["--flash-attn", "on"], backend: "vulkan" };
    const text = renderLemonadeConfig(o);
    expect(JSON.parse(text)).toEqual({ config_version: 2, host: "0.0.0.0", port: 13305, max_loaded_models: 2, llamacpp: { args: "--flash-attn on", backend: "vulkan" } });
    expect(Object.keys(JSON.parse(text))).toEqual(["config_version", "host", "llamacpp", "max_loaded_models", "port"]);
    expect(renderLemonadeConfig({ backend: "vulkan", llamacppArgs: ["--flash-attn", "on"], maxLoadedModels: 2, port: 13305, host: "0.0.0.0" })).toBe(text);
  });
});

describe("snapshots", () => {
  const fixed = { unitName: "lemond.service", lemond: "/usr/bin/lemond", user: "lemonade", cacheDir: "/var/lib/lemonade/.cache/lemonade", envFile: "/etc/thon/lemond.env" };

  it("the lemond unit", () => {
    expect(renderLemondUnit(fixed)).toMatchSnapshot();
  });

  it("the env file", () => {
    expect(renderEnvFile({ LEMONADE_API_KEY: "api0123", LEMONADE_ADMIN_API_KEY: "admin0123" })).toMatchSnapshot();
  });

  it("config.json", () => {
    expect(renderLemonadeConfig({ host: "127.0.0.1", port: 13305, maxLoadedModels: 1, llamacppArgs: ["--flash-attn", "on", "--no-webui"], backend: "vulkan" })).toMatchSnapshot();
  });
});
