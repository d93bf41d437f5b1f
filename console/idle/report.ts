// The text `thon idle --dry-run` prints: who would be parked and when, then
// everyone else and why not. Pure; times relative to `now` and in UTC, so the
// organizer reads "in 25m" and a log reader gets the exact time.
import { formatDuration } from "../../infra/config/duration.ts";
import type { Assessment, IdleRules } from "./decide.ts";

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
const since = (now: Date, d: Date | undefined) => (d === undefined ? "never" : `${formatDuration(Math.max(0, (now.getTime() - d.getTime()) / 1000)) || "0s"} ago`);

/** The dry-run report for `assessments` (from `dryRun(...).all`), as lines of text ending in a newline. */
export function idleReport(assessments: readonly Assessment[], rules: IdleRules, now: Date): string {
  const lines: string[] = [];
  const policy = `park after ${formatDuration(rules.parkAfter)} without use, grace ${formatDuration(rules.graceAfterStart)} after start, warning ${formatDuration(rules.warnBefore)} before` +
    (rules.parkConnectedAfter === undefined ? ", connected tabs keep sandboxes awake" : `, connected but idle parked after ${formatDuration(rules.parkConnectedAfter)}`);
  lines.push(`Idle parking is ${rules.enabled ? "on" : "off (idle.enabled: false); showing what it would do"}: ${policy}.`);
  lines.push(`As of ${iso(now)}, ${assessments.length} participant${assessments.length === 1 ? "" : "s"}.`);

  const width = Math.max(4, ...assessments.map((a) => a.user.length));
  const row = (a: Assessment, tail: string) => `  ${a.user.padEnd(width)}  ${a.status.padEnd(17)}  last seen ${since(now, a.lastSeenAt).padEnd(10)}  ${tail}`;
  const parkNow = assessments.filter((a) => a.decision.action === "park-now");
  const parkAt = assessments
    .filter((a): a is Assessment & { decision: { action: "park-at"; at: Date; warnAt: Date } } => a.decision.action === "park-at")
    .sort((a, b) => a.decision.at.getTime() - b.decision.at.getTime() || (a.user < b.user ? -1 : 1));
  const never = assessments.filter((a) => a.decision.action === "never");

  lines.push("", `Would park now (${parkNow.length}):`);
  for (const a of parkNow) lines.push(row(a, a.decision.why));
  if (parkNow.length === 0) lines.push("  nobody");
  lines.push("", `Would park later (${parkAt.length}):`);
  for (const a of parkAt) {
    lines.push(row(a, `at ${iso(a.decision.at)} (in ${formatDuration((a.decision.at.getTime() - now.getTime()) / 1000)}; ${a.decision.why})`));
  }
  if (parkAt.length === 0) lines.push("  nobody");
  lines.push("", `Not parked (${never.length}):`);
  for (const a of never) lines.push(row(a, a.decision.why));
  if (never.length === 0) lines.push("  nobody");
  return lines.join("\n") + "\n";
}
