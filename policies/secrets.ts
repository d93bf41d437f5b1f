// Files holding API keys and passwords: Lemonade's key file
// (components/lemonade.ts: the command thon-lemonade-env writes
// LEMONADE_API_KEY and LEMONADE_ADMIN_API_KEY, both random.RandomPassword,
// from stdin with mode 0600) and each sandbox's Kilo Code config
// (infra/program.ts: a container upload holding the participant's gateway key,
// or Lemonade's key without the gateway, with permissions 0600).
import type { EnforcementLevel, StackValidationPolicy } from "@pulumi/policy";
import { checkSecretFiles } from "./files";
import { TYPES } from "./lib";

/**
 * thon-secret-file-mode: a file whose content comes from a
 * random.RandomPassword (an API key, a password) is its owner's alone: a
 * command writing it from stdin ends with an owner-only mode under umask 077,
 * a container upload of it has permissions 0600, and no script's text holds it.
 */
export function secretFileMode(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-secret-file-mode",
    description:
      "Files holding API keys or passwords (Lemonade's key file, the sandboxes' Kilo Code config) are readable by their owner only: written from stdin with mode 0600 under umask 077, uploaded into containers with permissions 0600. Fix: write them with writeFileScript (infra/render/shell.ts) and mode \"0600\"; upload with permissions \"0600\".",
    enforcementLevel,
    validateStack: (args, report) => checkSecretFiles(args, report, { sourceType: TYPES.randomPassword, what: "a key or password" }),
  };
}
