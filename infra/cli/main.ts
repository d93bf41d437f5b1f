// The `thon` command. Every subcommand works on thon.yaml or the stack;
// exit codes: 0 done, 1 the file or the stack has a problem, 2 wrong usage.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { execFile } from "node:child_process";
import { parseArgs, promisify } from "node:util";
import { createInterface } from "node:readline/promises";
import { parse as parseYaml } from "yaml";
import { loadEvent, parseThonFile, ThonConfigError } from "../config/load.ts";
import { NAME_PATTERN, NAME_RULE } from "../config/names.ts";
import * as edit from "./edit.ts";
import { formatCsv, formatHtml, formatTable, parseStackOutputs, readStackOutputs } from "./credentials.ts";
import { checkStack, formatCheck } from "./check.ts";
import { parseGroupFlag, renderStackConfig, renderThonYaml, type InitAnswers } from "./init.ts";
import { diffEvaluations, evaluateEventFile, formatDiff, formatPlan, planEntries } from "./plan.ts";

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
  /** Answers interactive questions; undefined means "not interactive". */
  readonly ask?: (question: string, fallback: string) => Promise<string>;
}

class UsageError extends Error {}

const USAGE = `thon: the hackathon organizer node, as code

  thon validate [file]                 check thon.yaml; exit 1 with every problem
  thon plan [file] [--json] [--against old.yaml]
                                       evaluate the program offline (Pulumi mocks) and
                                       list every resource it declares, or the diff
  thon init [--non-interactive] --name N --host H --group g=u1,u2 [...]
            [--auth password|none] [--workspace volume|bind|ephemeral]
            [--workspace-dir D] [--lemonade] [--gateway] [--out thon.yaml] [--stack dev]
  thon users add <user> --group <g> | remove <user> | move <user> --to <g>
             | stop <user> | start <user>
  thon groups add <g> | remove <g> | stop <g> | start <g>
  thon credentials [--stack dev] [--csv | --html | --json] [--from outputs.json]
  thon check [--stack dev] [--from outputs.json] [--ca ca.pem] [--timeout 10] [--json]
                                       probe every participant's URL through the proxy;
                                       exit 1 when a running participant is down
  thon purge <user> --yes              delete a removed participant's workspace

  Options: --file <thon.yaml> (default: the stack's thon:file, else ./thon.yaml),
           --stack <name> (default dev)
`;

/**
 * The Pulumi project's folder: the nearest folder from `cwd` upwards with a
 * Pulumi.yaml, as the Pulumi CLI finds it; `cwd` itself when there is none
 * (a new event's folder before `thon init`). Stack files live there, and
 * `thon:file` is relative to it (infra/index.ts reads it so).
 */
export function projectDir(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "Pulumi.yaml")) || existsSync(join(dir, "Pulumi.yml"))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
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

function checkName(kind: string, name: string | undefined): string {
  if (!name) throw new UsageError(`missing the ${kind} name`);
  if (!NAME_PATTERN.test(name)) throw new UsageError(`"${name}" is not a valid ${kind} name: ${NAME_RULE}`);
  return name;
}

/** Applies an edit, validates the whole result, then writes it atomically; nothing half-applied. */
function applyEdit(file: string, change: (text: string) => string): void {
  const before = readFileSync(file, "utf8");
  const after = change(before);
  parseThonFile(after, file); // throws with every problem; the file is untouched
  const tmp = `${file}.thon-tmp`;
  writeFileSync(tmp, after);
  renameSync(tmp, file);
}

const exec = promisify(execFile);

export async function main(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      file: { type: "string" },
      stack: { type: "string", default: "dev" },
      json: { type: "boolean", default: false },
      csv: { type: "boolean", default: false },
      html: { type: "boolean", default: false },
      from: { type: "string" },
      ca: { type: "string" },
      timeout: { type: "string" },
      against: { type: "string" },
      group: { type: "string", multiple: true },
      to: { type: "string" },
      name: { type: "string" },
      host: { type: "string" },
      auth: { type: "string" },
      workspace: { type: "string" },
      "workspace-dir": { type: "string" },
      lemonade: { type: "boolean", default: false },
      gateway: { type: "boolean", default: false },
      out: { type: "string" },
      force: { type: "boolean", default: false },
      yes: { type: "boolean", default: false },
      "non-interactive": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, ...rest] = positionals;
  const stack = values.stack!;
  const file = () => resolveEventFile(io.cwd, values.file ?? (command === "validate" || command === "plan" ? rest[0] : undefined), stack);

  try {
    switch (command) {
      case undefined:
      case "help":
        io.out(USAGE);
        return command === undefined && !values.help ? 2 : 0;

      case "validate": {
        const path = file();
        const event = loadEvent(path);
        io.out(`${path}: valid (${event.participants.length} participants in ${event.groups.length} groups)\n`);
        return 0;
      }

      case "plan": {
        const path = file();
        const after = await evaluateEventFile(path, stack);
        if (values.against) {
          const before = await evaluateEventFile(resolve(io.cwd, values.against), stack);
          const diff = diffEvaluations(before, after);
          io.out(values.json ? JSON.stringify({ counts: diff.counts, changes: diff.changes }, null, 2) + "\n" : formatDiff(diff));
        } else {
          io.out(values.json ? JSON.stringify(planEntries(after), null, 2) + "\n" : formatPlan(after));
        }
        return 0;
      }

      case "init":
        return await init(values, stack, io);

      case "users": {
        const [action, user] = rest;
        const path = file();
        const name = checkName("participant", user);
        switch (action) {
          case "add":
            applyEdit(path, (t) => edit.addUser(t, name, checkName("group", values.group?.[0])));
            io.out(`added ${name} to ${values.group![0]}; run \`pulumi up\` to create their sandbox\n`);
            return 0;
          case "remove":
            applyEdit(path, (t) => edit.removeUser(t, name));
            io.out(`removed ${name}; their workspace is kept (delete it with \`thon purge ${name} --yes\` after \`pulumi up\`)\n`);
            return 0;
          case "move":
            applyEdit(path, (t) => edit.moveUser(t, name, checkName("group", values.to)));
            io.out(`moved ${name} to ${values.to}; their sandbox keeps running\n`);
            return 0;
          case "stop":
          case "start":
            applyEdit(path, (t) => edit.setUserState(t, name, action === "stop" ? "stopped" : "running"));
            io.out(`${name} will be ${action === "stop" ? "stopped" : "running"} after \`pulumi up\`\n`);
            return 0;
          default:
            throw new UsageError(`thon users: unknown action "${action ?? ""}" (add, remove, move, stop, start)`);
        }
      }

      case "groups": {
        const [action, group] = rest;
        const path = file();
        const name = checkName("group", group);
        switch (action) {
          case "add":
            applyEdit(path, (t) => edit.addGroup(t, name));
            break;
          case "remove":
            applyEdit(path, (t) => edit.removeGroup(t, name));
            break;
          case "stop":
          case "start":
            applyEdit(path, (t) => edit.setGroupState(t, name, action === "stop" ? "stopped" : "running"));
            break;
          default:
            throw new UsageError(`thon groups: unknown action "${action ?? ""}" (add, remove, stop, start)`);
        }
        io.out(`group ${name}: ${action} written to ${path}\n`);
        return 0;
      }

      case "credentials": {
        const json = values.from ? readFileSync(resolve(io.cwd, values.from), "utf8") : await readStackOutputs(stack, projectDir(io.cwd));
        const creds = parseStackOutputs(json);
        if (values.json) io.out(JSON.stringify(creds.rows, null, 2) + "\n");
        else if (values.csv) io.out(formatCsv(creds));
        else if (values.html) io.out(formatHtml(creds));
        else io.out(formatTable(creds));
        return 0;
      }

      case "check": {
        const json = values.from ? readFileSync(resolve(io.cwd, values.from), "utf8") : await readStackOutputs(stack, projectDir(io.cwd));
        const seconds = values.timeout === undefined ? 10 : Number(values.timeout);
        if (!(seconds > 0)) throw new UsageError(`--timeout must be a number of seconds, got "${values.timeout}"`);
        const check = await checkStack(json, {
          timeoutMs: seconds * 1000,
          ...(values.ca ? { ca: readFileSync(resolve(io.cwd, values.ca), "utf8") } : {}),
        });
        io.out(values.json ? JSON.stringify(check, null, 2) + "\n" : formatCheck(check));
        return check.down > 0 ? 1 : 0;
      }

      case "purge":
        return await purge(checkName("participant", rest[0]), file(), values.yes!, io);

      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`thon: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof ThonConfigError || err instanceof edit.EditError) {
      io.err(`${err.message}\n`);
      return 1;
    }
    // Errors from the program under mocks (e.g. a RunError for a bad file) and from tools.
    io.err(`thon ${command}: ${(err as Error).message}\n`);
    return 1;
  }
}

async function init(values: Record<string, unknown>, stack: string, io: Io): Promise<number> {
  const interactive = !values["non-interactive"] && io.ask !== undefined;
  const ask = async (q: string, current: unknown, fallback: string) =>
    typeof current === "string" ? current : interactive ? (await io.ask!(q, fallback)) || fallback : fallback;

  const name = await ask("Event name", values.name, "hackathon");
  const host = await ask("Host name or IP participants use", values.host, "127.0.0.1");
  let groupFlags = (values.group as string[] | undefined) ?? [];
  if (groupFlags.length === 0 && interactive) {
    for (;;) {
      const g = await io.ask!("Group as name=user1,user2 (empty to finish)", "");
      if (!g) break;
      groupFlags = [...groupFlags, g];
    }
  }
  if (groupFlags.length === 0) throw new UsageError("give at least one --group name=user1,user2");
  const groups = Object.fromEntries(groupFlags.map(parseGroupFlag));
  const auth = await ask("code-server auth (password|none)", values.auth, "password");
  const workspace = await ask("Workspaces (volume|bind|ephemeral)", values.workspace, "volume");
  const answers: InitAnswers = {
    name,
    host,
    groups,
    auth: auth as InitAnswers["auth"],
    workspace: workspace as InitAnswers["workspace"],
    ...(typeof values["workspace-dir"] === "string" ? { workspaceDir: values["workspace-dir"] } : {}),
    lemonade: values.lemonade === true,
    gateway: values.gateway === true,
  };
  const out = resolve(io.cwd, (values.out as string | undefined) ?? "thon.yaml");
  const project = projectDir(io.cwd);
  const stackFile = join(project, `Pulumi.${stack}.yaml`);
  for (const f of [out, stackFile]) {
    if (existsSync(f) && values.force !== true) throw new UsageError(`${f} exists; pass --force to overwrite it`);
  }
  const text = renderThonYaml(answers);
  parseThonFile(text, out); // the wizard never writes an invalid file
  writeFileSync(out, text);
  const fromProject = relative(project, out);
  writeFileSync(stackFile, renderStackConfig(fromProject.startsWith("..") ? out : fromProject));
  const shown = out.startsWith(io.cwd + "/") ? out.slice(io.cwd.length + 1) : out;
  io.out(`wrote ${out} and ${stackFile}\nnext: npx thon validate ${shown} && pulumi up --stack ${stack}\n`);
  return 0;
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
  const volume = `thon-workspace-${user}`;
  if (!yes) {
    io.err(`thon purge: this deletes ${user}'s workspace (${event.workspace.mode === "bind" ? join(event.workspace.hostDir, user) : volume}) for good; add --yes to do it\n`);
    return 1;
  }
  const env = { ...process.env, DOCKER_HOST: event.target.dockerHost };
  if (event.workspace.mode === "bind") {
    const dir = join(event.workspace.hostDir, user);
    await exec("rm", ["-rf", "--one-file-system", dir]);
    io.out(`deleted ${dir}\n`);
  } else {
    await exec("docker", ["volume", "rm", volume], { env });
    io.out(`deleted volume ${volume}\n`);
  }
  return 0;
}

/** Entry for bin/thon.mjs. */
export async function run(): Promise<void> {
  const rl = process.stdin.isTTY ? createInterface({ input: process.stdin, output: process.stderr }) : undefined;
  const io: Io = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    ...(rl ? { ask: async (q: string, fallback: string) => (await rl.question(`${q}${fallback ? ` [${fallback}]` : ""}: `)).trim() } : {}),
  };
  try {
    process.exitCode = await main(process.argv.slice(2), io);
  } finally {
    rl?.close();
  }
}

