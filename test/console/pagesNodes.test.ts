// The participants table on a swarm target: a Node column, and a "host down"
// badge (not "crashed") for participants whose node is down. Rendered HTML,
// as the browser tests in pages.test.ts get it.
import { describe, expect, it } from "vitest";
import { badgeOf } from "../../console/pages/badges.ts";
import { participantRow, participantsPage } from "../../console/pages/participants.ts";
import type { ParticipantRow } from "../../console/ops/operations.ts";
import type { LiveStatus } from "../../console/ops/status.ts";

const status = (state: LiveStatus["container"]["state"], node: string | null): LiveStatus => ({
  name: "alice",
  declared: "running",
  node,
  container: { id: "s1", state, exitCode: null, restartCount: 0, startedAt: null, finishedAt: null, ...(state === "host-down" ? { hostDown: "node n2 is down" } : {}) },
  codeServer: { status: "unreachable", lastHeartbeat: null, connected: false },
  memory: null,
  cpu: null,
  summary: state === "host-down" ? "host down: node n2 is down" : "running",
});
const row = (s: LiveStatus | null): ParticipantRow => ({ name: "alice", group: "alpha", declared: "running", url: "https://h/alice/", status: s });

describe("participants table on a swarm", () => {
  it("a participant whose node is down shows host down, not crashed", () => {
    expect(badgeOf(row(status("host-down", "n2")))).toBe("host-down");
    expect(String(participantRow(row(status("host-down", "n2")), { organizer: false, passwords: false, nodes: true }))).toContain('<span class="badge b-host-down">host down</span>');
  });

  it("a Node column with each participant's node, only on a swarm", () => {
    const swarm = String(participantsPage({ rows: [row(status("running", "n2"))], groups: ["alpha"], query: {}, organizer: false, passwords: false, nodes: true }));
    expect(swarm).toContain('<th scope="col">Node</th>');
    expect(swarm).toContain('<td data-label="Node">n2</td>');
    const single = String(participantsPage({ rows: [row(status("running", null))], groups: ["alpha"], query: {}, organizer: false, passwords: false }));
    expect(single).not.toContain("Node</th>");
    expect(single).not.toContain('data-label="Node"');
  });
});
