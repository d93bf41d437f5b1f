// Sizes in thon.yaml are written the way organizers think ("2GiB", "512m");
// Docker's provider wants whole MiB.

const UNIT_MIB: Record<string, number> = {
  "": 1, // a bare number is MiB
  m: 1,
  mb: 1,
  mi: 1,
  mib: 1,
  g: 1024,
  gb: 1024,
  gi: 1024,
  gib: 1024,
  t: 1024 * 1024,
  tb: 1024 * 1024,
  ti: 1024 * 1024,
  tib: 1024 * 1024,
};

/** Parses "2GiB", "1.5g", "512MiB", 512 (MiB) into whole MiB; undefined if not a size. */
export function parseMiB(value: string | number): number | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) && value > 0 ? Math.round(value) : undefined;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!match) return undefined;
  const factor = UNIT_MIB[match[2]!.toLowerCase()];
  if (factor === undefined) return undefined;
  const mib = Math.round(Number(match[1]) * factor);
  return mib > 0 ? mib : undefined;
}

/** Formats MiB back for messages: 2048 -> "2GiB", 1536 -> "1536MiB". */
export function formatMiB(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024}GiB` : `${mib}MiB`;
}
