// Hand-written recorded resources (what infra/preview/evaluate.ts records),
// for tests of the e2e engine's translations without evaluating the program.
import type { Evaluation, RecordedResource } from "../../infra/preview/evaluate.ts";

const PROJECT = "urn:pulumi:dev::thon";

/** A custom resource `type`/`name` with `inputs`; `provider` is a provider resource's URN (the reference gets an id appended, as the engine's). */
export function recorded(type: string, name: string, inputs: Record<string, unknown>, opts: { provider?: string; dependencies?: readonly string[] } = {}): RecordedResource {
  return {
    type,
    name,
    urn: `${PROJECT}::${type}::${name}`,
    parent: undefined,
    custom: true,
    inputs,
    secretInputs: [],
    inputsHash: JSON.stringify(inputs),
    inputHashes: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, JSON.stringify(v)])),
    options: {
      protect: false,
      retainOnDelete: false,
      deleteBeforeReplace: false,
      provider: opts.provider === undefined ? undefined : `${opts.provider}::provider-id`,
      dependencies: opts.dependencies ?? [],
      propertyDependencies: {},
      ignoreChanges: [],
      replaceOnChanges: [],
      additionalSecretOutputs: [],
      aliases: 0,
    },
  };
}

export function evaluation(resources: readonly RecordedResource[]): Evaluation {
  return { resources, outputs: {}, secretOutputs: [] };
}
