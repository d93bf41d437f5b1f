// Runs a Pulumi program in this process under Pulumi's mocks (the documented
// unit-test method) and records every resource it registers: type, name,
// URN, parent, options and inputs, with secrets still marked. This is the
// offline preview behind `thon plan`, the program tests and the benchmarks.
import * as pulumi from "@pulumi/pulumi";
import { previewMocks, type ProviderOutputs } from "./providerOutputs.ts";
import { stableJson } from "../render/json.ts";
import { sha256 } from "../hash.ts";
import { containsSecret, unwrapSecrets } from "../secrets.ts";
import { limitStackTraces } from "../stackTraces.ts";

// Internal but stable: waits until every registration the program started has been answered.
import settingsModule from "@pulumi/pulumi/runtime/settings.js";
const settings = settingsModule as unknown as { waitForRPCs(): Promise<void> };


export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly parent: string | undefined;
  readonly custom: boolean;
  /** Inputs with secrets unwrapped. */
  readonly inputs: Record<string, unknown>;
  /** Top-level input names whose value is (or contains) a secret. */
  readonly secretInputs: readonly string[];
  /** sha256 of the inputs (secret values included, so a changed secret is a change). */
  readonly inputsHash: string;
  /** sha256 per top-level input, to tell which inputs changed. */
  readonly inputHashes: Readonly<Record<string, string>>;
  readonly options: {
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
    readonly deleteBeforeReplace: boolean;
    readonly provider: string | undefined;
    readonly dependencies: readonly string[];
    /** Per input, the resources its value came from (what the engine keeps as propertyDependencies). */
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
    readonly ignoreChanges: readonly string[];
    readonly replaceOnChanges: readonly string[];
    readonly additionalSecretOutputs: readonly string[];
    readonly aliases: number;
  };
}

export interface Evaluation {
  readonly resources: readonly RecordedResource[];
  /** Stack outputs, secrets unwrapped; `secretOutputs` names the secret ones. */
  readonly outputs: Record<string, unknown>;
  readonly secretOutputs: readonly string[];
}

export interface EvaluateOptions {
  readonly project?: string;
  readonly stack?: string;
  readonly config?: Record<string, string>;
  readonly preview?: boolean;
  /**
   * Keep V8's stack traces while the program runs. Default: off (unless
   * THON_STACK_TRACES=1), which makes the run about 3x faster; see
   * infra/stackTraces.ts. The previous limit is restored when the run ends.
   * Under `node --import tsx`, load the modules the program imports before
   * calling evaluate() (see there).
   */
  readonly stackTraces?: boolean;
  /**
   * Computed outputs for some resource types in place of the preview's
   * (infra/preview/providerOutputs.ts): tests that serve real certificates pass
   * test/support/tlsStandIn.ts here.
   */
  readonly outputs?: ProviderOutputs;
}

const sha = (text: string) => sha256(text).slice(0, 16);

// One evaluation at a time: Pulumi's runtime state is process-global.
let queue: Promise<unknown> = Promise.resolve();

/** Evaluates `program` (which declares resources and returns stack outputs) under mocks. */
export function evaluate(program: () => unknown, options: EvaluateOptions = {}): Promise<Evaluation> {
  const run = queue.then(() => evaluateNow(program, options));
  queue = run.catch(() => undefined);
  return run;
}

async function evaluateNow(program: () => unknown, options: EvaluateOptions): Promise<Evaluation> {
  const restore = options.stackTraces ? () => undefined : limitStackTraces();
  try {
    return await evaluateLimited(program, options);
  } finally {
    restore();
  }
}

async function evaluateLimited(program: () => unknown, options: EvaluateOptions): Promise<Evaluation> {
  const resources: RecordedResource[] = [];
  await pulumi.runtime.setMocks(previewMocks(options.outputs), options.project ?? "thon", options.stack ?? "dev", options.preview ?? false);
  pulumi.runtime.setAllConfig(options.config ?? {}, Object.keys(options.config ?? {}).filter((k) => /password|key|secret/i.test(k)));

  // Wrap the mock monitor to see what the engine would see: the raw request,
  // with options and secret markers, not just the mocks' view of the inputs.
  type Monitor = {
    newUrn(parent: string, type: string, name: string): string;
    registerResource(req: RegisterRequest, cb: (err: unknown, resp: { getUrn(): string }) => void): Promise<void>;
    registerResourceOutputs(req: OutputsRequest, cb: (err: unknown, resp: unknown) => void): void;
  };
  const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
  // URNs as the engine makes them, so `thon plan` and the tests show the real ones.
  if (typeof monitor.newUrn !== "function") throw new Error("@pulumi/pulumi's mock monitor no longer has newUrn(); update infra/preview/evaluate.ts");
  monitor.newUrn = (parent, type, name) => engineUrn(options.stack ?? "dev", options.project ?? "thon", parent, type, name);
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) =>
    register(req, (err, resp) => {
      if (!err) resources.push(record(req, resp.getUrn()));
      cb(err, resp);
    });
  // The stack's outputs arrive here with their secret markers intact.
  const stackOutputs: Record<string, unknown>[] = [];
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, cb) => {
    if (req.getUrn().includes("::pulumi:pulumi:Stack::")) stackOutputs.push(req.getOutputs()?.toJavaScript() ?? {});
    registerOutputs(req, cb);
  };

  // The program's own error is rethrown after the runtime settles; letting it
  // escape from inside the stack would also reject the stack's internal
  // promises, which nobody awaits (unhandled rejections).
  let failure: { error: unknown } | undefined;
  await pulumi.runtime.runInPulumiStack(async () => {
    try {
      return await program();
    } catch (error) {
      failure = { error };
      return {};
    }
  });
  await settings.waitForRPCs();
  if (failure) throw failure.error;
  const rawOutputs = stackOutputs.at(-1) ?? {};
  const secretOutputs = Object.keys(rawOutputs).filter((k) => containsSecret(rawOutputs[k])).sort();
  resources.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
  return { resources, outputs: unwrapSecrets(rawOutputs) as Record<string, unknown>, secretOutputs };
}

/**
 * The URN the engine gives a resource (pkg/resource/deploy/deployment.go
 * generateURN): its type prefixed with the parent's whole qualified type,
 * except the root stack's. The SDK's mock monitor (runtime/mocks.ts newUrn)
 * keeps `pulumi:pulumi:Stack$` and only the parent's last type, so its URNs
 * for top-level components and providers are not the ones in real state.
 */
export function engineUrn(stack: string, project: string, parent: string, type: string, name: string): string {
  const parentType = parent === "" ? "" : (parent.split("::")[2] ?? "");
  const qualified = parentType !== "" && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

interface OutputsRequest {
  getUrn(): string;
  getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getDeletebeforereplace(): boolean;
  getProvider(): string;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void } | undefined;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getAliasesList(): unknown[];
}

function record(req: RegisterRequest, urn: string): RecordedResource {
  const rawInputs = req.getObject()?.toJavaScript() ?? {};
  const propertyDependencies: Record<string, string[]> = {};
  req.getPropertydependenciesMap()?.forEach((deps, key) => {
    propertyDependencies[key] = [...deps.getUrnsList()].sort();
  });
  const inputHashes: Record<string, string> = {};
  for (const key of Object.keys(rawInputs).sort()) inputHashes[key] = sha(stableJson(unwrapSecrets(rawInputs[key])));
  return {
    type: req.getType(),
    name: req.getName(),
    urn,
    parent: req.getParent() || undefined,
    custom: req.getCustom(),
    inputs: unwrapSecrets(rawInputs) as Record<string, unknown>,
    secretInputs: Object.keys(rawInputs).filter((k) => containsSecret(rawInputs[k])).sort(),
    inputsHash: sha(stableJson(unwrapSecrets(rawInputs))),
    inputHashes,
    options: {
      protect: req.getProtect() ?? false,
      retainOnDelete: req.getRetainondelete() ?? false,
      deleteBeforeReplace: req.getDeletebeforereplace(),
      provider: req.getProvider() || undefined,
      dependencies: [...req.getDependenciesList()].sort(),
      propertyDependencies: Object.fromEntries(Object.keys(propertyDependencies).sort().map((k) => [k, propertyDependencies[k]!])),
      ignoreChanges: req.getIgnorechangesList(),
      replaceOnChanges: req.getReplaceonchangesList(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      aliases: req.getAliasesList().length,
    },
  };
}
