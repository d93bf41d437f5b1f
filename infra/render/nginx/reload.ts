// The reload command's script: reload.sh (a real shell file, checked by
// shellcheck in the tests) with its arguments set in front, so the host runs
// it through the same command as every other script and needs no copy of it.
import { readFileSync } from "node:fs";
import { shellQuote } from "../shell.ts";
import { safe } from "./names.ts";

/** The transactional reload, as shipped; see its header for what it does. */
export const RELOAD_SCRIPT_FILE = new URL("./reload.sh", import.meta.url);

export interface ReloadOptions {
  readonly nginx: string;
  readonly participantsDir: string;
  readonly upstreamsDir: string;
  /** Files the Proxy stages that are not in the manifest: the private key (its hash would make the manifest secret). */
  readonly unlistedFiles?: readonly string[];
}

/** reload.sh's arguments, in its order: the nginx command, the two participant folders, the unlisted files. */
export function reloadArguments(options: ReloadOptions): string[] {
  return [
    options.nginx.trim(),
    safe(options.participantsDir, "proxy.configDir"),
    safe(options.upstreamsDir, "proxy.configDir"),
    ...(options.unlistedFiles ?? []).map((f) => safe(f, "a file of the proxy")),
  ];
}

let script: string | undefined;

/** The reload command's script: `set -- <arguments>` and reload.sh. */
export function renderReloadScript(options: ReloadOptions): string {
  script ??= readFileSync(RELOAD_SCRIPT_FILE, "utf8");
  return `set -- ${reloadArguments(options).map(shellQuote).join(" ")}\n${script}`;
}
