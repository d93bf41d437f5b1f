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
 * be overridden"). Read from src/cpp/server/backends/llamacpp/llamacpp_server.cpp
 * (`push_reserved`) at each tag below; the check strips "=value" first
 * (include/lemon/utils/custom_args.h). The docs' list (with -ngl) is older
 * than the code: -ngl stopped being reserved in 10.8.
 */
export const RESERVED_LLAMACPP_ARGS: ReadonlyArray<{ readonly from: string; readonly source: string; readonly flags: readonly string[] }> = [
  {
    from: "10.1",
    source: "v10.1.0 (158c0466)",
    flags: [
      "-m", "--model", "-hf", "--hf-repo", "-mr", "--hf-file", "-mf",
      "-c", "--ctx-size", "--port", "--jinja", "--no-jinja",
      "-ngl", "--gpu-layers", "--n-gpu-layers",
      "--mmproj", "-mm", "-mmu", "--mmproj-url", "--no-mmproj", "--mmproj-auto", "--no-mmproj-auto",
      "--mmproj-offload", "--no-mmproj-offload",
      "--embeddings", "--embedding", "--reranking", "--rerank",
    ],
  },
  {
    // -ngl was dropped by 10.8; --device, --metrics and the draft-model flags
    // are reserved in 11.7. For 10.8 to 11.6 THON uses this newer list, which
    // may refuse a flag those releases would still take: a refusal here is
    // cheaper than a model that fails to load at the event.
    from: "10.8",
    source: "v11.7.0 (2b6a7d77)",
    flags: [
      "-m", "--model", "-hf", "--hf-repo", "-mr", "--hf-file", "-mf",
      "-c", "--ctx-size", "--device", "-dev", "--port", "--jinja", "--no-jinja", "--metrics",
      "--mmproj", "-mm", "-mmu", "--mmproj-url", "--no-mmproj", "--mmproj-auto", "--no-mmproj-auto",
      "--no-mmproj-offload",
      "--model-draft", "-md", "--spec-draft-model",
      "--embeddings", "--embedding", "--reranking", "--rerank",
    ],
  },
];

/** Flags THON itself sets per model (parallel slots scale with the event), so an organizer must not. */
export const THON_MANAGED_LLAMACPP_ARGS: readonly string[] = ["-np", "--parallel"];

export function reservedLlamacppArgs(version: string): { readonly source: string; readonly flags: readonly string[] } {
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
        message: `"${flag}" is managed by Lemonade ${version} and cannot be overridden (Lemonade refuses to load the model). Fix: remove it; Lemonade's reserved flags (from ${reserved.source}) are ${reserved.flags.join(" ")}`,
      });
    } else if (THON_MANAGED_LLAMACPP_ARGS.includes(flag)) {
      problems.push({
        index,
        flag,
        message: `"${flag}" is set by THON from the participant count. Fix: remove it and set lemonade.maxParallel to cap the parallel slots`,
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
