// The `thon` command, one commander definition per subcommand (each with its
// own options and --help). Exit codes: 0 done, 1 the file, the stack or the
// host has a problem, 2 wrong usage. Nothing prints a stack trace unless
// THON_DEBUG=1.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createInterface } from "node:readline/promises";
import { Command, CommanderError, Option } from "commander";
import { parse as parseYaml } from "yaml";
import { loadEvent, parseThonFile, ThonConfigError } from "../config/load.ts";
import { NAME_PATTERN, NAME_RULE } from "../config/names.ts";
import { planEvent, planParticipant } from "../plan.ts";
import * as edit from "./edit.ts";
import { formatCsv, formatHtml, formatTable, parseStackOutputs, readStackOutputs, type StackCredentials } from "./credentials.ts";
import { checkStack, formatCheck } from "./check.ts";
import { checkAnswer, editStackConfig, parseGroupFlag, renderStackConfig, renderThonYaml, schemaPathFor, StackFileError, THON_ROOT, type InitAnswers } from "./init.ts";
import { diffEvaluations, evaluateEventFile, formatDiff, formatPlan, planEntries } from "./plan.ts";
import { runDoctor, formatDoctor } from "../doctor/doctor.ts";
import { prepare, up } from "./prepare.ts";

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
  /** Answers interactive questions; undefined means "not interactive". */
  readonly ask?: (question: string, fallback: string) => Promise<string>;
  /** Environment for the host checks and the Pulumi CLI; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Wrong usage: the message and the subcommand's usage, exit 2. */
export class UsageError extends Error {}

/** Ends a command with an exit code, after it printed what happened itself. */
class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/**
 * The Pulumi project's folder: the nearest folder from `cwd` upwards with a
 * Pulumi.yaml, as the Pulumi CLI finds it; `cwd` itself when there is none
 * (a new event's folder before `thon init`). Stack files live there, and
 * `thon:file` is relative to it (infra/index.ts reads it so).
 */
export function projectDir(cwd: string): string {
  return findProject(cwd) ?? resolve(cwd);
}

function findProject(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "Pulumi.yaml")) || existsSync(join(dir, "Pulumi.yml"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The event file: --file (relative to cwd), else the stack's `thon:file` (relative to the project), else ./thon.yaml. */
export function resolveEventFile(cwd: string, file: string | undefined, stack: string): string {
  if (file) return resolve(cwd, file);
  const project = projectDir(cwd);
  const stackFile = join(project, `Pulumi.${stack}.yaml`);
  if (existsSync(stackFile)) {
    const config = (parseYaml(readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const named = config.config?.["thon:file"];
    if (typeof named === "string") return resolve(project, named);
  }
  return resolve(cwd, "thon.yaml");
}

export function checkName(kind: string, name: string | undefined): string {
  if (!name) throw new UsageError(`missing the ${kind} name`);
  if (!NAME_PATTERN.test(name)) throw new UsageError(`"${name}" is not a valid ${kind} name: ${NAME_RULE}`);
  return name;
}

/** Applies an edit, validates the whole result, then writes it atomically; nothing half-applied. */
export function applyEdit(file: string, change: (text: string) => string): void {
  const before = readFileSync(file, "utf8");
  const after = change(before);
  parseThonFile(after, file); // throws with every problem; the file is untouched
  const tmp = `${file}.thon-tmp`;
  writeFileSync(tmp, after);
  renameSync(tmp, file);
}

const exec = promisify(execFile);

interface FileOptions {
  file?: string;
  stack: string;
}

const fileOption = () => new Option("--file <thon.yaml>", "the event file (default: the stack's thon:file, else ./thon.yaml)");
const stackOption = () => new Option("--stack <name>", "the Pulumi stack").default("dev");

/** The next command to run after an edit, as the organizer types it. */
const nextStep = (stack: string) => `preview with \`pulumi preview --stack ${stack}\`, apply with \`pulumi up --stack ${stack}\``;

/**
 * The `thon` command tree. Others add subcommands to it (`program.command(...)`
 * inherits the output and error handling) before `main` parses.
 */
export function buildCli(io: Io): Command {
  const program = new Command("thon")
    .description("THON, the hackathon organizer node, as code: thon.yaml in, one VS Code sandbox per participant out")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) => write(`thon: ${s.replace(/^error: /, "")}`),
    });
  const file = (o: FileOptions, positional?: string) => resolveEventFile(io.cwd, o.file ?? positional, o.stack);

  program
    .command("validate")
    .description("check thon.yaml; exit 1 with every problem")
    .argument("[file]", "the event file")
    .addOption(fileOption())
    .addOption(stackOption())
    .action((positional: string | undefined, o: FileOptions) => {
      const path = file(o, positional);
      const event = loadEvent(path);
      io.out(`${path}: valid (${event.participants.length} participants in ${event.groups.length} groups)\n`);
    });

  program
    .command("plan")
    .description("evaluate the program offline (Pulumi mocks) and list every resource it declares, or the diff")
    .argument("[file]", "the event file")
    .addOption(fileOption())
    .addOption(stackOption())
    .option("--json", "print JSON")
    .option("--against <old.yaml>", "show what changes from this older file")
    .action(async (positional: string | undefined, o: FileOptions & { json?: boolean; against?: string }) => {
      const path = file(o, positional);
      const after = await evaluateEventFile(path, o.stack);
      if (o.against) {
        const before = await evaluateEventFile(resolve(io.cwd, o.against), o.stack);
        const diff = diffEvaluations(before, after);
        io.out(o.json ? JSON.stringify({ counts: diff.counts, changes: diff.changes }, null, 2) + "\n" : formatDiff(diff));
      } else {
        // The planner again, for each participant's swarm node (the program's run above has checked the file).
        const plan = planEvent(loadEvent(path));
        io.out(o.json ? JSON.stringify(planEntries(after, plan), null, 2) + "\n" : formatPlan(after, plan));
      }
    });

  program
    .command("init")
    .description("write thon.yaml and Pulumi.<stack>.yaml from a few answers (asked, or given as flags)")
    .option("--non-interactive", "ask nothing; use the flags and defaults")
    .option("--name <name>", "the event's name")
    .option("--host <host>", "the host name or IP participants use")
    .option("--group <name=user1,user2>", "a group and its participants (repeatable)", (v: string, all: string[]) => [...all, v], [] as string[])
    .addOption(new Option("--auth <mode>", "code-server sign-in").choices(["password", "none"]))
    .addOption(new Option("--workspace <mode>", "where workspaces live").choices(["volume", "bind", "ephemeral"]))
    .option("--workspace-dir <dir>", "the host folder of bind workspaces (with --workspace bind)")
    .addOption(new Option("--tls <mode>", "certificates: an event CA, or one self-signed certificate").choices(["ca", "selfsigned"]))
    .option("--lemonade", "a local LLM (Lemonade Server) for every sandbox")
    .option("--gateway", "APISIX in front of Lemonade (needs --lemonade)")
    .option("--out <file>", "where to write thon.yaml", "thon.yaml")
    .addOption(stackOption())
    .option("--force", "overwrite an existing thon.yaml, and repoint the stack's thon:file")
    .action((o: InitOptions) => init(o, io));

  const users = program.command("users").description("add, remove, move, rename, stop or start participants in thon.yaml");
  const userCommand = (name: string, description: string) =>
    users.command(name).description(description).addOption(fileOption()).addOption(stackOption());
  type GroupFlags = FileOptions & { createGroup?: boolean };

  userCommand("add", "add a participant to a group")
    .argument("<user>", "the participant's name")
    .requiredOption("--group <group>", "their group")
    .option("--create-group", "create the group when it does not exist")
    .action((user: string, o: GroupFlags & { group: string }) => {
      const name = checkName("participant", user);
      const group = checkName("group", o.group);
      applyEdit(file(o), (t) => edit.addUser(t, name, group, { createGroup: o.createGroup === true }));
      io.out(`added ${name} to ${group}; ${nextStep(o.stack)} (creates their sandbox)\n`);
    });
  userCommand("remove", "remove a participant (their workspace is kept)")
    .argument("<user>", "the participant's name")
    .action((user: string, o: FileOptions) => {
      const name = checkName("participant", user);
      applyEdit(file(o), (t) => edit.removeUser(t, name));
      io.out(`removed ${name}; their workspace is kept (delete it with \`thon purge ${name} --yes\` after \`pulumi up --stack ${o.stack}\`); ${nextStep(o.stack)}\n`);
    });
  userCommand("move", "move a participant to another group (their sandbox keeps running)")
    .argument("<user>", "the participant's name")
    .requiredOption("--to <group>", "the new group")
    .option("--create-group", "create the group when it does not exist")
    .action((user: string, o: GroupFlags & { to: string }) => {
      const name = checkName("participant", user);
      const group = checkName("group", o.to);
      applyEdit(file(o), (t) => edit.moveUser(t, name, group, { createGroup: o.createGroup === true }));
      io.out(`moved ${name} to ${group}; their sandbox keeps running; ${nextStep(o.stack)}\n`);
    });
  userCommand("rename", "rename a participant (a new sandbox and workspace under the new name)")
    .argument("<old>", "the current name")
    .argument("<new>", "the new name")
    .action((old: string, renamed: string, o: FileOptions) => {
      const from = checkName("participant", old);
      const to = checkName("participant", renamed);
      applyEdit(file(o), (t) => edit.renameUser(t, from, to));
      io.out(
        `renamed ${from} to ${to}: sandboxes are named from the participant, so ${to} gets a new sandbox and workspace, and ${from}'s workspace is kept (\`thon purge ${from} --yes\` after \`pulumi up --stack ${o.stack}\`); ${nextStep(o.stack)}\n`,
      );
    });
  for (const verb of ["stop", "start"] as const) {
    userCommand(verb, `${verb} one participant's sandbox`)
      .argument("<user>", "the participant's name")
      .action((user: string, o: FileOptions) => {
        const name = checkName("participant", user);
        applyEdit(file(o), (t) => edit.setUserState(t, name, verb === "stop" ? "stopped" : "running"));
        io.out(`${name} will be ${verb === "stop" ? "stopped" : "running"} after \`pulumi up --stack ${o.stack}\`; preview it with \`pulumi preview --stack ${o.stack}\`\n`);
      });
  }

  const groups = program.command("groups").description("add, remove, rename, stop or start groups in thon.yaml");
  const groupCommand = (name: string, description: string) =>
    groups.command(name).description(description).argument("<group>", "the group's name").addOption(fileOption()).addOption(stackOption());
  groupCommand("add", "add an empty group").action((group: string, o: FileOptions) => {
    const name = checkName("group", group);
    applyEdit(file(o), (t) => edit.addGroup(t, name));
    io.out(`added group ${name}; add participants with \`thon users add <user> --group ${name}\`\n`);
  });
  groupCommand("remove", "remove an empty group").action((group: string, o: FileOptions) => {
    const name = checkName("group", group);
    applyEdit(file(o), (t) => edit.removeGroup(t, name));
    io.out(`removed group ${name}; ${nextStep(o.stack)}\n`);
  });
  groupCommand("rename", "rename a group (its participants keep their sandboxes)")
    .argument("<new>", "the new name")
    .action((group: string, renamed: string, o: FileOptions) => {
      const from = checkName("group", group);
      const to = checkName("group", renamed);
      applyEdit(file(o), (t) => edit.renameGroup(t, from, to));
      io.out(`renamed group ${from} to ${to}; ${nextStep(o.stack)}\n`);
    });
  for (const verb of ["stop", "start"] as const) {
    groupCommand(verb, `${verb} every sandbox of a group`).action((group: string, o: FileOptions) => {
      const name = checkName("group", group);
      applyEdit(file(o), (t) => edit.setGroupState(t, name, verb === "stop" ? "stopped" : "running"));
      io.out(`group ${name} will be ${verb === "stop" ? "stopped" : "running"} after \`pulumi up --stack ${o.stack}\`; preview it with \`pulumi preview --stack ${o.stack}\`\n`);
    });
  }

  const outputsOf = async (o: { from?: string; stack: string }) =>
    o.from ? readFileSync(resolve(io.cwd, o.from), "utf8") : await readStackOutputs(o.stack, projectDir(io.cwd));

  program
    .command("credentials")
    .description("print each participant's URL and password (the only command that prints secrets)")
    .addOption(stackOption())
    .addOption(new Option("--csv", "CSV").conflicts(["html", "json"]))
    .addOption(new Option("--html", "printable HTML cards").conflicts(["json"]))
    .option("--json", "JSON")
    .option("--from <outputs.json>", "saved `pulumi stack output --json --show-secrets` instead of asking Pulumi")
    .option("--user <name>", "only this participant (re-print one card)")
    .action(async (o: { stack: string; csv?: boolean; html?: boolean; json?: boolean; from?: string; user?: string }) => {
      let creds: StackCredentials = parseStackOutputs(await outputsOf(o));
      if (o.user !== undefined) {
        const user = checkName("participant", o.user);
        const rows = creds.rows.filter((r) => r.name === user);
        if (rows.length === 0) throw new Error(`the stack has no participant "${user}" (it has: ${creds.rows.map((r) => r.name).join(", ") || "none"})`);
        creds = { ...creds, rows };
      }
      if (o.json) io.out(JSON.stringify(creds.rows, null, 2) + "\n");
      else if (o.csv) io.out(formatCsv(creds));
      else if (o.html) io.out(formatHtml(creds));
      else io.out(formatTable(creds));
    });

  program
    .command("check")
    .description("probe every participant's URL through the proxy; exit 1 when a running participant is down")
    .addOption(stackOption())
    .option("--from <outputs.json>", "saved stack outputs instead of asking Pulumi")
    .option("--ca <ca.pem>", "the CA to verify TLS with (default: the stack's event CA)")
    .option("--timeout <seconds>", "per request", "10")
    .option("--json", "JSON")
    .action(async (o: { stack: string; from?: string; ca?: string; timeout: string; json?: boolean }) => {
      const seconds = Number(o.timeout);
      if (!(seconds > 0)) throw new UsageError(`--timeout must be a number of seconds, got "${o.timeout}"`);
      const json = await outputsOf(o);
      const check = await checkStack(json, {
        timeoutMs: seconds * 1000,
        ...(o.ca ? { ca: readFileSync(resolve(io.cwd, o.ca), "utf8") } : {}),
      });
      io.out(o.json ? JSON.stringify(check, null, 2) + "\n" : formatCheck(check));
      if (check.down > 0) throw new Exit(1);
    });

  program
    .command("purge")
    .description("delete a removed participant's workspace (volume or bind folder)")
    .argument("<user>", "the removed participant")
    .option("--yes", "really delete it")
    .addOption(fileOption())
    .addOption(stackOption())
    .action(async (user: string, o: FileOptions & { yes?: boolean }) => {
      throw new Exit(await purge(checkName("participant", user), file(o), o.yes === true, io));
    });

  program
    .command("doctor")
    .description("is this host ready? Docker, nginx, ports, the socket group, the image, Pulumi, memory, the LLM; exit 1 on any fail")
    .addOption(fileOption())
    .addOption(stackOption())
    .option("--json", "JSON")
    .action(async (o: FileOptions & { json?: boolean }) => {
      const event = loadEvent(file(o));
      const checks = await runDoctor(event, { projectDir: projectDir(io.cwd), env: io.env ?? process.env });
      io.out(o.json ? JSON.stringify(checks, null, 2) + "\n" : formatDoctor(checks));
      if (checks.some((c) => c.status === "fail")) throw new Exit(1);
    });

  program
    .command("prepare")
    .description("the day before, with internet: the Pulumi CLI, the provider plugins, the sandbox image, then doctor")
    .addOption(fileOption())
    .addOption(stackOption())
    .action(async (o: FileOptions) => {
      throw new Exit(await prepare({ eventFile: file(o), stack: o.stack, projectDir: projectDir(io.cwd), env: io.env ?? process.env, out: io.out, err: io.err }));
    });

  program
    .command("up")
    .description("deploy: the Pulumi CLI (installed into .pulumi-cli/ when missing), the local file backend, the stack, doctor, `pulumi up`")
    .addOption(fileOption())
    .addOption(stackOption())
    .argument("[pulumiArgs...]", "more arguments for `pulumi up`, after --")
    .action(async (pulumiArgs: string[], o: FileOptions) => {
      throw new Exit(await up({ stack: o.stack, eventFile: file(o), projectDir: projectDir(io.cwd), env: io.env ?? process.env, out: io.out, err: io.err, pulumiArgs }));
    });

  return program;
}

/** Shows each subcommand's usage line after a usage error (commander's own usage text, per command). */
function usageAfterErrors(command: Command): void {
  const path: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) path.unshift(c.name());
  const name = path.join(" ");
  command.showHelpAfterError(`usage: ${name} ${command.usage()}\n(run \`${name} --help\` for the options)`);
  for (const sub of command.commands) usageAfterErrors(sub);
}

function commandPath(argv: readonly string[], program: Command): string {
  const names = [program.name()];
  let c: Command | undefined = program;
  for (const arg of argv) {
    const sub: Command | undefined = c?.commands.find((s) => s.name() === arg);
    if (!sub) break;
    names.push(arg);
    c = sub;
  }
  return names.join(" ");
}

/** Builds the CLI, lets `extend` add commands, parses `argv` and maps every error to a message and an exit code. */
export async function main(argv: string[], io: Io, extend?: (program: Command) => void): Promise<number> {
  const program = buildCli(io);
  extend?.(program);
  usageAfterErrors(program);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof Exit) return err.code;
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return 0;
      return 2; // commander printed the message and the usage
    }
    if (err instanceof UsageError) {
      const name = commandPath(argv, program);
      const command = name.split(" ").slice(1).reduce<Command>((c, n) => c.commands.find((s) => s.name() === n) ?? c, program);
      io.err(`thon: ${err.message}\nusage: ${name} ${command.usage()}\n(run \`${name} --help\` for the options)\n`);
      return 2;
    }
    if (err instanceof ThonConfigError || err instanceof edit.EditError) {
      io.err(`${err.message}\n`);
      return 1;
    }
    // Anything else (a RunError from the program under mocks, a tool that failed): one line.
    const message = err instanceof Error ? err.message : String(err);
    io.err(`${commandPath(argv, program)}: ${message}\n`);
    if ((io.env ?? process.env).THON_DEBUG === "1" && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
    return 1;
  }
}

interface InitOptions {
  nonInteractive?: boolean;
  name?: string;
  host?: string;
  group: string[];
  auth?: "password" | "none";
  workspace?: "volume" | "bind" | "ephemeral";
  workspaceDir?: string;
  tls?: "ca" | "selfsigned";
  lemonade?: boolean;
  gateway?: boolean;
  out: string;
  stack: string;
  force?: boolean;
}

async function init(o: InitOptions, io: Io): Promise<void> {
  if (o.gateway && !o.lemonade) throw new UsageError("--gateway fronts Lemonade: add --lemonade, or leave out --gateway");
  if (o.workspaceDir !== undefined && o.workspace !== undefined && o.workspace !== "bind") {
    throw new UsageError(`--workspace-dir is for --workspace bind (got --workspace ${o.workspace})`);
  }
  const out = resolve(io.cwd, o.out);
  if (existsSync(out) && o.force !== true) throw new UsageError(`${out} exists; pass --force to overwrite it`);
  // Where the stack file goes: next to Pulumi.yaml. Without one there is no
  // project for `pulumi up` to run, so say where THON's is instead of writing a stray stack file.
  const project = findProject(io.cwd);
  if (project === undefined) {
    throw new Error(
      `no Pulumi.yaml in ${io.cwd} or above, so there is no project to deploy from. Fix: run \`npx thon init\` inside the THON folder (${THON_ROOT}), or in a folder below it`,
    );
  }
  const stackFile = join(project, `Pulumi.${o.stack}.yaml`);

  // The stack file's edit is known before any question: refuse now, not after the last answer.
  const fromProject = relative(project, out);
  const thonFile = fromProject.startsWith("..") ? out : fromProject;
  let stackText: string;
  try {
    stackText = existsSync(stackFile) ? editStackConfig(readFileSync(stackFile, "utf8"), thonFile, o.force === true) : renderStackConfig(thonFile);
  } catch (err) {
    if (err instanceof StackFileError) throw new Error(`cannot update ${stackFile}: ${err.message}`);
    throw err;
  }

  const interactive = !o.nonInteractive && io.ask !== undefined;
  /** Asks until the answer passes `check` (5 tries); flags are checked by the whole file at the end. */
  const ask = async (question: string, flag: string | undefined, fallback: string, check?: (v: string) => string | undefined): Promise<string> => {
    if (flag !== undefined || !interactive) return flag ?? fallback;
    for (let attempt = 0; attempt < 5; attempt++) {
      const answer = (await io.ask!(question, fallback)) || fallback;
      const problem = check?.(answer);
      if (problem === undefined) return answer;
      io.err(`  ${problem}; try again\n`);
    }
    throw new UsageError(`no valid answer to "${question}" after 5 tries`);
  };
  const choice = (values: readonly string[]) => (v: string) => (values.includes(v) ? undefined : `answer one of ${values.join(", ")}`);
  const yesNo = async (question: string, flag: boolean | undefined) =>
    flag === true || (interactive && (await ask(`${question} (y/n)`, undefined, "n", choice(["y", "n", "yes", "no"]))).startsWith("y"));

  const name = await ask("Event name", o.name, "hackathon", checkAnswer.name);
  const host = await ask("Host name or IP participants use", o.host, "127.0.0.1", checkAnswer.host);
  const groups: Record<string, string[]> = {};
  for (const g of o.group) {
    const [group, members] = parseGroupFlagOrUsage(g);
    groups[group] = members;
  }
  if (o.group.length === 0 && interactive) {
    for (;;) {
      const g = await ask("Group as name=user1,user2 (empty to finish)", undefined, "", (v) => (v === "" ? undefined : checkAnswer.group(v, groups)));
      if (!g) break;
      const [group, members] = parseGroupFlag(g);
      groups[group] = members;
    }
  }
  if (Object.keys(groups).length === 0) throw new UsageError("give at least one --group name=user1,user2");
  const auth = await ask("code-server auth (password|none)", o.auth, "password", choice(["password", "none"]));
  const workspace = await ask("Workspaces (volume|bind|ephemeral)", o.workspace, "volume", choice(["volume", "bind", "ephemeral"]));
  const workspaceDir =
    workspace === "bind" ? await ask("Host folder for the workspaces", o.workspaceDir, "/srv/thon/workspaces", checkAnswer.workspaceDir) : undefined;
  const tls = await ask("TLS (ca: an event CA participants import | selfsigned)", o.tls, "ca", choice(["ca", "selfsigned"]));
  const lemonade = await yesNo("A local LLM (Lemonade Server) for every sandbox?", o.lemonade);
  const gateway = lemonade && (await yesNo("The APISIX gateway in front of it (a key and a token limit per participant)?", o.gateway));
  const answers: InitAnswers = {
    name,
    host,
    groups,
    auth: auth as InitAnswers["auth"],
    workspace: workspace as InitAnswers["workspace"],
    ...(workspaceDir !== undefined ? { workspaceDir } : {}),
    tls: tls as "ca" | "selfsigned",
    lemonade,
    gateway,
  };

  const text = renderThonYaml(answers, schemaPathFor(out));
  parseThonFile(text, out); // the wizard never writes an invalid file
  writeFileSync(out, text);
  writeFileSync(stackFile, stackText);
  const shown = out.startsWith(io.cwd + "/") ? out.slice(io.cwd.length + 1) : out;
  io.out(`wrote ${out} and ${stackFile}\nnext: npx thon validate ${shown} && pulumi up --stack ${o.stack} (is the host ready? npx thon doctor --stack ${o.stack})\n`);
}

function parseGroupFlagOrUsage(value: string): [string, string[]] {
  try {
    return parseGroupFlag(value);
  } catch (err) {
    throw new UsageError(`--group: ${(err as Error).message}`);
  }
}

async function purge(user: string, path: string, yes: boolean, io: Io): Promise<number> {
  const event = loadEvent(path);
  if (event.participants.some((p) => p.name === user)) {
    io.err(`thon purge: ${user} is still in ${path}; remove them (thon users remove ${user}) and run \`pulumi up\` first\n`);
    return 1;
  }
  if (event.target.kind !== "local") {
    io.err("thon purge: runs against a local target only; on a remote host run `docker volume rm` there\n");
    return 1;
  }
  // The planner names the volume and the bind folder; a removed participant is planned as if still listed.
  const plan = planParticipant(event, { name: user, group: "", state: "stopped" });
  const volume = plan.resourceNames.volume;
  const what = plan.workspace.kind === "bind" ? plan.workspace.hostPath : volume;
  if (!yes) {
    io.err(`thon purge: this deletes ${user}'s workspace (${what}) for good; add --yes to do it\n`);
    return 1;
  }
  if (plan.workspace.kind === "bind") {
    await exec("rm", ["-rf", "--one-file-system", plan.workspace.hostPath]);
    io.out(`deleted ${plan.workspace.hostPath}\n`);
  } else {
    await exec("docker", ["volume", "rm", volume], { env: { ...process.env, DOCKER_HOST: event.target.dockerHost } });
    io.out(`deleted volume ${volume}\n`);
  }
  return 0;
}

/** Entry for bin/thon.mjs; `extend` adds more subcommands (the console's). */
export async function run(extend?: (program: Command) => void): Promise<void> {
  const rl = process.stdin.isTTY ? createInterface({ input: process.stdin, output: process.stderr }) : undefined;
  const io: Io = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    ...(rl ? { ask: async (q: string, fallback: string) => (await rl.question(`${q}${fallback ? ` [${fallback}]` : ""}: `)).trim() } : {}),
  };
  try {
    const code = await main(process.argv.slice(2), io, extend);
    // Commands added by `extend` (the console's) report failure through process.exitCode.
    process.exitCode = code !== 0 ? code : (process.exitCode ?? 0);
  } finally {
    rl?.close();
  }
}
