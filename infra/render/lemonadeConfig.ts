// lemond's config.json (Lemonade >= 10.1 reads its settings from this file,
// deep-merged over its defaults; unknown keys are kept). Sorted keys, so the
// same settings always render the same text and a reordered thon.yaml is no
// restart.
import { stableJson } from "./json.ts";

export interface LemonadeConfigOptions {
  readonly host: string;
  readonly port: number;
  /** Models of one type kept loaded at once (-1: unlimited). */
  readonly maxLoadedModels: number;
  /** Extra llama-server flags, one token each (checked against the reserved list before). */
  readonly llamacppArgs: readonly string[];
  readonly backend: string;
}

function lemonadeConfig(o: LemonadeConfigOptions): Record<string, unknown> {
  return {
    // Without config_version 2, lemond's v1->v2 migration rewrites ctx_size
    // 4096 to -1 and saves the file (config_file.h, config_migrate_v1_to_v2).
    config_version: 2,
    host: o.host,
    port: o.port,
    max_loaded_models: o.maxLoadedModels,
    // Context size and parallel slots are per model (the Model resources'
    // load options), not here: they scale with the participant count, and a
    // change here needs a lemond restart.
    llamacpp: {
      args: o.llamacppArgs.join(" "),
      backend: o.backend,
    },
  };
}

export function renderLemonadeConfig(o: LemonadeConfigOptions): string {
  return stableJson(lemonadeConfig(o));
}
