// Properties of the planner over random events (fast-check): one organizer
// action on one participant changes nobody else's plan. Names, paths,
// labels, URLs, the key each participant uses and their gateway consumer
// are all compared, with the LLM off, on without the gateway, and with the
// gateway per user and per group.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { RESERVED_NAMES } from "../infra/config/names.ts";
import { planEvent, type ConsumerPlan, type EventPlan, type ParticipantPlan } from "../infra/plan.ts";
import { makeEvent } from "./support/events.ts";
import { llmYaml } from "./support/llm.ts";

const GROUPS = ["alpha", "beta", "gamma"] as const;
type Group = (typeof GROUPS)[number];
type Roster = ReadonlyMap<string, Group>;

const MODES = {
  "no LLM": "",
  "Lemonade without the gateway": llmYaml({ gateway: false }),
  "the gateway per user": llmYaml({ mode: "per-user" }),
  "the gateway per group": llmYaml({ mode: "per-group" }),
} as const;
type Mode = keyof typeof MODES;

// Valid participant names; YAML would read true/false/null as other types.
const userName = fc
  .stringMatching(/^[a-z][a-z0-9_-]{0,6}[a-z0-9]$/)
  .filter((n) => !RESERVED_NAMES.includes(n) && !["true", "false", "null"].includes(n));
const roster = fc.uniqueArray(fc.tuple(userName, fc.constantFrom(...GROUPS)), { minLength: 1, maxLength: 12, selector: ([n]) => n }).map((pairs) => new Map(pairs) as Roster);
const group = fc.constantFrom(...GROUPS);
const mode = fc.constantFrom(...(Object.keys(MODES) as Mode[]));

function plan(r: Roster, m: Mode): EventPlan {
  const groups: Record<string, string[]> = Object.fromEntries(GROUPS.map((g) => [g, []]));
  for (const [user, g] of r) groups[g]!.push(user);
  return planEvent(makeEvent(groups, MODES[m]));
}

const participant = (p: EventPlan, name: string): ParticipantPlan | undefined => p.participants.find((x) => x.name === name);
const consumers = (p: EventPlan): Map<string, ConsumerPlan> => new Map((p.llm?.gateway?.consumers ?? []).map((c) => [c.resourceNames.consumer, c]));

/** Everyone but `who` has the same plan in both. */
function othersEqual(before: EventPlan, after: EventPlan, who: string): void {
  for (const p of before.participants) {
    if (p.name !== who) expect(participant(after, p.name), p.name).toEqual(p);
  }
  for (const p of after.participants) {
    if (p.name !== who) expect(participant(before, p.name), p.name).toBeDefined();
  }
}

/** Per-user consumers other than `who`'s are equal; per-group consumers of groups other than `touched` are. */
function otherConsumersEqual(before: EventPlan, after: EventPlan, who: string, touched: readonly string[]): void {
  const a = consumers(before);
  const b = consumers(after);
  for (const [name, c] of a) {
    const concerned = c.kind === "user" ? c.owner === who : touched.includes(c.owner);
    if (!concerned) expect(b.get(name), name).toEqual(c);
  }
  for (const [name, c] of b) {
    const concerned = c.kind === "user" ? c.owner === who : touched.includes(c.owner);
    if (!concerned) expect(a.has(name), name).toBe(true);
  }
}

const RUNS = { numRuns: 60 };

describe("planner properties", () => {
  it("adding one participant leaves every other participant's plan and consumer equal", () => {
    fc.assert(
      fc.property(roster, userName, group, mode, (r, newcomer, g, m) => {
        fc.pre(!r.has(newcomer));
        const before = plan(r, m);
        const after = plan(new Map([...r, [newcomer, g]]), m);
        othersEqual(before, after, newcomer);
        otherConsumersEqual(before, after, newcomer, [g]);
        expect(participant(after, newcomer)!.group).toBe(g);
      }),
      RUNS,
    );
  });

  it("removing one participant leaves every other participant's plan and consumer equal", () => {
    fc.assert(
      fc.property(roster, fc.nat(), mode, (r, i, m) => {
        const users = [...r.keys()];
        fc.pre(users.length > 1); // an event has at least one participant
        const leaver = users[i % users.length]!;
        const rest = new Map(r);
        rest.delete(leaver);
        const before = plan(r, m);
        const after = plan(rest, m);
        othersEqual(before, after, leaver);
        otherConsumersEqual(before, after, leaver, [r.get(leaver)!]);
        expect(participant(after, leaver)).toBeUndefined();
      }),
      RUNS,
    );
  });

  it("moving one participant to another group changes nobody else's plan, and their own only in its group (and, per group, their key)", () => {
    fc.assert(
      fc.property(roster, fc.nat(), group, mode, (r, i, to, m) => {
        const users = [...r.keys()];
        const mover = users[i % users.length]!;
        const from = r.get(mover)!;
        fc.pre(from !== to);
        const before = plan(r, m);
        const after = plan(new Map([...r, [mover, to]]), m);
        othersEqual(before, after, mover);
        // Models scale with the participant count, which a move keeps.
        expect(after.llm?.lemonade).toEqual(before.llm?.lemonade);

        const { group: g1, llm: llm1, ...own1 } = participant(before, mover)!;
        const { group: g2, llm: llm2, ...own2 } = participant(after, mover)!;
        expect([g1, g2]).toEqual([from, to]);
        // Container, volume, sockets, URL and labels: untouched, so nothing is replaced.
        expect(own2).toEqual(own1);
        if (m === "the gateway per group") {
          // The one change besides the group: they now send their new group's key.
          expect(llm1).toEqual({ key: { from: "consumer", consumer: `thon-consumer-group-${from}` }, kiloPath: llm2!.kiloPath });
          expect(llm2!.key).toEqual({ from: "consumer", consumer: `thon-consumer-group-${to}` });
        } else {
          expect(llm2).toEqual(llm1);
        }
        otherConsumersEqual(before, after, mover, [from, to]);
      }),
      RUNS,
    );
  });

  it("per group, a move updates the two groups' consumers in place: members and budget, same names", () => {
    fc.assert(
      fc.property(roster, fc.nat(), group, (r, i, to) => {
        const users = [...r.keys()];
        const mover = users[i % users.length]!;
        const from = r.get(mover)!;
        fc.pre(from !== to);
        const before = consumers(plan(r, "the gateway per group"));
        const after = consumers(plan(new Map([...r, [mover, to]]), "the gateway per group"));
        const name = (g: string) => `thon-consumer-group-${g}`;
        const size = (g: string) => [...r.values()].filter((x) => x === g).length;

        // The old group loses a member: its consumer goes when it was the last one.
        const oldAfter = after.get(name(from));
        if (size(from) === 1) expect(oldAfter).toBeUndefined();
        else {
          const oldBefore = before.get(name(from))!;
          expect(oldAfter!.members).toEqual(oldBefore.members.filter((u) => u !== mover));
          expect({ ...oldAfter!, members: [], limit: 0, desc: "" }).toEqual({ ...oldBefore, members: [], limit: 0, desc: "" });
          expect(oldAfter!.limit).toMatchObject({ tokens: 100000 * (size(from) - 1) });
        }
        // The new group gains one: its consumer appears when it had nobody.
        const newAfter = after.get(name(to))!;
        expect(newAfter.members).toContain(mover);
        expect(newAfter.limit).toMatchObject({ tokens: 100000 * (size(to) + 1) });
        expect(newAfter.username).toBe(`thon_test_group_${to}`);
        if (size(to) === 0) expect(before.has(name(to))).toBe(false);
        else expect(newAfter.resourceNames).toEqual(before.get(name(to))!.resourceNames);
      }),
      RUNS,
    );
  });
});
