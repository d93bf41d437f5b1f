// The participants table on a swarm target: a Node column, and a "host down"
// badge (not "crashed") for participants whose node is down. Rendered HTML,
// as the browser tests in pages.test.ts get it.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shell } from "../../console/pages/layout.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../support/browser.ts";
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

describe("participants table on a swarm, in Chromium", () => {
  const SHOTS = join(process.cwd(), "test-results", "screenshots");
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  const rows: ParticipantRow[] = [
    { ...row(status("running", "n1")), name: "alice" },
    { ...row(status("host-down", "n2")), name: "bob", url: "https://h/bob/" },
    { ...row({ ...status("missing", "n3"), declared: "stopped" }), declared: "stopped", name: "cy", url: "https://h/cy/" },
  ];
  const page = async (viewport: { width: number; height: number }) => {
    const doc = String(await shell({ title: "Participants", active: "/", principal: { id: "org", role: "organizer", via: "password" } as never, event: "demo" }, participantsPage({ rows, groups: ["alpha"], query: {}, organizer: true, passwords: false, nodes: true })));
    const context = await browser.newContext({ viewport, colorScheme: "light" });
    const p = await context.newPage();
    // The page as the console serves it: its stylesheet from console/pages/static, nothing else loaded.
    await p.route("http://console.test/**", (r) => {
      const path = new URL(r.request().url()).pathname;
      if (path === "/") return r.fulfill({ contentType: "text/html", body: doc });
      if (path === "/static/app.css") return r.fulfill({ contentType: "text/css", body: readFileSync(join(import.meta.dirname, "../../console/pages/static/app.css"), "utf8") });
      return r.fulfill({ status: 404, body: "" });
    });
    await p.goto("http://console.test/");
    return { p, context };
  };

  it("shows each participant's node and bob's host-down badge at desktop and phone width", async () => {
    for (const [name, viewport] of [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]] as const) {
      const { p, context } = await page(viewport);
      const bob = p.locator("#p-bob");
      await expect.poll(() => bob.locator('[data-label="Node"]').innerText()).toBe("n2");
      expect(await bob.locator(".badge").first().innerText()).toBe("host down");
      expect(await bob.locator(".badge").first().isVisible()).toBe(true);
      expect(await p.locator("#counts").innerText()).toBe("3 participants · 1 running · 0 connected · 0 crashed or OOM · 1 stopped · 1 host down");
      await p.screenshot({ path: join(SHOTS, `participants-swarm-${name}.png`), fullPage: true });
      await context.close();
    }
  }, 60_000);
});
