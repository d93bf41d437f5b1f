// Shell text for commands run on the target host. Pure, so the exact scripts
// the program declares are unit-tested and shown by `thon plan`.

/** Quotes one word for POSIX sh: 'it'\''s'. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The folder of an absolute path ("/a/b/c" -> "/a/b", "/a" -> "/"). */
export function dirname(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

export interface WriteFileOptions {
  /** Octal mode of the file, e.g. "0644" or "0600" for a private key. */
  readonly mode: string;
  /** Mode of the folder when it has to be created. */
  readonly dirMode?: string;
  /** user:group owning the file (e.g. a service user); default root, 0:0. */
  readonly owner?: string;
}

/**
 * Writes stdin to `path`, owned by root (or `owner`) with `mode`, atomically: the content
 * goes to a temporary file created under umask 077 (a key is never readable
 * by others, not even for a moment), then is renamed over the old file, so a
 * reloading nginx (or a restarting service) never reads half a file. The content comes on stdin and
 * never on the command line, where it would land in state and process lists.
 */
export function writeFileScript(path: string, options: WriteFileOptions): string {
  if (!/^0[0-7]{3}$/.test(options.mode)) throw new Error(`file mode ${options.mode} is not an octal mode such as 0644`);
  const f = shellQuote(path);
  const tmp = shellQuote(`${path}.thon-new`);
  return [
    `install -d -m ${options.dirMode ?? "0755"} -- ${shellQuote(dirname(path))}`,
    `(umask 077 && cat > ${tmp})`,
    `chown ${shellQuote(options.owner ?? "0:0")} ${tmp}`,
    `chmod ${options.mode} ${tmp}`,
    `mv -f -- ${tmp} ${f}`,
    "",
  ].join("\n");
}

/** Removes a file the program wrote; a file already gone is fine. */
export function removeFileScript(path: string): string {
  return `rm -f -- ${shellQuote(path)}\n`;
}
