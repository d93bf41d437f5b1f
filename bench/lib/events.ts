// The event the benchmarks measure: N participants in 5 groups with every
// feature on (TLS with the event CA, the nginx proxy, Lemonade and the APISIX
// gateway with one consumer per participant), written as thon.yaml text so
// the real loader reads it.
import { bigGroups, eventYaml } from "../../test/support/events.ts";
import { llmYaml } from "../../test/support/llm.ts";

export const BENCH_GROUPS = 5;

export function benchGroups(participants: number): Record<string, string[]> {
  return bigGroups(participants, BENCH_GROUPS);
}

export function benchEventYaml(participants: number): string {
  return eventYaml(benchGroups(participants), `tls:\n  mode: ca\n${llmYaml({ mode: "per-user" })}`);
}
