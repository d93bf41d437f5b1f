// What the participant's own page (/me) says of their LLM tokens: the budget
// of the gateway consumer whose key their tools send (their own, or their
// group's in per-group mode), and what that consumer used in the budget's
// window, from the stored counter snapshots (restarts of APISIX counted).
import type { EventPlan } from "../../infra/plan.ts";
import { cumulative, usedSince } from "../usage/totals.ts";
import type { UsageSnapshot } from "../usage/store.ts";
import type { ParticipantUsage } from "./routes.ts";

/** A budget window in words: 3600 → "hour", 86400 → "day". */
export function windowWords(seconds: number): string {
  if (seconds === 3600) return "hour";
  if (seconds === 86_400) return "day";
  return seconds % 3600 === 0 ? `${seconds / 3600} hours` : seconds % 60 === 0 ? `${seconds / 60} minutes` : `${seconds} s`;
}

/** null without the gateway, or for someone no consumer serves. */
export function participantUsage(plan: Pick<EventPlan, "llm">, series: readonly UsageSnapshot[], user: string, now: number): ParticipantUsage | null {
  const consumer = plan.llm?.gateway?.consumers.find((c) => c.members.includes(user));
  if (!consumer) return null;
  if (consumer.limit === false) return { budget: null, used: usedSince(series, 0).get(consumer.username) ?? 0, window: "since the event started" };
  const used = usedSince(series, now - consumer.limit.windowSeconds * 1000).get(consumer.username) ?? 0;
  return { budget: consumer.limit.tokens, used, window: `in the last ${windowWords(consumer.limit.windowSeconds)}${consumer.kind === "group" ? ", shared with your group" : ""}` };
}

/**
 * When the participant's tools last called the LLM, as well as snapshots can
 * tell: the newest scrape at which their own consumer's count grew. Only in
 * per-user mode: a group's consumer grows when anyone in the group calls.
 */
export function lastLlmCallAt(plan: Pick<EventPlan, "llm">, series: readonly UsageSnapshot[], user: string): Date | undefined {
  const consumer = plan.llm?.gateway?.consumers.find((c) => c.members.includes(user));
  if (!consumer || consumer.kind !== "user") return undefined;
  let last: number | undefined;
  let before = 0;
  for (const point of cumulative(series)) {
    const total = [...point.totals.values()].filter((t) => t.consumer === consumer.username).reduce((a, t) => a + t.total, 0);
    if (total > before) last = point.at;
    before = total;
  }
  return last === undefined ? undefined : new Date(last);
}
