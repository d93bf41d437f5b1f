// What THON relies on about Lemonade Server (lemond), each fact with the
// release it was read from (lemonade-sdk/lemonade sources; see the README's
// "Local LLM" section). Everything version-dependent lives here, so a new
// Lemonade release is one edit.
import { versionAtLeast } from "../apisix/versions.ts";

/** The oldest Lemonade THON supports: the first with the `lemond` daemon and config.json. */
export const LEMONADE_MIN_VERSION = "10.1";

/**
 * The systemd unit's name: `lemonade-server.service` in 10.1 and 10.2
 * (data/lemonade-server.service.in), `lemond.service` from 10.3 on.
 * THON writes a unit of the same name into /etc/systemd/system, which takes
 * precedence over the package's copy in /usr/lib/systemd/system, so there is
 * one lemond however Lemonade was installed.
 */
export function lemondUnitName(version: string): string {
  return versionAtLeast(version, "10.3") ? "lemond.service" : "lemonade-server.service";
}

/**
 * llama-server flags Lemonade sets itself and refuses in `llamacpp.args` or a
 * load's `llamacpp_args` ("Argument '<flag>' is managed by Lemonade and cannot
 * be overridden"). Extracted from every release's
 * src/cpp/server/backends/llamacpp_server.cpp (`push_arg` / `push_reserved`
 * with their aliases); the check strips "=value" first
 * (include/lemon/utils/custom_args.h). Each entry holds from its release
 * until the next entry's. Lemonade's docs still list -ngl, which the code
 * stopped reserving in 10.8. The -hf aliases are reserved only for models
 * loaded with hf_load; THON refuses them always (cheaper than a failed load).
 */
const MMPROJ = ["--mmproj", "-mm", "-mmu", "--mmproj-url", "--no-mmproj", "--mmproj-auto", "--no-mmproj-auto", "--no-mmproj-offload"];
const BASE = ["-m", "--model", "-c", "--ctx-size", "--port", "--jinja", "--no-jinja", ...MMPROJ, "--embeddings", "--embedding", "--reranking", "--rerank"];
const NGL = ["-ngl", "--gpu-layers", "--n-gpu-layers"];
const HF = ["-hf", "--hf-repo", "-mr", "--hf-file", "-mf"];
const DEVICE = ["--device", "-dev"];
const DRAFT = ["--model-draft", "-md", "--spec-draft-model"];

const RESERVED_LLAMACPP_ARGS: ReadonlyArray<{ readonly from: string; readonly flags: readonly string[] }> = [
  { from: "10.1", flags: [...BASE, ...NGL, "--mmproj-offload"] },
  { from: "10.4", flags: [...BASE, ...NGL, "--mmproj-offload", ...HF] },
  { from: "10.5", flags: [...BASE, ...NGL, "--mmproj-offload", ...HF, ...DEVICE] },
  { from: "10.7", flags: [...BASE, ...NGL, "--mmproj-offload", ...HF, ...DEVICE, "--metrics"] },
  { from: "10.8", flags: [...BASE, "--mmproj-offload", ...HF, ...DEVICE, "--metrics"] },
  { from: "10.8.1", flags: [...BASE, "--mmproj-offload", ...HF, ...DEVICE, "--metrics", ...DRAFT] },
  // Unchanged through 11.7.0 (2b6a7d77) and main at e385039e.
  { from: "11.6", flags: [...BASE, ...HF, ...DEVICE, "--metrics", ...DRAFT] },
];

/** Flags THON itself sets per model (parallel slots scale with the event), so an organizer must not. */
const THON_MANAGED_LLAMACPP_ARGS: readonly string[] = ["-np", "--parallel"];

/** @internal exported for tests; the program uses checkLlamacppArgs. */
export function reservedLlamacppArgs(version: string): { readonly from: string; readonly flags: readonly string[] } {
  let chosen = RESERVED_LLAMACPP_ARGS[0]!;
  for (const entry of RESERVED_LLAMACPP_ARGS) if (versionAtLeast(version, entry.from)) chosen = entry;
  return chosen;
}

export interface ArgProblem {
  readonly index: number;
  readonly flag: string;
  readonly message: string;
}

/**
 * Checks the organizer's extra llama.cpp args (one token per list item, as
 * a shell would split them) against the flags Lemonade and THON manage.
 */
export function checkLlamacppArgs(args: readonly string[], version: string): ArgProblem[] {
  const reserved = reservedLlamacppArgs(version);
  const problems: ArgProblem[] = [];
  args.forEach((arg, index) => {
    if (!arg.startsWith("-")) return; // a value such as the "8" of "-t 8"
    const flag = arg.split("=")[0]!;
    if (reserved.flags.includes(flag)) {
      problems.push({
        index,
        flag,
        message: `${flag} is managed by Lemonade ${version} itself, which refuses to load a model given it. Fix: remove it (Lemonade's flags since ${reserved.from}: ${[...reserved.flags].sort().join(" ")})`,
      });
    } else if (THON_MANAGED_LLAMACPP_ARGS.includes(flag)) {
      problems.push({
        index,
        flag,
        message: `${flag} is set by THON from the participant count. Fix: remove it; lemonade.maxParallel caps the parallel slots`,
      });
    }
  });
  return problems;
}

/** Default paths of a Lemonade installed from its Debian package (and where THON puts its own files). */
export const LEMONADE_DEFAULT_PATHS = {
  unitDir: "/etc/systemd/system",
  // The service user's ~/.cache/lemonade in every release up to 11.7.0; set
  // explicitly as LEMONADE_CACHE_DIR so unreleased builds that moved it keep
  // reading the same file ("explicit custom directories bypass migration").
  cacheDir: "/var/lib/lemonade/.cache/lemonade",
  // Not /etc/default/lemond (only on Lemonade's unreleased main) nor the
  // package's /etc/lemonade/conf.d (10.1 to 11.7): THON's own unit names its
  // own file, which works on every release.
  envFile: "/etc/thon/lemond.env",
  systemctl: "systemctl",
  lemond: "/usr/bin/lemond",
} as const;
