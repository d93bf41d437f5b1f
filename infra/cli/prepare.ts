// `thon prepare` (the day before, with internet) and `thon up` (`npm run up`):
// the Pulumi CLI pinned to the SDK's version, installed into the project with
// the Automation API's official installer when it is missing; the provider
// plugins and the sandbox image; then the local file backend, the stack,
// doctor and `pulumi up`.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import Docker from "dockerode";
import { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { loadEvent } from "../config/load.ts";
import { runDoctor, formatDoctor } from "../doctor/doctor.ts";
import { dockerOptions } from "../doctor/docker.ts";
import { findPulumi, LOCAL_CLI_DIR, pinnedVersion } from "../doctor/pulumi.ts";
import { evaluateEventFile, formatPlan } from "./plan.ts";

export interface StepIo {
  readonly projectDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export type Installer = (root: string) => Promise<unknown>;

/**
 * The Automation API's installer (get.pulumi.com's install script with
 * --install-root). Without a version it installs the SDK's own, which
 * package.json pins exactly (@pulumi/pulumi).
 */
const officialInstaller: Installer = (root) => PulumiCommand.install({ root });

/**
 * Installs the CLI into <project>/.pulumi-cli: first into a staging folder,
 * renamed into place only when the CLI runs, so a failed download leaves
 * nothing half-installed. Returns the binary, or the reason it failed.
 */
export async function installPulumi(projectDir: string, install: Installer = officialInstaller): Promise<{ cli: string } | { error: string }> {
  const root = join(projectDir, LOCAL_CLI_DIR);
  const staging = `${root}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    mkdirSync(staging, { recursive: true });
    await install(staging);
    if (!existsSync(join(staging, "bin", "pulumi"))) throw new Error("the installer finished without bin/pulumi");
    rmSync(root, { recursive: true, force: true });
    renameSync(staging, root);
    return { cli: join(root, "bin", "pulumi") };
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    return { error: ((err as Error).message ?? String(err)).split("\n")[0]! };
  }
}

/** The CLI, found or installed; `error` says which of the two failed. */
export async function ensurePulumi(io: StepIo, install?: Installer): Promise<{ cli: string } | { error: string }> {
  const found = findPulumi(io.projectDir, io.env);
  if (found) return { cli: found };
  if (io.env.THON_OFFLINE === "1") {
    return { error: `the Pulumi CLI is not installed (not on PATH, not in ${LOCAL_CLI_DIR}/), and THON_OFFLINE=1 rules out the download` };
  }
  const version = pinnedVersion(io.projectDir, "@pulumi/pulumi") ?? "the SDK's version";
  io.err(`the Pulumi CLI is not installed (not on PATH, not in ${LOCAL_CLI_DIR}/); installing ${version} into ${join(io.projectDir, LOCAL_CLI_DIR)}\n`);
  const installed = await installPulumi(io.projectDir, install);
  if ("error" in installed) {
    return { error: `the Pulumi CLI is not installed, and installing it failed: ${installed.error}` };
  }
  io.err(`installed ${installed.cli}\n`);
  return installed;
}

/** Runs a command with the output shown to the organizer; resolves to its exit code. */
function run(command: string, args: readonly string[], io: StepIo, env: NodeJS.ProcessEnv = io.env): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: io.projectDir, env, stdio: ["inherit", "pipe", "pipe"] });
    child.stdout.on("data", (d: Buffer) => io.out(d.toString()));
    child.stderr.on("data", (d: Buffer) => io.err(d.toString()));
    child.on("error", (err) => {
      io.err(`${command}: ${err.message}\n`);
      resolve(127);
    });
    child.on("close", (code) => resolve(code ?? 1));
  });
}

/** Pulls the sandbox image, or builds it from sandbox.build; returns a problem, or undefined. */
async function sandboxImage(eventFile: string, io: StepIo): Promise<string | undefined> {
  const event = loadEvent(eventFile);
  if (event.target.kind === "ssh") return `the target is ${event.target.host} over SSH: run \`npx thon prepare\` there for the image`;
  // A swarm has no registry (scale-out-facts.md §5): the image is imported on every node.
  if (event.target.kind === "swarm") return `the target is a swarm: import the image on every node (${event.target.nodes.map((n) => n.name).join(", ")})`;
  const docker = new Docker(dockerOptions(event.target.dockerHost));
  const { image, build } = event.sandbox;
  try {
    await docker.getImage(image).inspect();
    io.out(`image ${image} is present\n`);
    return undefined;
  } catch {
    // not there yet
  }
  if (io.env.THON_OFFLINE === "1") return `${image} is not on this host, and THON_OFFLINE=1 rules out ${build ? "building" : "pulling"} it`;
  if (build) {
    const code = await run("docker", ["build", "-t", image, "-f", join(build.context, build.dockerfile), build.context], io, { ...io.env, DOCKER_HOST: event.target.dockerHost });
    return code === 0 ? undefined : `building ${image} from ${build.context} failed (exit ${code})`;
  }
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())));
    io.out(`pulled ${image}\n`);
    return undefined;
  } catch (err) {
    return `pulling ${image} failed: ${((err as Error).message ?? String(err)).split("\n")[0]}`;
  }
}

export interface PrepareOptions extends StepIo {
  readonly eventFile: string;
  readonly stack: string;
  readonly install?: Installer;
}

/** The day before: CLI, plugins, image, doctor; then what the morning still needs. Exit 0 when nothing is left. */
export async function prepare(o: PrepareOptions): Promise<number> {
  const left: string[] = [];
  const cli = await ensurePulumi(o, o.install);
  if ("error" in cli) {
    left.push(`${cli.error}. Fix: with internet, run \`npx thon prepare\` again, or install Pulumi yourself (https://www.pulumi.com/docs/install/)`);
  } else {
    o.out(`provider plugins: ${cli.cli} install\n`);
    const code = await run(cli.cli, ["install"], o);
    if (code !== 0) left.push(`\`pulumi install\` failed (exit ${code}): the provider plugins are not all present`);
  }
  const imageProblem = await sandboxImage(o.eventFile, o);
  if (imageProblem) left.push(imageProblem);
  const checks = await runDoctor(loadEvent(o.eventFile), { projectDir: o.projectDir, env: o.env });
  o.out(formatDoctor(checks));
  for (const c of checks) if (c.status === "fail") left.push(`${c.name}: ${c.detail}. Fix: ${c.fix}`);
  if (left.length === 0) {
    o.out(`prepared: the morning needs no internet. Deploy with \`npm run up\` (or \`pulumi up --stack ${o.stack}\`)\n`);
    return 0;
  }
  o.err(`the morning still needs:\n${[...new Set(left)].map((l) => `  - ${l}`).join("\n")}\n`);
  return 1;
}

export interface UpOptions extends StepIo {
  readonly stack: string;
  readonly pulumiArgs: readonly string[];
  readonly install?: Installer;
  /** The event file for the offline preview and doctor; default the stack's thon:file. */
  readonly eventFile: string;
}

/**
 * `npm run up`: the CLI (installed when missing), the local file backend, the
 * stack (selected or created), doctor, then `pulumi up`. Without the CLI and
 * without the download, the offline preview instead, saying which failed.
 */
export async function up(o: UpOptions): Promise<number> {
  const cli = await ensurePulumi(o, o.install);
  if ("error" in cli) {
    o.err(`${cli.error}\nshowing the offline preview of stack '${o.stack}' (thon plan) instead of deploying; with internet, run \`npm run up\` again to install Pulumi and deploy\n`);
    o.out(formatPlan(await evaluateEventFile(o.eventFile, o.stack)));
    return 0;
  }
  // The dev stack's passphrase protects nothing of value; real stacks set their own.
  const env = { ...o.env, PULUMI_SKIP_UPDATE_CHECK: "true", ...(o.stack === "dev" && o.env.PULUMI_CONFIG_PASSPHRASE === undefined ? { PULUMI_CONFIG_PASSPHRASE: "dev" } : {}) };
  const steps: [string, string[]][] = [
    ["log in to the local file backend", ["login", `file://${o.projectDir}`]],
    ["select or create the stack", ["stack", "select", "--create", o.stack, "--secrets-provider", "passphrase"]],
  ];
  for (const [what, args] of steps) {
    const code = await run(cli.cli, args, o, env);
    if (code !== 0) {
      o.err(`could not ${what} (\`pulumi ${args.join(" ")}\` exited ${code})\n`);
      return 1;
    }
  }
  const checks = await runDoctor(loadEvent(o.eventFile), { projectDir: o.projectDir, env });
  o.out(formatDoctor(checks));
  if (checks.some((c) => c.status === "fail")) {
    o.err("the host is not ready (see the fails above); nothing was deployed\n");
    return 1;
  }
  return run(cli.cli, ["up", "--stack", o.stack, ...o.pulumiArgs], o, env);
}
