// Runs the policy pack the way `pulumi preview --policy-pack policies` does,
// and talks to it as the engine would.
//
// The engine starts a Node.js pack through @pulumi/pulumi/cmd/run-policy-pack
// (resolved from the pack's folder, run with the pack's folder as working
// directory and `<engine address> .` as arguments); `new PolicyPack(...)` then
// serves @pulumi/policy's gRPC Analyzer on 127.0.0.1 and prints the port. The
// engine sends Analyze for each resource's inputs before it is created or
// updated, and AnalyzeStack with every resource's outputs at the end of a
// preview or update. Requests carry `options` (AnalyzerResourceOptions), as
// current CLIs send; without them the pack answers that a newer CLI is needed.
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import structModule from "google-protobuf/google/protobuf/struct_pb.js";
import emptyModule from "google-protobuf/google/protobuf/empty_pb.js";
import analyzerPbModule from "@pulumi/pulumi/proto/analyzer_pb.js";
import analyzerGrpcModule from "@pulumi/pulumi/proto/analyzer_grpc_pb.js";
import type * as AnalyzerPb from "@pulumi/pulumi/proto/analyzer_pb.js";
import type * as AnalyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb.js";
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc.js";
import type { Evaluation, RecordedResource } from "../preview/evaluate.ts";

const pb = analyzerPbModule as unknown as typeof AnalyzerPb;
const rpc = analyzerGrpcModule as unknown as typeof AnalyzerGrpc;
const { Struct } = structModule as unknown as typeof import("google-protobuf/google/protobuf/struct_pb.js");
const { Empty } = emptyModule as unknown as typeof import("google-protobuf/google/protobuf/empty_pb.js");

/** The repository's policy pack folder. */
export const POLICY_PACK_DIR = resolve(import.meta.dirname, "../../policies");

/**
 * How the engine marks values in a properties Struct: the Node.js SDK's own
 * constants (runtime/rpc.ts), and the typed unknowns the engine sends to
 * analyzers, which only the Go SDK names (sdk/go/common/resource/plugin/rpc.go).
 */
export const WIRE = {
  secretSigKey: specialSigKey,
  secretSig: specialSecretSig,
  /** What the engine sends for a string (or any) value not known during preview. */
  unknown: unknownValue,
  unknownBoolean: "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  unknownNumber: "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  unknownArray: "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
} as const;

export type EnforcementLevel = "advisory" | "mandatory" | "disabled" | "remediate";
const LEVELS: EnforcementLevel[] = ["advisory", "mandatory", "disabled", "remediate"];
const levelName = (n: number): EnforcementLevel => LEVELS[n] ?? "advisory";
const levelNumber = (l: EnforcementLevel): AnalyzerPb.EnforcementLevel => LEVELS.indexOf(l) as AnalyzerPb.EnforcementLevel;

/** One resource as the engine describes it to an analyzer. */
export interface AnalyzerResourceInput {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  /** Inputs (Analyze) or outputs (AnalyzeStack), plain values. */
  readonly properties: Record<string, unknown>;
  /** Top-level properties sent as secrets. */
  readonly secrets?: readonly string[];
  readonly protect?: boolean;
  readonly deleteBeforeReplace?: boolean;
  readonly ignoreChanges?: readonly string[];
  readonly additionalSecretOutputs?: readonly string[];
  readonly parent?: string;
  readonly dependencies?: readonly string[];
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

export interface Diagnostic {
  readonly policyName: string;
  readonly policyPackName: string;
  readonly message: string;
  readonly description: string;
  readonly enforcementLevel: EnforcementLevel;
  readonly urn: string;
}

export interface AnalyzeResult {
  readonly diagnostics: readonly Diagnostic[];
  readonly notApplicable: readonly { readonly policyName: string; readonly reason: string }[];
}

export interface PolicyInfo {
  readonly name: string;
  readonly description: string;
  readonly enforcementLevel: EnforcementLevel;
  readonly configSchema: Record<string, unknown> | undefined;
}

export interface AnalyzerInfo {
  readonly name: string;
  readonly version: string;
  readonly supportsConfig: boolean;
  readonly policies: readonly PolicyInfo[];
}

/** Per-policy config as in a `--policy-pack-config` file: a level, or { enforcementLevel?, ...properties }. */
export type PackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

/** Plain JSON for a Struct: no undefined (protobuf's Struct has no such value). */
function jsonSafe(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}

function toStruct(properties: Record<string, unknown>, secrets: readonly string[] = []) {
  const wire: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (value === undefined) continue;
    wire[key] = secrets.includes(key) ? { [WIRE.secretSigKey]: WIRE.secretSig, value: jsonSafe(value) } : jsonSafe(value);
  }
  return Struct.fromJavaScript(wire as Record<string, never>);
}

function toOptions(r: AnalyzerResourceInput): AnalyzerPb.AnalyzerResourceOptions {
  const o = new pb.AnalyzerResourceOptions();
  o.setProtect(r.protect ?? false);
  o.setIgnorechangesList([...(r.ignoreChanges ?? [])]);
  if (r.deleteBeforeReplace !== undefined) {
    o.setDeletebeforereplace(r.deleteBeforeReplace);
    o.setDeletebeforereplacedefined(true);
  }
  o.setAdditionalsecretoutputsList([...(r.additionalSecretOutputs ?? [])]);
  o.setAliasesList([]);
  if (r.parent) o.setParent(r.parent);
  return o;
}

export function toAnalyzeRequest(r: AnalyzerResourceInput): AnalyzerPb.AnalyzeRequest {
  return new pb.AnalyzeRequest()
    .setType(r.type)
    .setName(r.name)
    .setUrn(r.urn)
    .setProperties(toStruct(r.properties, r.secrets))
    .setOptions(toOptions(r));
}

export function toAnalyzerResource(r: AnalyzerResourceInput): AnalyzerPb.AnalyzerResource {
  const res = new pb.AnalyzerResource()
    .setType(r.type)
    .setName(r.name)
    .setUrn(r.urn)
    .setProperties(toStruct(r.properties, r.secrets))
    .setOptions(toOptions(r))
    .setParent(r.parent ?? "")
    .setDependenciesList([...(r.dependencies ?? [])]);
  for (const [key, urns] of Object.entries(r.propertyDependencies ?? {})) {
    res.getPropertydependenciesMap().set(key, new pb.AnalyzerPropertyDependencies().setUrnsList([...urns]));
  }
  return res;
}

/** A resource the program registered under mocks, as the engine would describe it (inputs for Analyze). */
export function fromRecorded(r: RecordedResource): AnalyzerResourceInput {
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    properties: r.inputs,
    secrets: r.secretInputs,
    protect: r.options.protect,
    deleteBeforeReplace: r.options.deleteBeforeReplace,
    ignoreChanges: r.options.ignoreChanges,
    additionalSecretOutputs: r.options.additionalSecretOutputs,
    ...(r.parent ? { parent: r.parent } : {}),
    dependencies: r.options.dependencies,
    propertyDependencies: r.options.propertyDependencies,
  };
}

/**
 * Every resource of a mock evaluation, for AnalyzeStack. The engine sends
 * each resource's outputs; in a preview those are its inputs, so the recorded
 * inputs stand in for them. The Stack resource carries the stack outputs.
 */
export function stackResources(e: Evaluation): AnalyzerResourceInput[] {
  return e.resources.map((r) =>
    r.type === "pulumi:pulumi:Stack" ? { ...fromRecorded(r), properties: e.outputs, secrets: e.secretOutputs } : fromRecorded(r),
  );
}

function toResult(resp: AnalyzerPb.AnalyzeResponse): AnalyzeResult {
  return {
    diagnostics: resp.getDiagnosticsList().map((d) => ({
      policyName: d.getPolicyname(),
      policyPackName: d.getPolicypackname(),
      message: d.getMessage(),
      description: d.getDescription(),
      enforcementLevel: levelName(d.getEnforcementlevel()),
      urn: d.getUrn(),
    })),
    notApplicable: resp.getNotApplicableList().map((n) => ({ policyName: n.getPolicyName(), reason: n.getReason() })),
  };
}

export interface PolicyPackServer {
  readonly port: number;
  readonly pid: number;
  /** What the pack printed to stderr so far. */
  stderr(): string;
  getAnalyzerInfo(): Promise<AnalyzerInfo>;
  /** Sends the pack's config the way the CLI does: every configured policy with its effective level. */
  configure(config: PackConfig): Promise<void>;
  analyze(resource: AnalyzerResourceInput): Promise<AnalyzeResult>;
  /** Sends a request as built by the caller (e.g. one without options, as an old CLI would). */
  analyzeRequest(request: AnalyzerPb.AnalyzeRequest): Promise<AnalyzeResult>;
  analyzeStack(resources: readonly AnalyzerResourceInput[]): Promise<AnalyzeResult>;
  /** Closes the connection and ends the pack (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly packDir?: string;
  /** How long the pack may take to print its port. */
  readonly timeoutMs?: number;
  /** Deadline of each RPC. */
  readonly rpcTimeoutMs?: number;
}

/** The runner Pulumi's Node.js language host uses for policy packs, resolved from the pack's folder. */
export function policyRunnerPath(packDir = POLICY_PACK_DIR): string {
  return createRequire(resolve(packDir, "package.json")).resolve("@pulumi/pulumi/cmd/run-policy-pack");
}

function waitForPort(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`the policy pack printed no port within ${timeoutMs} ms; stderr:\n${stderr()}`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const line = /^(\d+)\s*$/m.exec(out);
      if (line) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.off("exit", onExit);
        resolvePort(Number(line[1]));
      }
    };
    const onExit = (code: number | null) => fail(new Error(`the policy pack exited (code ${code}) before printing its port; stdout: ${out}\nstderr:\n${stderr()}`));
    child.stdout?.on("data", onData);
    child.on("exit", onExit);
  });
}

/** Starts the pack as the engine would and connects to its Analyzer. */
export async function startPolicyPack(options: StartOptions = {}): Promise<PolicyPackServer> {
  const packDir = options.packDir ?? POLICY_PACK_DIR;
  const rpcTimeoutMs = options.rpcTimeoutMs ?? 20_000;
  // The engine address is the first argument; a pack never calls back, so any placeholder does.
  const child = spawn(process.execPath, [policyRunnerPath(packDir), "127.0.0.1:0", "."], {
    cwd: packDir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  let stderrText = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderrText += chunk.toString()));
  const stderr = () => stderrText;
  let port: number;
  try {
    port = await waitForPort(child, options.timeoutMs ?? 60_000, stderr);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  const client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const deadline = () => ({ deadline: Date.now() + rpcTimeoutMs });
  const call = <Req, Resp>(method: (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, resp: Resp) => void) => unknown, req: Req) =>
    new Promise<Resp>((ok, fail) => method.call(client, req, new grpc.Metadata(), deadline(), (err, resp) => (err ? fail(err) : ok(resp))));

  const server: PolicyPackServer = {
    port,
    pid: child.pid!,
    stderr,
    async getAnalyzerInfo() {
      const info = await call<InstanceType<typeof Empty>, AnalyzerPb.AnalyzerInfo>(client.getAnalyzerInfo as never, new Empty());
      return {
        name: info.getName(),
        version: info.getVersion(),
        supportsConfig: info.getSupportsconfig(),
        policies: info.getPoliciesList().map((p) => ({
          name: p.getName(),
          description: p.getDescription(),
          enforcementLevel: levelName(p.getEnforcementlevel()),
          configSchema: p.getConfigschema()?.getProperties()?.toJavaScript() as Record<string, unknown> | undefined,
        })),
      };
    },
    async configure(config) {
      const info = await server.getAnalyzerInfo();
      const req = new pb.ConfigureAnalyzerRequest();
      for (const [policy, value] of Object.entries(config)) {
        const known = info.policies.find((p) => p.name === policy);
        if (!known) throw new Error(`policy config names ${policy}, which the pack does not have (it has: ${info.policies.map((p) => p.name).join(", ")})`);
        const { enforcementLevel, ...properties } = typeof value === "string" ? { enforcementLevel: value } : value;
        const pc = new pb.PolicyConfig().setEnforcementlevel(levelNumber(enforcementLevel ?? known.enforcementLevel));
        pc.setProperties(Struct.fromJavaScript(jsonSafe(properties) as Record<string, never>));
        req.getPolicyconfigMap().set(policy, pc);
      }
      await call(client.configure as never, req);
    },
    async analyze(resource) {
      return toResult(await call<AnalyzerPb.AnalyzeRequest, AnalyzerPb.AnalyzeResponse>(client.analyze as never, toAnalyzeRequest(resource)));
    },
    async analyzeRequest(request) {
      return toResult(await call<AnalyzerPb.AnalyzeRequest, AnalyzerPb.AnalyzeResponse>(client.analyze as never, request));
    },
    async analyzeStack(resources) {
      const req = new pb.AnalyzeStackRequest().setResourcesList(resources.map(toAnalyzerResource));
      return toResult(await call<AnalyzerPb.AnalyzeStackRequest, AnalyzerPb.AnalyzeResponse>(client.analyzeStack as never, req));
    },
    async stop() {
      client.close();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((done) => child.once("exit", () => done()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return server;
}

/** Analyze for every resource of an evaluation (as during a preview), then AnalyzeStack. */
export async function analyzeEvaluation(server: PolicyPackServer, e: Evaluation): Promise<{ resources: Diagnostic[]; stack: AnalyzeResult }> {
  const resources: Diagnostic[] = [];
  for (const r of e.resources) {
    if (r.type === "pulumi:pulumi:Stack") continue;
    // The pack leaves the URN of Analyze findings empty; the engine shows them under the resource it sent.
    resources.push(...(await server.analyze(fromRecorded(r))).diagnostics.map((d) => (d.urn ? d : { ...d, urn: r.urn })));
  }
  return { resources, stack: await server.analyzeStack(stackResources(e)) };
}
