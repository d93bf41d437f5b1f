// What /me says of a participant's tokens: their consumer's budget and what it
// used in the budget's window, per-user and per-group, across an APISIX
// restart (the counters start again at zero).
import { describe, expect, it } from "vitest";
import { lastLlmCallAt, participantUsage, windowWords } from "../../console/idle/participantUsage.ts";
import { planEvent } from "../../infra/plan.ts";
import type { UsageSnapshot } from "../../console/usage/store.ts";
import { makeEvent } from "../support/events.ts";
import { llmYaml } from "../support/llm.ts";

const HOUR = 3_600_000;
const now = Date.parse("2026-11-28T12:00:00Z");
const snap = (at: number, samples: Record<string, number>): UsageSnapshot => ({
  at,
  samples: Object.entries(samples).map(([consumer, completion]) => ({ consumer, model: "user.gemma", prompt: 0, completion })),
});

describe("participantUsage", () => {
  const perUser = planEvent(makeEvent({ alpha: ["alice", "bob"] }, llmYaml()));
  const consumerOf = (user: string) => perUser.llm!.gateway!.consumers.find((c) => c.members.includes(user))!;

  it("per-user: the participant's own consumer, counted in the budget's window only", () => {
    const alice = consumerOf("alice");
    expect(alice.limit).not.toBe(false);
    const window = (alice.limit as { windowSeconds: number }).windowSeconds * 1000;
    const series = [snap(now - window - HOUR, { [alice.username]: 100 }), snap(now - window / 2, { [alice.username]: 150 }), snap(now - 1000, { [alice.username]: 190 })];
    const u = participantUsage(perUser, series, "alice", now)!;
    expect(u.budget).toBe((alice.limit as { tokens: number }).tokens);
    expect(u.used).toBe(90);
    expect(u.window).toMatch(/^in the last /);
    expect(participantUsage(perUser, series, "bob", now)!.used).toBe(0);
  });

  it("counts on across an APISIX restart (the counter drops to a lower value)", () => {
    const alice = consumerOf("alice");
    // Counters count from APISIX's start: 50 at the first reading, 30 more, then a restart and 5 since.
    const series = [snap(now - 3000, { [alice.username]: 50 }), snap(now - 2000, { [alice.username]: 80 }), snap(now - 1000, { [alice.username]: 5 })];
    expect(participantUsage(perUser, series, "alice", now)!.used).toBe(85);
  });

  it("per-group: the group's shared budget, and says it is shared", () => {
    const perGroup = planEvent(makeEvent({ alpha: ["alice", "bob"] }, llmYaml({ mode: "per-group" })));
    const group = perGroup.llm!.gateway!.consumers.find((c) => c.members.includes("alice"))!;
    expect(group.kind).toBe("group");
    const u = participantUsage(perGroup, [snap(now - 2000, { [group.username]: 10 }), snap(now - 1000, { [group.username]: 30 })], "bob", now)!;
    expect(u.used).toBe(30);
    expect(u.window).toContain("shared with your group");
  });

  it("is null without the gateway, and for a name no consumer serves", () => {
    expect(participantUsage(planEvent(makeEvent({ alpha: ["alice"] })), [], "alice", now)).toBeNull();
    expect(participantUsage(perUser, [], "nobody", now)).toBeNull();
  });

  it("puts the window in words", () => {
    expect([3600, 86_400, 7200, 600, 45].map(windowWords)).toEqual(["hour", "day", "2 hours", "10 minutes", "45 s"]);
  });

  it("knows the last LLM call from the newest scrape where the participant's count grew, per-user only", () => {
    const alice = consumerOf("alice");
    const series = [snap(now - 3000, { [alice.username]: 10 }), snap(now - 2000, { [alice.username]: 40 }), snap(now - 1000, { [alice.username]: 40 })];
    expect(lastLlmCallAt(perUser, series, "alice")?.getTime()).toBe(now - 2000);
    expect(lastLlmCallAt(perUser, series, "bob")).toBeUndefined();
    const perGroup = planEvent(makeEvent({ alpha: ["alice", "bob"] }, llmYaml({ mode: "per-group" })));
    expect(lastLlmCallAt(perGroup, series, "alice")).toBeUndefined();
  });
});
