// Runs the Pulumi program the way Pulumi's Node.js language host
// (pulumi-language-nodejs, Go) runs it for `pulumi preview` / `pulumi up`,
// against monitor and engine addresses (test/support/engineStandIn.ts). From
// pulumi/pulumi v3.248.0:
// - pkg/engine/project.go getPwdMain: with `main: infra/index.ts` the program
//   directory is <root>/infra and the entry point `index.ts`; the language
//   host process is started in that directory (plugin.go newPlugin,
//   cmd.Dir = ctx.Pwd) and the node child inherits it.
// - sdk/nodejs/cmd/pulumi-language-nodejs/main.go Run / execRuntime /
//   constructArguments: `node <nodeargs split like a shell> <run path>
//   --monitor <addr> --engine <addr> --sync <pipes dir> --organization <org>
//   --project <p> --root-directory <root> --stack <s> --pwd <program dir>
//   [--dry-run] --parallel <n> <entry point>`, the run path being
//   `require.resolve('@pulumi/pulumi/cmd/run')` from the program directory
//   (locateModule), the environment the CLI's plus PULUMI_CONFIG (keys as
//   `<ns>:config:<name>`), PULUMI_CONFIG_SECRET_KEYS and, with the
//   `typescript` option on (its default), PULUMI_NODEJS_TYPESCRIPT=true.
//   Exit code 32 means the program already told the user (Bail); any other
//   non-zero code becomes "Program exited with non-zero exit code: N".
// - The --monitor address is the language host's own proxy (proxy.go), which
//   forwards every call unchanged to the engine (adding a `pulumi-runtime:
//   nodejs` header the engine reads only for SDKs that send no alias specs);
//   here the program talks to the stand-in directly. The --sync pipes serve
//   synchronous invokes; this SDK never opens them, they are made anyway.
// - pkg/backend/diy: the file backend's organization is always
//   "organization"; pkg/cmd/pulumi/operations/up.go defaultParallel:
//   4 x GOMAXPROCS (the CPUs).
// - sdk/go/common/workspace/config.go mergeConfig: a key the project declares
//   without a default or value must be set on the stack, or the CLI stops
//   before running the program.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { basename, delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { parse } from "yaml";

export interface Project {
  readonly name: string;
  readonly runtime: { readonly name: string; readonly options: Readonly<Record<string, unknown>> };
  readonly main?: string;
  readonly config?: Readonly<Record<string, { type?: string; default?: unknown; value?: unknown }>>;
}

/** Pulumi.yaml of the project in `root` (runtime may be a string or { name, options }). */
export function readProject(root: string): Project {
  const raw = parse(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
  const runtime = raw.runtime as string | { name: string; options?: Record<string, unknown> };
  return {
    name: String(raw.name),
    runtime: typeof runtime === "string" ? { name: runtime, options: {} } : { name: runtime.name, options: runtime.options ?? {} },
    ...(typeof raw.main === "string" ? { main: raw.main } : {}),
    ...(raw.config ? { config: raw.config as Project["config"] } : {}),
  };
}

/** Pulumi.<stack>.yaml's plain config values (this stand-in has no secrets provider to decrypt `secure:` values). */
export function readStackConfig(root: string, stack: string): Record<string, string> {
  const raw = (parse(readFileSync(join(root, `Pulumi.${stack}.yaml`), "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw.config ?? {})) {
    if (typeof v === "object" && v !== null) throw new Error(`${k}: secure or structured config is not supported by this stand-in`);
    out[k] = String(v);
  }
  return out;
}

/** The project's own keys that the stack must set (mergeConfig's missingConfigurationKeys). */
export function missingConfigKeys(project: Project, config: Readonly<Record<string, string>>): string[] {
  return Object.entries(project.config ?? {})
    .map(([key, spec]) => [key.includes(":") ? key : `${project.name}:${key}`, spec] as const)
    .filter(([key, spec]) => key.startsWith(`${project.name}:`) && !(key in config) && spec.default === undefined && spec.value === undefined)
    .map(([key]) => key)
    .sort();
}

/** getPwdMain: the program directory and the entry point. */
export function pwdMain(root: string, main: string | undefined): { pwd: string; main: string } {
  if (!main) return { pwd: root, main: "." };
  const full = isAbsolute(main) ? main : resolve(root, main);
  return statSync(full).isDirectory() ? { pwd: full, main: "." } : { pwd: dirname(full), main: basename(full) };
}

/** shlex.Split for the simple case; quotes or escapes are refused rather than guessed. */
function splitArgs(s: string): string[] {
  if (/['"\\]/.test(s)) throw new Error(`nodeargs with quotes or escapes is not handled by this stand-in: ${s}`);
  return s.split(/\s+/).filter((a) => a !== "");
}

/** exec.LookPath("node"). */
function lookPath(file: string): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const p = join(dir || ".", file);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  throw new Error(`could not find ${file} on the $PATH`);
}

export interface RunOptions {
  readonly root: string;
  readonly stack: string;
  readonly dryRun: boolean;
  readonly monitorAddress: string;
  readonly engineAddress: string;
  /** The stack's config as the engine passes it: full keys (`thon:file`), decrypted values. */
  readonly config: Readonly<Record<string, string>>;
  readonly secretKeys?: readonly string[];
  /** Added to the environment (for a probe); the rest is this process's, minus the test runner's own variables. */
  readonly extraEnv?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export interface RunResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** What the language host answers the engine: RunResponse.error ("" when the program succeeded or bailed). */
  readonly error: string;
  readonly bail: boolean;
  /** The child's command line (argv[0] is the node binary) and working directory. */
  readonly command: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

/** Runs the project's program once, as `pulumi preview` (dryRun) or `pulumi up` would through the language host. */
export async function runProgram(opts: RunOptions): Promise<RunResult> {
  const project = readProject(opts.root);
  if (project.runtime.name !== "nodejs") throw new Error(`runtime ${project.runtime.name} is not the Node.js language host`);
  const { pwd, main } = pwdMain(opts.root, project.main);
  const options = project.runtime.options;
  const node = lookPath("node");

  // locateModule: resolved by node itself, from the program directory.
  const script = `try { console.log(require.resolve('@pulumi/pulumi/cmd/run')); } catch (error) { if (error.code === 'MODULE_NOT_FOUND') { console.error("It looks like the Pulumi SDK has not been installed. Have you run pulumi install?") } else { console.error(error.message); } process.exit(1); }`;
  const located = spawnSync(node, ["-e", script], { cwd: pwd, encoding: "utf8", timeout: 30_000 });
  if (located.status !== 0) throw new Error(located.stderr);
  const runPath = located.stdout.trim();

  const pipes = mkdtempSync(join(tmpdir(), "pulumi-node-pipes"));
  execFileSync("mkfifo", ["-m", "600", join(pipes, "invoke_req"), join(pipes, "invoke_res")]);

  const args = [
    runPath,
    "--monitor", opts.monitorAddress,
    "--engine", opts.engineAddress,
    "--sync", pipes,
    "--organization", "organization",
    "--project", project.name,
    "--root-directory", opts.root,
    "--stack", opts.stack,
    "--pwd", pwd,
    ...(opts.dryRun ? ["--dry-run"] : []),
    "--parallel", String(availableParallelism() * 4),
    main,
  ];
  const nodeArgs = typeof options.nodeargs === "string" ? splitArgs(options.nodeargs) : [];
  const command = [node, ...nodeArgs, ...args];

  // constructConfig: `ns:name` becomes `ns:config:name`; Go's json.Marshal sorts map keys.
  const config: Record<string, string> = {};
  for (const key of Object.keys(opts.config).sort()) {
    const i = key.indexOf(":");
    config[`${key.slice(0, i)}:config:${key.slice(i + 1)}`] = opts.config[key]!;
  }
  const pulumiEnv: Record<string, string> = {
    PULUMI_CONFIG: JSON.stringify(config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(opts.secretKeys ?? []),
  };
  if (options.typescript !== false) pulumiEnv.PULUMI_NODEJS_TYPESCRIPT = "true";
  if (typeof options.tsconfig === "string") pulumiEnv.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && !/^(VITEST|NODE_OPTIONS$|NODE_ENV$|PULUMI_|TEST$)/.test(k)),
  ) as Record<string, string>;
  const env = { ...inherited, ...pulumiEnv, ...opts.extraEnv };

  try {
    return await new Promise<RunResult>((resolvePromise, reject) => {
      const child = spawn(command[0]!, command.slice(1), { cwd: pwd, env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, opts.timeoutMs);
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        const bail = code === 32;
        const error = code === 0 || bail ? "" : code === null ? `Program exited unexpectedly: ${signal}` : `Program exited with non-zero exit code: ${code}`;
        resolvePromise({ exitCode: code, signal, timedOut, stdout, stderr, error, bail, command, cwd: pwd, env: pulumiEnv });
      });
    });
  } finally {
    rmSync(pipes, { recursive: true, force: true });
  }
}
