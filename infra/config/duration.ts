// Durations in thon.yaml are written the way organizers say them ("45m",
// "2h", "1h30m"); the idle policy works in whole seconds.

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses "90s", "45m", "2h", "1h30m", "1d" into seconds; undefined if not a duration (or zero). */
export function parseDuration(value: string): number | undefined {
  const text = value.trim();
  if (!/^(\d+[smhd])+$/.test(text)) return undefined;
  let seconds = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhd])/g)) seconds += Number(n) * UNIT_SECONDS[unit!]!;
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : undefined;
}

/** Formats seconds back for messages and reports: 5400 -> "1h30m", 45 -> "45s". */
export function formatDuration(seconds: number): string {
  if (seconds <= 0) return "0s";
  const parts: string[] = [];
  let rest = Math.round(seconds);
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join("");
}
