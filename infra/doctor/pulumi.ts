// The Pulumi CLI and the provider plugins: present on the host, so the event
// morning needs no internet.
import { execFile } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { fail, ok, reason, warn, type Check, type DoctorContext } from "./check.ts";

const exec = promisify(execFile);

/** Where `thon prepare` and `npm run up` install the pinned CLI. */
export const LOCAL_CLI_DIR = ".pulumi-cli";

/** The Pulumi CLI to use: the project's own (.pulumi-cli/bin), else the one on PATH. */
export function findPulumi(projectDir: string, env: NodeJS.ProcessEnv): string | undefined {
  const local = join(projectDir, LOCAL_CLI_DIR, "bin", "pulumi");
  if (existsSync(local)) return local;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, "pulumi"))) return join(dir, "pulumi");
  }
  return undefined;
}

/** package.json's pinned version of a dependency (without ^ or ~). */
export function pinnedVersion(projectDir: string, pkg: string): string | undefined {
  try {
    const json = JSON.parse(readFileSync(join(projectDir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    return json.dependencies?.[pkg]?.replace(/^[\^~=]/, "");
  } catch {
    return undefined;
  }
}

/** The resource plugins the program's providers need: the SDK packages' versions (Pulumi's plugin = package version). */
export function neededPlugins(projectDir: string): { name: string; version: string }[] {
  return ["docker", "command", "random", "tls"].flatMap((name) => {
    const version = pinnedVersion(projectDir, `@pulumi/${name}`);
    return version ? [{ name, version }] : [];
  });
}

export async function checkPulumi(ctx: DoctorContext): Promise<Check[]> {
  const cli = findPulumi(ctx.projectDir, ctx.env);
  const checks: Check[] = [];
  if (!cli) {
    checks.push(fail("Pulumi CLI", "not installed (neither .pulumi-cli/bin/pulumi nor pulumi on PATH)", "with internet: `npx thon prepare` (installs the pinned CLI into .pulumi-cli/) or `npm run up`"));
  } else {
    try {
      const { stdout } = await exec(cli, ["version"], { timeout: 15_000, env: { ...ctx.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
      checks.push(ok("Pulumi CLI", `${stdout.trim()} at ${cli}`));
    } catch (err) {
      checks.push(fail("Pulumi CLI", `${cli} does not run (${reason(err)})`, `remove ${cli} and run \`npx thon prepare\``));
    }
  }
  const home = ctx.env.PULUMI_HOME ?? join(homedir(), ".pulumi");
  const pluginDir = join(home, "plugins");
  const have = new Set(existsSync(pluginDir) ? readdirSync(pluginDir) : []);
  const missing = neededPlugins(ctx.projectDir).filter((p) => !have.has(`resource-${p.name}-v${p.version}`));
  checks.push(
    missing.length === 0
      ? ok("Provider plugins", `${neededPlugins(ctx.projectDir).map((p) => `${p.name} ${p.version}`).join(", ")} in ${pluginDir}`)
      : warn("Provider plugins", `missing in ${pluginDir}: ${missing.map((p) => `${p.name} ${p.version}`).join(", ")}; \`pulumi up\` would download them`, "the day before, with internet: `npx thon prepare` (runs `pulumi install`)"),
  );
  return checks;
}
