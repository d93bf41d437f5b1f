// Shell scripts THON runs on the event host through the target (sh -c, with
// `set -eu` in front): writing a file from stdin, making a folder for a
// service user, activating a systemd unit. Pure renderers; tests run them
// for real against temporary folders and a recording fake systemctl.

/** Single-quotes a word for sh. */
export function shq(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function dirname(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

function basename(path: string): string {
  return path.replace(/\/+$/, "").slice(path.replace(/\/+$/, "").lastIndexOf("/") + 1);
}

export interface WriteFileOptions {
  readonly path: string;
  /** Octal mode, e.g. "0600". */
  readonly mode: string;
  /** user:group for the file; default: whoever runs the script (root). */
  readonly owner?: string | undefined;
}

/**
 * Writes stdin to `path` atomically: a temporary file in the same folder
 * (created under umask 077, so a key is never readable by others, even for a
 * moment), then mode, owner, rename. A missing parent folder is created 0755.
 */
export function writeFileScript(o: WriteFileOptions): string {
  if (!/^0?[0-7]{3}$/.test(o.mode)) throw new Error(`file mode must be octal such as 0600, got ${o.mode}`);
  const dir = dirname(o.path);
  const tmp = `${dir}/.${basename(o.path)}.thon-new`;
  return [
    "umask 077",
    `[ -d ${shq(dir)} ] || install -d -m 0755 ${shq(dir)}`,
    `cat > ${shq(tmp)}`,
    `chmod ${o.mode} ${shq(tmp)}`,
    ...(o.owner ? [`chown ${shq(o.owner)} ${shq(tmp)}`] : []),
    `mv -f ${shq(tmp)} ${shq(o.path)}`,
    "",
  ].join("\n");
}

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

export function removeFileScript(path: string): string {
  return `rm -f ${shq(path)}\n`;
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
