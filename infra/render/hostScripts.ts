// Shell scripts for Lemonade's service on the event host, run through the
// target (sh -c, with `set -eu` in front): making a folder for a service
// user, activating a systemd unit. Files are written with shell.ts's
// writeFileScript, like every other file THON puts on the host. Pure
// renderers; tests run them for real against temporary folders and a
// recording fake systemctl.
import { shellQuote as shq } from "./shell.ts";

/**
 * Creates `dir` and any missing parents, giving only the folders it creates
 * to `owner` (mode 0750); existing folders keep their owner. For the default
 * /var/lib/lemonade/.cache/lemonade this makes .cache the service user's,
 * which lemond and its Hugging Face cache need to write.
 */
export function ownedDirScript(dir: string, owner: string): string {
  return [
    `p=${shq(dir)}; missing=''`,
    `while [ ! -d "$p" ]; do missing="$p\${missing:+ $missing}"; p=$(dirname "$p"); done`,
    `for d in $missing; do mkdir "$d"; chown ${shq(owner)} "$d"; chmod 0750 "$d"; done`,
    "",
  ].join("\n");
}

/**
 * Applies the unit: reload systemd's view of unit files, restart the service
 * if it is running (this script runs only when the unit, the config or the
 * keys changed), then enable it and start it if it is not running.
 */
export function activationScript(systemctl: string, unit: string): string {
  const sc = shq(systemctl);
  return [
    `${sc} daemon-reload`,
    `if ${sc} is-active --quiet ${shq(unit)}; then ${sc} restart ${shq(unit)}; fi`,
    `${sc} enable --now ${shq(unit)}`,
    "",
  ].join("\n");
}

/** Stops and disables the unit, removes its file, and lets systemd forget it. */
export function removeUnitScript(systemctl: string, unit: string, unitPath: string): string {
  const sc = shq(systemctl);
  return [`${sc} disable --now ${shq(unit)} || true`, `rm -f ${shq(unitPath)}`, `${sc} daemon-reload`, ""].join("\n");
}
