// Drives a dynamic provider the way the Pulumi engine does: starts
// @pulumi/pulumi's own dynamic-provider host (the process the engine runs for
// every `pulumi-nodejs:dynamic/*` resource) and calls its gRPC
// ResourceProvider service with the `__provider` text and the inputs the
// program registered. What breaks in production (a provider that does not
// serialize or does not run in a plain Node process, secrets or diffs that
// come back wrong) breaks here.
import { spawn, type ChildProcess } from "node:child_process";
import { pwdMain, readProject } from "./languageHost.ts";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
// Load the gRPC and protobuf modules the host itself uses (same copies).
const pulumiDir = dirname(require.resolve("@pulumi/pulumi/package.json"));
const fromPulumi = createRequire(join(pulumiDir, "package.json"));
const grpc = fromPulumi("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const providerGrpc = fromPulumi("./proto/provider_grpc_pb") as {
  ResourceProviderClient: new (address: string, credentials: unknown) => GrpcClient;
};
const pb = fromPulumi("./proto/provider_pb") as Record<string, new () => Message>;
const structPb = fromPulumi("google-protobuf/google/protobuf/struct_pb") as {
  Struct: { fromJavaScript(value: Record<string, unknown>): unknown };
};

type Message = Record<string, (...args: unknown[]) => unknown>;
type Callback = (err: (Error & { details?: string }) | null, resp: Message) => void;
type GrpcClient = Record<string, (req: Message, cb: Callback) => void> & { close(): void };

export const HOST_SCRIPT = join(pulumiDir, "cmd", "dynamic-provider", "index.js");

export type Props = Record<string, unknown>;

export interface CheckResult {
  readonly inputs: Props;
  readonly failures: ReadonlyArray<{ property: string; reason: string }>;
}

export interface DiffResult {
  readonly changes: "none" | "some" | "unknown";
  readonly replaces: readonly string[];
  readonly deleteBeforeReplace: boolean;
}

export interface DynamicProviderHost {
  readonly port: number;
  check(urn: string, olds: Props, news: Props): Promise<CheckResult>;
  diff(urn: string, id: string, olds: Props, news: Props): Promise<DiffResult>;
  create(urn: string, properties: Props): Promise<{ id: string; properties: Props }>;
  read(urn: string, id: string, properties: Props, inputs?: Props): Promise<{ id: string; properties: Props; inputs: Props | undefined }>;
  update(urn: string, id: string, olds: Props, news: Props): Promise<{ properties: Props }>;
  delete(urn: string, id: string, properties: Props): Promise<void>;
  /** What the host printed on stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

export interface HostOptions {
  /** The project's folder (Pulumi.yaml's). */
  readonly root: string;
  /** The host's environment; the engine passes its own (where APISIX_ADMIN_KEY would come from). */
  readonly env?: NodeJS.ProcessEnv;
  readonly startTimeoutMs?: number;
}

/** Struct.fromJavaScript refuses undefined; the engine never sends it either. */
const plain = (value: Props): Props => JSON.parse(JSON.stringify(value)) as Props;
const struct = (value: Props) => structPb.Struct.fromJavaScript(plain(value));
const toJs = (s: unknown): Props => ((s as { toJavaScript(): Props } | undefined)?.toJavaScript() ?? {}) as Props;

/** Starts the host as the engine does (`node <host> <engine address>`) and waits for the port it prints. */
export async function startDynamicProviderHost(options: HostOptions): Promise<DynamicProviderHost> {
  // The engine runs every plugin, this host too, in the program's folder:
  // main's folder (infra/), not the project's (pkg/engine/project.go, plugin.go).
  const child: ChildProcess = spawn(process.execPath, [HOST_SCRIPT, "127.0.0.1:1"], {
    cwd: pwdMain(options.root, readProject(options.root).main).pwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`dynamic-provider host printed no port in time; stderr: ${stderr}`)), options.startTimeoutMs ?? 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n")[0]!;
      if (out.includes("\n") && /^\d+$/.test(line.trim())) {
        clearTimeout(timer);
        resolve(Number(line.trim()));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`dynamic-provider host exited with ${code}; stderr: ${stderr}`));
    });
  });
  const client = new providerGrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

  const call = (method: string, req: Message): Promise<Message> =>
    new Promise((resolve, reject) =>
      client[method]!(req, (err, resp) => (err ? reject(new Error(err.details ?? err.message)) : resolve(resp))),
    );
  const make = (type: string, fields: Record<string, unknown>): Message => {
    const msg = new pb[type]!();
    for (const [setter, value] of Object.entries(fields)) msg[setter]!(value);
    return msg;
  };

  // The engine configures every provider first; the dynamic host then answers acceptSecrets=false,
  // so the engine sends secret values as plain values and marks outputs secret itself.
  await call("configure", make("ConfigureRequest", { setArgs: struct({}), setAcceptsecrets: true, setAcceptresources: true }));

  return {
    port,
    async check(urn, olds, news) {
      const resp = await call("check", make("CheckRequest", { setUrn: urn, setOlds: struct(olds), setNews: struct(news) }));
      const failures = (resp.getFailuresList!() as Message[]).map((f) => ({ property: f.getProperty!() as string, reason: f.getReason!() as string }));
      return { inputs: toJs(resp.getInputs!()), failures };
    },
    async diff(urn, id, olds, news) {
      const resp = await call("diff", make("DiffRequest", { setUrn: urn, setId: id, setOlds: struct(olds), setNews: struct(news) }));
      const changes = resp.getChanges!() as number;
      return {
        changes: changes === 1 ? "none" : changes === 2 ? "some" : "unknown",
        replaces: resp.getReplacesList!() as string[],
        deleteBeforeReplace: resp.getDeletebeforereplace!() as boolean,
      };
    },
    async create(urn, properties) {
      const resp = await call("create", make("CreateRequest", { setUrn: urn, setProperties: struct(properties) }));
      return { id: resp.getId!() as string, properties: toJs(resp.getProperties!()) };
    },
    async read(urn, id, properties, inputs) {
      const resp = await call(
        "read",
        make("ReadRequest", { setUrn: urn, setId: id, setProperties: struct(properties), ...(inputs ? { setInputs: struct(inputs) } : {}) }),
      );
      const readInputs = resp.getInputs!();
      return { id: resp.getId!() as string, properties: toJs(resp.getProperties!()), inputs: readInputs ? toJs(readInputs) : undefined };
    },
    async update(urn, id, olds, news) {
      const resp = await call("update", make("UpdateRequest", { setUrn: urn, setId: id, setOlds: struct(olds), setNews: struct(news) }));
      return { properties: toJs(resp.getProperties!()) };
    },
    async delete(urn, id, properties) {
      await call("delete", make("DeleteRequest", { setUrn: urn, setId: id, setProperties: struct(properties) }));
    },
    stderr: () => stderr,
    async stop() {
      client.close();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

/**
 * Which output properties the engine would store as secrets: those whose
 * input was secret (the engine carries secretness from inputs to outputs of
 * the same name) and those named in additionalSecretOutputs.
 */
export function engineSecretOutputs(secretInputs: readonly string[], additionalSecretOutputs: readonly string[]): Set<string> {
  return new Set([...secretInputs, ...additionalSecretOutputs]);
}

/** Output properties whose value contains one of `secrets` but would not be stored as a secret. */
export function leakedSecrets(properties: Props, secrets: readonly string[], secretOutputs: ReadonlySet<string>): string[] {
  return Object.keys(properties)
    .filter((k) => k !== "__provider" && !secretOutputs.has(k))
    .filter((k) => secrets.some((s) => s.length > 0 && JSON.stringify(properties[k]).includes(s)));
}
