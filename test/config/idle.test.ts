import { describe, expect, it } from "vitest";
import { parseThonFile } from "../../infra/config/load.ts";
import { formatDuration, parseDuration } from "../../infra/config/duration.ts";
import { eventYaml, makeEvent, problemsOf } from "../support/events.ts";

describe("thon.yaml idle: the parking policy", () => {
  it("is off by default, with the documented defaults in seconds", () => {
    const file = parseThonFile(eventYaml({ alpha: ["alice"] }));
    expect(file.idle).toEqual({
      enabled: false,
      parkAfter: 5400,
      graceAfterStart: 1200,
      warnBefore: 600,
      exempt: [],
      cpuBusyPercent: 5,
      wakeConcurrency: 4,
      wakeTimeout: 120,
    });
  });

  it("reads durations written as 45m, 2h, 1h30m, 90s", () => {
    const event = makeEvent({ alpha: ["alice"] }, "idle:\n  enabled: true\n  parkAfter: 1h30m\n  graceAfterStart: 90s\n  warnBefore: 2h\n  wakeTimeout: 45m\n");
    expect(event.idle).toMatchObject({ enabled: true, parkAfter: 5400, graceAfterStart: 90, warnBefore: 7200, wakeTimeout: 2700 });
  });

  it("a bad parkAfter is an error that names idle.parkAfter and says how to write it", () => {
    for (const bad of ["90", "soon", "-5m", "0m", "5 minutes", "1.5h"]) {
      const problems = problemsOf(eventYaml({ alpha: ["alice"] }, `idle:\n  parkAfter: "${bad}"\n`));
      expect(problems, bad).toHaveLength(1);
      expect(problems[0], bad).toMatch(/^\d+:\d+ idle\.parkAfter: .*must be a duration such as "45m", "2h"/);
    }
    // A bare YAML number is not a duration either (minutes? seconds?).
    expect(problemsOf(eventYaml({ alpha: ["alice"] }, "idle:\n  parkAfter: 90\n"))[0]).toMatch(/idle\.parkAfter: .*duration such as "45m"/);
  });

  it("refuses exemptions naming nobody, naming the field and the index", () => {
    const problems = problemsOf(eventYaml({ alpha: ["alice"], beta: ["bob"] }, "idle:\n  exempt: [beta, alice, carol]\n"));
    expect(problems).toEqual([expect.stringMatching(/^\d+:\d+ idle\.exempt\[2\]: "carol": names neither a group nor a participant\. Fix: .*alpha, beta/)]);
  });

  it("accepts groups and participants as exemptions", () => {
    expect(makeEvent({ alpha: ["alice"], beta: ["bob"] }, "idle:\n  exempt: [beta, alice]\n").idle.exempt).toEqual(["beta", "alice"]);
  });

  it("refuses unknown keys with a suggestion", () => {
    expect(problemsOf(eventYaml({ alpha: ["alice"] }, "idle:\n  parkAftr: 45m\n"))[0]).toMatch(/idle\.parkAftr: unknown setting "parkAftr"\. Fix: did you mean "parkAfter"\?/);
  });
});

describe("durations", () => {
  it("parse and format back", () => {
    expect(parseDuration("45m")).toBe(2700);
    expect(parseDuration("2h")).toBe(7200);
    expect(parseDuration("1d2h3m4s")).toBe(93784);
    expect(formatDuration(5400)).toBe("1h30m");
    expect(formatDuration(45)).toBe("45s");
    expect(parseDuration(formatDuration(93784))).toBe(93784);
  });
});
