// Builds events for tests from thon.yaml text, through the real loader.
import { expect } from "vitest";
import { parseThonFile, ThonConfigError } from "../../infra/config/load.ts";
import { toEvent, type Event } from "../../infra/config/event.ts";

/** thon.yaml text for the given groups, plus extra top-level YAML. */
export function eventYaml(groups: Record<string, string[]>, extra = ""): string {
  const body = Object.entries(groups)
    .map(([g, users]) => `  ${g}:\n    users: [${users.join(", ")}]`)
    .join("\n");
  return `event:\n  name: test\n  host: 127.0.0.1\ngroups:\n${body}\n${extra}`;
}

export function makeEvent(groups: Record<string, string[]>, extra = ""): Event {
  return toEvent(parseThonFile(eventYaml(groups, extra)));
}

/** n participants named u001..uNNN spread over `groupCount` groups. */
export function bigGroups(n: number, groupCount = 5): Record<string, string[]> {
  const groups: Record<string, string[]> = {};
  for (let i = 1; i <= n; i++) {
    const g = `g${(i % groupCount) + 1}`;
    (groups[g] ??= []).push(`u${String(i).padStart(3, "0")}`);
  }
  return groups;
}

/** The problems a rejected thon.yaml text is reported with, as `line:column path: message`. */
export function problemsOf(text: string): string[] {
  try {
    parseThonFile(text, "thon.yaml");
  } catch (err) {
    expect(err).toBeInstanceOf(ThonConfigError);
    return (err as ThonConfigError).problems.map((p) => `${p.line ?? "-"}:${p.column ?? "-"} ${p.path}: ${p.message}`);
  }
  throw new Error("expected the file to be rejected");
}
