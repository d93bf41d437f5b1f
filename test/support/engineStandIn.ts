// A stand-in for the Pulumi engine's side of a program run (the CLI cannot be
// installed here): the gRPC ResourceMonitor and Engine services a program
// talks to during `pulumi preview` / `pulumi up` of a NEW stack (no prior
// state, so every custom resource is a create). Written from pulumi/pulumi
// v3.248.0 (the SDK version in package.json):
// - pkg/resource/deploy/source_eval.go (resmon):
//   SupportsFeature answers supportsFeatureID's list; RegisterResource
//   inherits protect / retainOnDelete / deletedWith / provider from the parent
//   (inheritFromParent), answers components with no outputs, echoes unknowns
//   (the SDK sets supportsPartialValues) and secrets (acceptSecrets);
//   RegisterResourceOutputs records a component's (the stack's) outputs;
//   Invoke and friends need a provider plugin, which this stand-in does not
//   have, so they fail naming the token.
// - pkg/resource/deploy/deployment.go generateURN + sdk/go/common/resource/urn
//   New: urn:pulumi:<stack>::<project>::<parent's qualified type>$<type>::<name>,
//   the root stack's type left out; step_generator.go: a URN seen twice and a
//   parent not registered before are errors.
// - Creating (step.go CreateStep, plugin/provider_plugin.go Create,
//   providers/registry.go Create, step_executor.go): in preview a provider
//   that does not preview returns the inputs as outputs and no ID (the SDK
//   then treats every output it did not get as unknown); a provider resource
//   gets the unknown ID. In an update, `create` (the provider's part, passed
//   in by the test) adds computed outputs and the ID. Either way outputs named
//   in additionalSecretOutputs, and outputs whose input was secret, become
//   secret.
// - pkg/host/host_server.go (Engine): Log, GetRootResource, SetRootResource.
// What it does not do: run providers (no Check defaults, no diffs against
// state), create default providers (engine-internal; the program never sees
// them), run policy packs, or persist anything.
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import structModule from "google-protobuf/google/protobuf/struct_pb.js";
import emptyModule from "google-protobuf/google/protobuf/empty_pb.js";
import resourcePbModule from "@pulumi/pulumi/proto/resource_pb.js";
import resourceGrpcModule from "@pulumi/pulumi/proto/resource_grpc_pb.js";
import enginePbModule from "@pulumi/pulumi/proto/engine_pb.js";
import engineGrpcModule from "@pulumi/pulumi/proto/engine_grpc_pb.js";
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc.js";
// Plain values for a provider: secrets unwrapped, as a provider that accepts secrets sees them after Check.
import { unwrapSecrets } from "../../infra/secrets.ts";
import type * as ResourcePb from "@pulumi/pulumi/proto/resource_pb.js";
import type * as ResourceGrpc from "@pulumi/pulumi/proto/resource_grpc_pb.js";
import type * as EnginePb from "@pulumi/pulumi/proto/engine_pb.js";
import type * as EngineGrpc from "@pulumi/pulumi/proto/engine_grpc_pb.js";

const resourcePb = resourcePbModule as unknown as typeof ResourcePb;
const resourceGrpc = resourceGrpcModule as unknown as typeof ResourceGrpc;
const enginePb = enginePbModule as unknown as typeof EnginePb;
const engineGrpc = engineGrpcModule as unknown as typeof EngineGrpc;
const { Struct } = structModule as unknown as typeof import("google-protobuf/google/protobuf/struct_pb.js");
const { Empty } = emptyModule as unknown as typeof import("google-protobuf/google/protobuf/empty_pb.js");

/** The engine's wire markers, as the Node.js SDK names them (runtime/rpc.ts). */
export const SIG = {
  key: specialSigKey,
  secret: specialSecretSig,
  unknown: unknownValue,
} as const;

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";
const PROVIDER_TYPE_PREFIX = "pulumi:providers:";

// source_eval.go supportsFeatureID at v3.248.0, with no --disable-* options.
const SUPPORTED_FEATURES = new Set([
  "secrets", "resourceReferences", "outputValues", "aliasSpecs", "replacementTrigger", "deletedWith", "replaceWith",
  "transforms", "invokeTransforms", "parameterization", "resourceHooks", "errorHooks", "sendsOptionsToHooks",
]);

export type Props = Record<string, unknown>;

/** One RegisterResource as the engine received and answered it. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly parent: string;
  readonly custom: boolean;
  /** Provider reference (`<urn>::<id>`); empty means the package's default provider. */
  readonly provider: string;
  /** Inputs as sent: secrets and unknowns in their wire form. */
  readonly inputs: Props;
  /** Top-level inputs sent as secrets. */
  readonly secretInputs: readonly string[];
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  /** After inheritance from the parent, as the engine stores them in the goal. */
  readonly protect: boolean | undefined;
  readonly retainOnDelete: boolean | undefined;
  readonly deletedWith: string;
  readonly deleteBeforeReplace: boolean | undefined;
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly additionalSecretOutputs: readonly string[];
  readonly version: string;
  /** What the engine answered. */
  readonly id: string;
  readonly outputs: Props;
}

export interface LogEntry {
  readonly severity: "debug" | "info" | "warning" | "error";
  readonly message: string;
  readonly urn: string;
  readonly ephemeral: boolean;
}

/** The provider's part of a create in an update: computed outputs and the ID (plain values). */
export type CreateFn = (type: string, name: string, inputs: Props) => { id: string; outputs: Props };

export interface EngineStandInOptions {
  readonly project: string;
  readonly stack: string;
  /** `pulumi preview` (true) or `pulumi up` (false). */
  readonly dryRun: boolean;
  /** Needed when dryRun is false: what each provider would compute. */
  readonly create?: CreateFn;
}

export interface EngineStandIn {
  /** Where the program's --monitor and --engine point. */
  readonly monitorAddress: string;
  readonly engineAddress: string;
  readonly registrations: readonly Registration[];
  /** RegisterResourceOutputs by URN (wire form). */
  readonly outputs: ReadonlyMap<string, Props>;
  readonly logs: readonly LogEntry[];
  readonly featuresAsked: readonly string[];
  /** SetRootResource's URN. */
  rootUrn(): string;
  /** Whether the program said it is done (SignalAndWaitForShutdown). */
  shutdownSignalled(): boolean;
  /** Calls the engine would serve with a provider or feature this stand-in lacks, and errors it answered. */
  readonly failures: readonly string[];
  /** The root stack's registered outputs, if any. */
  stackOutputs(): Props | undefined;
  close(): Promise<void>;
}

export const isSecret = (v: unknown): v is { [SIG.key]: string; value?: unknown } =>
  typeof v === "object" && v !== null && (v as Props)[SIG.key] === SIG.secret;

const makeSecret = (v: unknown): unknown => (isSecret(v) ? v : { [SIG.key]: SIG.secret, value: v });

class EngineError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** Parent's qualified type (the type part of its URN), as urn.QualifiedType does. */
const qualifiedType = (urn: string): string => urn.split("::")[2] ?? "";
const baseType = (urn: string): string => qualifiedType(urn).split("$").pop() ?? "";

export async function startEngineStandIn(opts: EngineStandInOptions): Promise<EngineStandIn> {
  if (!opts.dryRun && !opts.create) throw new Error("an update (dryRun false) needs a create function: the providers' part");
  const registrations: Registration[] = [];
  const byUrn = new Map<string, Registration>();
  const outputs = new Map<string, Props>();
  const logs: LogEntry[] = [];
  const featuresAsked: string[] = [];
  const failures: string[] = [];
  let rootUrn = "";
  let shutdown = false;

  const urnFor = (parent: string, type: string, name: string): string => {
    const parentType = parent === "" ? "" : qualifiedType(parent);
    const typ = parentType !== "" && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
    return `urn:pulumi:${opts.stack}::${opts.project}::${typ}::${name}`;
  };

  const register = (req: ResourcePb.RegisterResourceRequest): ResourcePb.RegisterResourceResponse => {
    const type = req.getType();
    const name = req.getName();
    const parent = req.getParent();
    const custom = req.getCustom();
    if (req.getRemote()) throw new EngineError(grpc.status.UNIMPLEMENTED, `engine stand-in: remote component ${type} needs its provider's Construct`);
    // tokens.ParseTypeToken: custom resources need pkg:module:Type.
    if (custom && type.split(":").length !== 3) throw new EngineError(grpc.status.INVALID_ARGUMENT, `invalid type token ${type}`);
    const parentGoal = parent === "" ? undefined : byUrn.get(parent);
    if (parent !== "" && !parentGoal) throw new EngineError(grpc.status.UNKNOWN, `could not find parent resource ${parent}`);

    // inheritFromParent: a component takes its parent's provider; a custom resource only one of its own package.
    const parentProvider = parentGoal?.provider ?? "";
    const parentProviderPackage = baseType(parentProvider).slice(PROVIDER_TYPE_PREFIX.length);
    const inherits = parentProvider !== "" && (!custom || parentProviderPackage === type.split(":")[0]);
    const providerRef = req.getProvider() || (inherits ? parentProvider : "");
    if (custom && providerRef !== "") {
      const providerUrn = providerRef.slice(0, providerRef.lastIndexOf("::"));
      if (!byUrn.get(providerUrn)?.type.startsWith(PROVIDER_TYPE_PREFIX)) throw new EngineError(grpc.status.UNKNOWN, `unknown provider '${providerRef}'`);
    }
    for (const dep of req.getDependenciesList()) {
      if (!byUrn.has(dep)) throw new EngineError(grpc.status.UNKNOWN, `${name} depends on ${dep}, which was never registered`);
    }

    const urn = urnFor(parent, type, name);
    if (byUrn.has(urn)) throw new EngineError(grpc.status.UNKNOWN, `Duplicate resource URN '${urn}'; try giving it a unique name`);

    const inputs = (req.getObject()?.toJavaScript() ?? {}) as Props;
    const aso = req.getAdditionalsecretoutputsList();
    const isProvider = type.startsWith(PROVIDER_TYPE_PREFIX);
    let id = "";
    let outs: Props = {};
    if (custom) {
      if (opts.dryRun) {
        // No provider preview: the inputs come back as the outputs; providers get the unknown ID.
        outs = { ...inputs };
        id = isProvider ? SIG.unknown : "";
      } else if (isProvider) {
        outs = { ...inputs };
        id = randomUUID();
      } else {
        const made = opts.create!(type, name, unwrapSecrets(inputs) as Props);
        outs = { ...made.outputs, ...inputs };
        id = made.id;
      }
      // step_executor.go: additionalSecretOutputs, and outputs of secret inputs, are secret.
      for (const k of aso) if (k in outs) outs[k] = makeSecret(outs[k]);
      for (const [k, v] of Object.entries(inputs)) if (isSecret(v) && k in outs) outs[k] = makeSecret(outs[k]);
    }

    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => {
      propertyDependencies[key] = deps.getUrnsList();
    });
    const reg: Registration = {
      type,
      name,
      urn,
      parent,
      custom,
      provider: providerRef,
      inputs,
      secretInputs: Object.entries(inputs).filter(([, v]) => isSecret(v)).map(([k]) => k),
      dependencies: req.getDependenciesList(),
      propertyDependencies,
      protect: req.hasProtect() ? req.getProtect() : parentGoal?.protect,
      retainOnDelete: req.hasRetainondelete() ? req.getRetainondelete() : parentGoal?.retainOnDelete,
      deletedWith: req.getDeletedwith() || (parentGoal?.deletedWith ?? ""),
      deleteBeforeReplace: req.getDeletebeforereplacedefined() || req.getDeletebeforereplace() ? req.getDeletebeforereplace() : undefined,
      ignoreChanges: req.getIgnorechangesList(),
      replaceOnChanges: req.getReplaceonchangesList(),
      additionalSecretOutputs: aso,
      version: req.getVersion(),
      id,
      outputs: outs,
    };
    registrations.push(reg);
    byUrn.set(urn, reg);

    // The response is marshalled with KeepSecrets = acceptSecrets; the SDK always accepts them.
    const answer = req.getAcceptsecrets() ? outs : (unwrapSecrets(outs) as Props);
    return new resourcePb.RegisterResourceResponse()
      .setUrn(urn)
      .setId(id)
      .setObject(Struct.fromJavaScript(answer as Record<string, never>))
      .setResult(resourcePb.Result.SUCCESS);
  };

  // Wraps a handler: an EngineError (or any throw) is answered as the engine answers errors, and recorded.
  const unary =
    <Req, Res>(what: string, fn: (req: Req) => Res): grpc.handleUnaryCall<Req, Res> =>
    (call, callback) => {
      try {
        callback(null, fn(call.request));
      } catch (err) {
        const e = err instanceof EngineError ? err : new EngineError(grpc.status.UNKNOWN, String(err));
        failures.push(`${what}: ${e.message}`);
        callback({ code: e.code, details: e.message, name: "EngineError", message: e.message });
      }
    };
  const lacking = (what: string) =>
    unary<unknown, never>(what, () => {
      throw new EngineError(grpc.status.UNIMPLEMENTED, `engine stand-in: ${what} is not served (it needs a provider plugin or a feature this stand-in lacks)`);
    });

  const monitor: ResourceGrpc.IResourceMonitorServer = {
    supportsFeature: unary("SupportsFeature", (req: ResourcePb.SupportsFeatureRequest) => {
      featuresAsked.push(req.getId());
      return new resourcePb.SupportsFeatureResponse().setHassupport(SUPPORTED_FEATURES.has(req.getId()));
    }),
    registerResource: unary("RegisterResource", register),
    registerResourceOutputs: unary("RegisterResourceOutputs", (req: ResourcePb.RegisterResourceOutputsRequest) => {
      const urn = req.getUrn();
      if (!byUrn.has(urn)) throw new EngineError(grpc.status.UNKNOWN, `outputs for ${urn}, which was never registered`);
      outputs.set(urn, (req.getOutputs()?.toJavaScript() ?? {}) as Props);
      return new Empty();
    }),
    signalAndWaitForShutdown: unary("SignalAndWaitForShutdown", () => {
      shutdown = true;
      return new Empty();
    }),
    invoke: unary("Invoke", (req: ResourcePb.ResourceInvokeRequest) => {
      throw new EngineError(grpc.status.UNKNOWN, `engine stand-in: no provider plugin here to answer invoke ${req.getTok()}`);
    }),
    call: unary("Call", (req: ResourcePb.ResourceCallRequest) => {
      throw new EngineError(grpc.status.UNKNOWN, `engine stand-in: no provider plugin here to answer call ${req.getTok()}`);
    }),
    readResource: unary("ReadResource", (req: ResourcePb.ReadResourceRequest) => {
      throw new EngineError(grpc.status.UNKNOWN, `engine stand-in: no provider plugin here to read ${req.getType()} ${req.getName()}`);
    }),
    getDeploymentInfo: lacking("GetDeploymentInfo"),
    registerStackTransform: lacking("RegisterStackTransform"),
    registerStackInvokeTransform: lacking("RegisterStackInvokeTransform"),
    registerResourceHook: lacking("RegisterResourceHook"),
    registerErrorHook: lacking("RegisterErrorHook"),
    registerPackage: lacking("RegisterPackage"),
  };

  const severities = ["debug", "info", "warning", "error"] as const;
  const engine: EngineGrpc.IEngineServer = {
    log: unary("Log", (req: EnginePb.LogRequest) => {
      const severity = severities[req.getSeverity()];
      if (!severity) throw new EngineError(grpc.status.UNKNOWN, `Unrecognized logging severity: ${req.getSeverity()}`);
      logs.push({ severity, message: req.getMessage(), urn: req.getUrn(), ephemeral: req.getEphemeral() });
      return new Empty();
    }),
    getRootResource: unary("GetRootResource", () => new enginePb.GetRootResourceResponse().setUrn(rootUrn)),
    setRootResource: unary("SetRootResource", (req: EnginePb.SetRootResourceRequest) => {
      rootUrn = req.getUrn();
      return new enginePb.SetRootResourceResponse();
    }),
    startDebugging: lacking("StartDebugging"),
    requirePulumiVersion: lacking("RequirePulumiVersion"),
  };

  // Two servers, as in the engine: the resource monitor (source_eval.go) and the host server (host_server.go).
  const serve = async (add: (s: grpc.Server) => void): Promise<{ server: grpc.Server; address: string }> => {
    const server = new grpc.Server();
    add(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    return { server, address: `127.0.0.1:${port}` };
  };
  const mon = await serve((s) => s.addService(resourceGrpc.ResourceMonitorService, monitor));
  const eng = await serve((s) => s.addService(engineGrpc.EngineService, engine));

  return {
    monitorAddress: mon.address,
    engineAddress: eng.address,
    registrations,
    outputs,
    logs,
    featuresAsked,
    failures,
    rootUrn: () => rootUrn,
    shutdownSignalled: () => shutdown,
    stackOutputs() {
      const stack = registrations.find((r) => r.type === ROOT_STACK_TYPE && r.parent === "");
      return stack ? outputs.get(stack.urn) : undefined;
    },
    async close() {
      for (const s of [mon.server, eng.server]) s.forceShutdown();
    },
  };
}
