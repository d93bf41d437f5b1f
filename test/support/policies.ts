// Runs the pack's policies in-process on fabricated or recorded resources,
// building the validation args the way @pulumi/policy's server does
// (properties behind its unknown-checking proxy, notApplicable throwing),
// as pulumi-policy-aws's tests do. Every violation carries its policy's
// name, so a test that expects one fails when the policy is removed.
import {
  unknownCheckingProxy,
  type Policy,
  type PolicyResource,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
  type StackValidationArgs,
  type StackValidationPolicy,
} from "@pulumi/policy";
import { thonPolicies } from "../../policies/pack.ts";
import { stackResources, fromRecorded, WIRE, type AnalyzerResourceInput } from "../../infra/policy/analyzer.ts";
import type { Evaluation, RecordedResource } from "../../infra/preview/evaluate.ts";

export { WIRE };

export interface Violation {
  readonly policy: string;
  readonly message: string;
  readonly urn?: string;
}

export interface PolicyRun {
  readonly violations: readonly Violation[];
  /** The reason given when the policy declared itself not applicable. */
  readonly notApplicable?: string;
}

class NotApplicable extends Error {}

export function policyNamed(name: string): Policy {
  const policy = thonPolicies().find((p) => p.name === name);
  if (!policy) throw new Error(`the pack has no policy named ${name}`);
  return policy;
}

const isResourcePolicy = (p: Policy): p is ResourceValidationPolicy => "validateResource" in p && p.validateResource !== undefined;
const isStackPolicy = (p: Policy): p is StackValidationPolicy => "validateStack" in p && typeof p.validateStack === "function";

/** A resource to validate: a recorded one, or fabricated with the same fields. */
export type TestResource = AnalyzerResourceInput;

let synthetic = 0;
/** A fabricated resource of `type`; the URN follows Pulumi's shape. */
export function resource(type: string, name: string, properties: Record<string, unknown>, extra: Partial<TestResource> = {}): TestResource {
  synthetic++;
  return { type, name, urn: `urn:pulumi:dev::thon::${type}::${name}`, properties, ...extra };
}

/** A copy with some properties replaced (undefined removes one). */
export function withProps(r: TestResource | RecordedResource, patch: Record<string, unknown>): TestResource {
  const base = "inputs" in r ? fromRecorded(r) : r;
  const properties = { ...base.properties, ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete properties[k];
  return { ...base, properties };
}

type Config = Record<string, unknown>;

const isTypeOf = (type: string) => (cls: unknown) => (cls as { __pulumiType?: string }).__pulumiType === type;

export async function runResourcePolicy(name: string, r: TestResource | RecordedResource, config: Config = {}): Promise<PolicyRun> {
  const policy = policyNamed(name);
  if (!isResourcePolicy(policy)) throw new Error(`${name} is not a resource policy`);
  const res = "inputs" in r ? fromRecorded(r) : r;
  const violations: Violation[] = [];
  const props = unknownCheckingProxy(JSON.parse(JSON.stringify(res.properties)));
  const args: ResourceValidationArgs = {
    type: res.type,
    props,
    urn: res.urn,
    name: res.name,
    opts: {
      protect: res.protect ?? false,
      ignoreChanges: [...(res.ignoreChanges ?? [])],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
      ...(res.parent ? { parent: res.parent } : {}),
    },
    stackTags: new Map(),
    isType: isTypeOf(res.type) as ResourceValidationArgs["isType"],
    asType: ((cls: unknown) => (isTypeOf(res.type)(cls) ? props : undefined)) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string) => {
      throw new NotApplicable(reason ?? "");
    },
  };
  const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
  let notApplicable: string | undefined;
  for (const validate of validations) {
    try {
      await validate(args, (message: string) => violations.push({ policy: name, message }));
    } catch (err) {
      if (err instanceof NotApplicable) notApplicable = err.message;
      else throw err;
    }
  }
  return { violations, ...(notApplicable !== undefined ? { notApplicable } : {}) };
}

/** PolicyResources with parents and dependencies linked, as the server builds them for AnalyzeStack. */
export function policyResources(resources: readonly TestResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const out = resources.map((r) => {
    const props = unknownCheckingProxy(JSON.parse(JSON.stringify(r.properties)));
    const pr: PolicyResource = {
      type: r.type,
      props,
      urn: r.urn,
      name: r.name,
      opts: {
        protect: r.protect ?? false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
      },
      dependencies: [],
      propertyDependencies: {},
      isType: isTypeOf(r.type) as PolicyResource["isType"],
      asType: ((cls: unknown) => (isTypeOf(r.type)(cls) ? props : undefined)) as PolicyResource["asType"],
    };
    byUrn.set(r.urn, pr);
    return pr;
  });
  resources.forEach((r, i) => {
    const pr = out[i]!;
    if (r.parent && byUrn.has(r.parent)) pr.parent = byUrn.get(r.parent);
    pr.dependencies = (r.dependencies ?? []).flatMap((u) => (byUrn.has(u) ? [byUrn.get(u)!] : []));
    for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) {
      pr.propertyDependencies[k] = urns.flatMap((u) => (byUrn.has(u) ? [byUrn.get(u)!] : []));
    }
  });
  return out;
}

export async function runStackPolicy(name: string, resources: readonly TestResource[] | Evaluation, config: Config = {}): Promise<PolicyRun> {
  const policy = policyNamed(name);
  if (!isStackPolicy(policy)) throw new Error(`${name} is not a stack policy`);
  const list = "resources" in resources ? stackResources(resources) : resources;
  const violations: Violation[] = [];
  const args: StackValidationArgs = {
    resources: policyResources(list),
    stackTags: new Map(),
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string) => {
      throw new NotApplicable(reason ?? "");
    },
  };
  try {
    await policy.validateStack(args, (message: string, urn?: string) => violations.push({ policy: name, message, ...(urn ? { urn } : {}) }));
  } catch (err) {
    if (err instanceof NotApplicable) return { violations, notApplicable: err.message };
    throw err;
  }
  return { violations };
}

/** Every policy of the pack over an evaluation: resource policies per resource, stack policies once. */
export async function runWholePack(e: Evaluation, config: Record<string, Config> = {}): Promise<Violation[]> {
  const all: Violation[] = [];
  for (const p of thonPolicies()) {
    if (isResourcePolicy(p)) {
      for (const r of e.resources) all.push(...(await runResourcePolicy(p.name, r, config[p.name])).violations);
    } else {
      all.push(...(await runStackPolicy(p.name, e, config[p.name])).violations);
    }
  }
  return all;
}

/** Replaces the Stack resource's `event` output fields (for stack policies that read it). */
export function withEventOutput(e: Evaluation, patch: Record<string, unknown>): TestResource[] {
  return stackResources(e).map((r) =>
    r.type === "pulumi:pulumi:Stack" ? { ...r, properties: { ...r.properties, event: { ...(r.properties.event as object), ...patch } } } : r,
  );
}
