// The manifest of the files one deployment wrote: the reload's stdin.

export interface ManifestEntry {
  readonly path: string;
  /** sha256 of the file's content, hex. */
  readonly sha256: string;
}

/** `sha256sum -c` input, sorted by path: what the reload checks before it runs. */
export function renderManifest(entries: readonly ManifestEntry[]): string {
  return [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.path}\n`)
    .join("");
}
