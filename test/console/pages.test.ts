// The console's pages in headless Chromium (playwright-core) against the real
// console server on loopback, signed in through the session Auth stand-in
// (cookie + CSRF), with 300 participants in stand-in Docker (a few with a
// real code-server /healthz socket). Every page: renders, has no serious or
// critical axe-core violation, and is screenshotted at desktop and phone
// width under test-results/screenshots/.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tmpdir } from "node:os";
import { diskCheck, dockerCheck, gatewayCheck, lemonadeCheck, proxyChecks, pulumiCheck, stackLockCheck } from "../../console/pages/healthChecks.ts";
import { UsageCollector } from "../../console/usage/collector.ts";
import { startApisixStandIn, type ApisixStandIn } from "../support/apisixStandIn.ts";
import { startLemonadeStandIn, type LemonadeStandIn } from "../support/lemonadeStandIn.ts";
import { bigThonYaml, PASSWORDS, populate300, startPagesServer, type PagesServer } from "../support/pagesFixture.ts";
import { CHROMIUM_PATH } from "../support/browser.ts";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const SHOTS = join(process.cwd(), "test-results", "screenshots");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let browser: Browser;
beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // launch() gives every run a fresh user-data-dir of its own (a temp folder it removes).
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

interface Session {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console messages that are CSP violations or script errors. */
  readonly problems: string[];
}

async function signIn(url: string, role: "organizer" | "viewer", viewport = DESKTOP): Promise<Session> {
  const context = await browser.newContext({ viewport, colorScheme: "light" });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !/401|Failed to load resource/.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(url + "/");
  await page.locator("#signin input[name=password]").fill(PASSWORDS[role]);
  await page.locator("#signin button[type=submit]").click();
  await page.locator("#participants").waitFor();
  return { context, page, problems };
}

async function axe(page: Page): Promise<Array<{ id: string; impact: string; nodes: string[] }>> {
  // evaluate runs through the DevTools protocol, so the page's CSP stays on.
  await page.evaluate(AXE + "\n;0");
  return page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run(o: unknown): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run({ resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
}

const badgeOf = (page: Page, name: string) => page.locator(`#p-${name} .status .badge`).first();

describe("the console's pages with 300 participants", () => {
  let s: PagesServer;
  let lemonade: LemonadeStandIn;
  let apisix: ApisixStandIn;
  let organizer: Session;

  beforeAll(async () => {
    lemonade = await startLemonadeStandIn();
    lemonade.models.set("user.gemma", { checkpoint: "unsloth/gemma-GGUF:Q4_K_M", recipe: "llamacpp", labels: [], downloaded: true });
    await fetch(`${lemonade.url}/api/v1/load`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ model_name: "user.gemma" }) });
    apisix = await startApisixStandIn({ version: "3.15.0" });
    const put = (path: string, body: unknown) => fetch(`${apisix.adminUrl}/apisix/admin/${path}`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    for (const u of ["p001", "p002", "p031"]) await put("consumers", { username: u, plugins: { "key-auth": { key: `sk-${u}` }, "ai-rate-limiting": { limit: 2000, time_window: 3600 } } });
    await put("routes/thon-chat", {
      uri: "/v1/chat/completions",
      methods: ["POST"],
      plugins: { "key-auth": {}, "ai-proxy-multi": { instances: [{ name: "lemonade", provider: "openai-compatible", weight: 1, auth: { header: { Authorization: "Bearer x" } }, options: { model: "user.gemma" }, override: { endpoint: `${lemonade.url}/api/v1/chat/completions` } }] } },
    });
    // Health: the real checks, with nothing on the HTTPS port (nginx fails) and no Pulumi CLI (fails).
    const healthChecks = [dockerCheck, proxyChecks({ port: 9 }), diskCheck, lemonadeCheck, gatewayCheck, pulumiCheck("/nonexistent/pulumi"), stackLockCheck(tmpdir())];
    s = await startPagesServer({ text: bigThonYaml(300), lemonade: lemonade.url, gateway: apisix.adminUrl, populate: populate300, healthChecks });
    // Token usage with an APISIX restart in the middle: scraped into the store the page reads.
    const collector = new UsageCollector(s.usage, { url: apisix.metricsUrl });
    const chat = (u: string) => fetch(`${apisix.proxyUrl}/v1/chat/completions`, { method: "POST", headers: { apikey: `sk-${u}`, "Content-Type": "application/json" }, body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }) });
    for (const u of ["p001", "p001", "p002", "p031"]) expect((await chat(u)).status).toBe(200);
    await collector.scrapeOnce();
    apisix.restart();
    for (const u of ["p001", "p031"]) expect((await chat(u)).status).toBe(200);
    await collector.scrapeOnce();
    organizer = await signIn(s.url, "organizer");
  }, 60_000);
  afterAll(async () => {
    await organizer?.context.close();
    await s?.close();
    await lemonade?.close();
    await apisix?.close();
  });

  it("an anonymous visitor gets the sign-in form; a wrong password says so", async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(s.url + "/");
    await expect(page.locator("h1").textContent()).resolves.toBe("Sign in");
    expect(await page.locator("nav").count()).toBe(0);
    await page.locator("#signin input[name=password]").fill("wrong");
    await page.locator("#signin button[type=submit]").click();
    await page.locator("#signin .dialog-error", { hasText: "Wrong password." }).waitFor();
    await page.screenshot({ path: join(SHOTS, "signin-desktop.png") });
    await page.goto(s.url + "/groups");
    expect(new URL(page.url()).pathname).toBe("/");
    await context.close();
  });

  it("the participants table: 300 rows, every badge, memory, search, filter, sort, select", async () => {
    const { page } = organizer;
    await page.goto(s.url + "/");
    expect(await page.locator("#rows tr").count()).toBe(300);
    for (const b of ["running", "oom", "crashed", "missing"]) expect(await page.locator(`#rows tr[data-badge="${b}"]`).count(), b).toBeGreaterThan(0);
    expect(await page.locator("#rows .b-connected").count()).toBe(3);
    expect(await page.locator("#rows meter").count()).toBeGreaterThan(200);
    await page.locator("#filters input[name=q]").fill("p01");
    await expect.poll(() => page.locator("#rows tr:not([hidden])").count()).toBe(10);
    await page.locator("#filters input[name=q]").fill("");
    await page.locator("#filters select[name=status]").selectOption("oom");
    await expect.poll(() => page.locator("#rows tr:not([hidden])").count()).toBe(6);
    await page.locator("#filters select[name=status]").selectOption("");
    await page.locator("#filters select[name=group]").selectOption("team-02");
    await expect.poll(() => page.locator("#rows tr:not([hidden])").count()).toBe(30);
    await page.locator("#pick-all").check();
    await expect(page.locator(".bulk-count").textContent()).resolves.toBe("30 selected");
    await page.locator("#pick-all").uncheck();
    await page.locator("#filters select[name=group]").selectOption("");
    await page.locator("#filters select[name=sort]").selectOption("mem");
    const first = Number(await page.locator("#rows tr").first().getAttribute("data-mem"));
    const last = Number(await page.locator("#rows tr").last().getAttribute("data-mem"));
    expect(first).toBeGreaterThan(last);
    expect(organizer.problems).toEqual([]);
  });

  it("reveals and copies a password on click (organizer; the read is audited) and prints cards for a selection", async () => {
    const { page, context } = organizer;
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.goto(s.url + "/");
    await page.locator('#p-p005 [data-action="reveal"]').click();
    await expect(page.locator("#p-p005 .revealed code").textContent()).resolves.toBe("pw-p005-Xy7");
    await page.locator("#p-p005 .revealed .copy").click();
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe("pw-p005-Xy7");
    expect(s.audit.entries.some((e) => e.action === "participants.credentials" && e.target === "p005")).toBe(true);
    await page.locator('#p-p001 .pick').check();
    await page.locator('#p-p002 .pick').check();
    await page.locator('[data-bulk="cards"]').click();
    await page.locator(".cred-card").first().waitFor();
    expect(await page.locator(".cred-card").count()).toBe(2);
    await expect(page.locator(".cred-card .pw").first().textContent()).resolves.toBe("pw-p001-Xy7");
    await page.emulateMedia({ media: "print" });
    expect(await page.locator("header.top").isVisible()).toBe(false);
    await page.screenshot({ path: join(SHOTS, "cards-print.png"), fullPage: true });
    await page.emulateMedia({ media: "screen" });
  });

  it("a sandbox restarted from its row turns from restarting to running without a reload", async () => {
    const { page } = organizer;
    await page.goto(s.url + "/");
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    expect(await badgeOf(page, "p015").textContent()).toBe("running");
    s.docker.restartMs = 1200;
    await page.locator('#p-p015 [data-action="restart"]').click();
    await page.locator("#confirm .ok").click();
    await page.locator("#p-p015 .badge.b-restarting").waitFor({ timeout: 5000 });
    await page.locator("#confirm .progress li", { hasText: "Done" }).waitFor({ timeout: 10_000 });
    await page.locator("#confirm .cancel").click();
    await page.locator("#p-p015 .badge.b-running").waitFor({ timeout: 5000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    expect(s.docker.restarts).toContain("id-p015");
  });

  it("a container that crashes on its own shows up as crashed without a reload (SSE)", async () => {
    const { page } = organizer;
    await page.goto(s.url + "/");
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
    s.docker.set("p010", { status: "exited", running: false, oomKilled: true, exitCode: 137 });
    await page.locator("#p-p010 .badge.b-oom").waitFor({ timeout: 5000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(7);
  });

  it("bulk stop of a group: the preview shows the thon.yaml diff and 'workspace kept'; the count is typed back; the rows turn stopped", async () => {
    const { page } = organizer;
    await page.goto(s.url + "/groups");
    await page.locator('#g-team-03 [data-action="group-stop"]').click();
    await page.locator("#confirm .diff").waitFor();
    const diff = await page.locator("#confirm .diff").textContent();
    expect(diff).toContain("team-03");
    expect(diff).toContain("state: stopped");
    await expect(page.locator("#confirm .kept").textContent()).resolves.toContain("Workspace kept");
    expect(await page.locator("#confirm .ok").isDisabled()).toBe(true);
    await page.screenshot({ path: join(SHOTS, "dialog-preview-desktop.png") });
    await page.locator("#confirm .typed-input").fill("29");
    expect(await page.locator("#confirm .ok").isDisabled()).toBe(true);
    await page.locator("#confirm .typed-input").fill("30");
    await page.locator("#confirm .ok").click();
    await page.locator("#confirm .progress li", { hasText: "Done" }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(SHOTS, "dialog-applied-desktop.png") });
    // The engine's summary in words, not its JSON.
    const summary = await page.locator("#confirm .progress li", { hasText: "summary:" }).textContent();
    expect(summary).toMatch(/^summary: (\d+ (created|updated|replaced|deleted|unchanged)(, )?)+$|^summary: nothing$/);
    expect(s.project.plan().participants.filter((p) => p.group === "team-03" && p.state === "stopped").length).toBe(30);
    // Closing the dialog reloads the groups page: it shows the new state.
    await Promise.all([page.waitForEvent("load"), page.locator("#confirm .cancel").click()]);
    await expect(page.locator("#g-team-03 td[data-label=Stopped]").textContent()).resolves.toBe("30");
    await page.goto(s.url + "/?group=team-03");
    await page.locator("#filters select[name=group]").selectOption("team-03");
    await expect.poll(() => page.locator('#rows tr[data-group="team-03"][data-badge="stopped"]').count()).toBe(30);
    expect(s.audit.entries.some((e) => e.action === "groups.stop" && e.result === "ok")).toBe(true);
  });

  it("a participant added on the Event page (validated as typed) appears in the table after apply", async () => {
    const { page } = organizer;
    await page.goto(s.url + "/event");
    const editor = page.locator("#thon-yaml");
    const text = await editor.inputValue();
    await editor.fill(text.replace("sandbox:\n  memory: 1GiB", "sandbox:\n  memory: lots"));
    await page.locator("#problems .problems li", { hasText: "thon.yaml:" }).waitFor({ timeout: 5000 });
    const problem = await page.locator("#problems .problems li").first().textContent();
    expect(problem).toMatch(/^thon\.yaml:\d+:\d+ sandbox\.memory: /);
    await editor.fill(`${text.trimEnd()}\n  newcomers:\n    users: [newbie]\n`);
    await page.locator("#problems .ok-line").waitFor({ timeout: 5000 });
    await page.locator('[data-action="event-apply"]').click();
    await page.locator("#confirm .diff").waitFor();
    expect(await page.locator("#confirm .diff").textContent()).toContain("+  newcomers:\n+    users: [newbie]");
    await page.locator("#confirm .ok").click();
    await page.locator("#confirm .progress li", { hasText: "Done" }).waitFor({ timeout: 10_000 });
    await page.goto(s.url + "/");
    await page.locator("#p-newbie .badge.b-running").waitFor();
    expect(await page.locator("#rows tr").count()).toBe(301);
  });

  it("the participant page: everything about the sandbox and its log followed live", async () => {
    const { page } = organizer;
    await page.goto(s.url + "/participants/p001");
    await page.locator("#log", { hasText: "followed line" }).waitFor({ timeout: 5000 });
    expect(await page.locator("dl.facts").first().textContent()).toContain("connected");
    expect(await page.locator('[data-action="recreate"]').count()).toBe(1);
  });

  it("the LLM page with Lemonade up, and the gateway page with token usage kept across the APISIX restart", async () => {
    const { page } = organizer;
    await page.goto(s.url + "/llm");
    await expect(page.locator(".state-line").textContent()).resolves.toContain("online");
    expect(await page.locator("text=user.gemma").count()).toBeGreaterThan(0);
    await page.goto(s.url + "/gateway");
    const total = (u: string) => page.locator(`#usage tr[data-consumer="${u}"] .total`).textContent();
    const per = lemonade.completionTokens; // tokens per completion as the stand-in reports them
    expect(per).toBeGreaterThan(0);
    const p001 = Number((await total("p001"))!.replace(/,/g, ""));
    const p002 = Number((await total("p002"))!.replace(/,/g, ""));
    expect(p001).toBeGreaterThan(p002); // three calls (two before the restart) against one
    expect(p001 / 3).toBeCloseTo(p002, 5);
    expect(await page.locator("figure svg path").count()).toBeGreaterThan(0);
    const csv = await page.evaluate(async () => (await fetch("/pages/gateway/usage.csv")).text());
    expect(csv.split("\r\n")[0]).toBe("consumer,group,model,prompt,completion,total,perMinute,budgetPercent");
    expect(csv).toContain(`p001,team-01,user.gemma,`);
  });

  it("the activity page filters the audit log by who and what", async () => {
    const { page } = organizer;
    await page.goto(s.url + "/activity");
    expect(await page.locator("#activity tbody tr").count()).toBeGreaterThan(2);
    await page.locator("#activity-filters input[name=what]").fill("groups.stop");
    await expect.poll(async () => (await page.locator("#activity tbody tr td:nth-child(3)").allTextContents()).every((t) => t === "groups.stop"), { timeout: 5000 }).toBe(true);
    await expect.poll(() => page.locator("#activity tbody tr").count()).toBeGreaterThan(0);
  });

  const PAGES = [
    ["participants", "/"],
    ["participant", "/participants/p001"],
    ["groups", "/groups"],
    ["event", "/event"],
    ["llm", "/llm"],
    ["gateway", "/gateway"],
    ["activity", "/activity"],
    ["health", "/health"],
  ] as const;

  it("every page: no serious or critical axe-core violation, no CSP or script error; screenshots at desktop and phone width, light and dark", async () => {
    const phone = await signIn(s.url, "organizer", PHONE);
    const dark = await browser.newContext({ viewport: DESKTOP, colorScheme: "dark", storageState: await organizer.context.storageState() });
    const darkPage = await dark.newPage();
    for (const [name, path] of PAGES) {
      for (const [session, suffix] of [[organizer, "desktop"], [phone, "phone"]] as const) {
        await session.page.goto(s.url + path);
        await session.page.waitForLoadState("networkidle").catch(() => undefined);
        if (suffix === "desktop" || name === "participants") expect(await axe(session.page), `${name} ${suffix}`).toEqual([]);
        await session.page.screenshot({ path: join(SHOTS, `${name}-${suffix}.png`), fullPage: suffix === "desktop" && name !== "participants" });
      }
      await darkPage.goto(s.url + path);
      expect(await axe(darkPage), `${name} dark`).toEqual([]);
      await darkPage.screenshot({ path: join(SHOTS, `${name}-dark.png`) });
    }
    expect(organizer.problems.filter((p) => /Content Security Policy|Refused/.test(p))).toEqual([]);
    expect(phone.problems).toEqual([]);
    await phone.context.close();
    await dark.close();
  }, 120_000);

  it("the health page: every item with ok, warn or fail, and the fix where it is not ok", async () => {
    const { page } = organizer;
    await page.goto(s.url + "/health");
    const status = async (id: string) => page.locator(`#h-${id} .badge`).textContent();
    await expect(status("docker")).resolves.toBe("ok");
    await expect(status("nginx")).resolves.toBe("fail");
    await expect(status("certificate")).resolves.toBe("warn");
    await expect(status("pulumi")).resolves.toBe("fail");
    await expect(status("lemonade")).resolves.toBe("ok");
    await expect(status("apisix")).resolves.toBe("ok");
    await expect(status("lock")).resolves.toBe("ok");
    await expect(page.locator("#h-pulumi .fix").textContent()).resolves.toMatch(/install it/);
  });

  it("a viewer sees no action buttons, and the API refuses the actions too", async () => {
    const viewer = await signIn(s.url, "viewer");
    const { page } = viewer;
    expect(await page.locator("#rows tr").count()).toBeGreaterThan(299);
    for (const [, path] of PAGES) {
      await page.goto(s.url + path);
      expect(await page.locator("[data-action]:not([data-action=sign-out]), [data-bulk], .pick, #pick-all").count(), path).toBe(0);
    }
    const status = await page.evaluate(async () => {
      const session = (await (await fetch("/api/v1/session")).json()) as { csrfToken: string };
      const h = { "Content-Type": "application/json", "X-CSRF-Token": session.csrfToken };
      const r = await Promise.all([
        fetch("/api/v1/participants/p001/restart", { method: "POST", headers: h }),
        fetch("/api/v1/participants/bulk", { method: "POST", headers: h, body: JSON.stringify({ action: "stop", selection: { group: "team-01" } }) }),
        fetch("/api/v1/participants/p001/credentials", { headers: h }),
        fetch("/api/v1/event/file", { method: "POST", headers: h, body: JSON.stringify({ text: "x" }) }),
      ]);
      return r.map((x) => x.status);
    });
    expect(status).toEqual([403, 403, 403, 403]);
    await viewer.context.close();
  });

  it("a state-changing request on the cookie session without the CSRF token is refused", async () => {
    const { page } = organizer;
    const status = await page.evaluate(async () => (await fetch("/api/v1/participants/p001/restart", { method: "POST" })).status);
    expect(status).toBe(403);
  });
});

describe("the LLM and gateway pages with their servers down", () => {
  it("each says what is down and still renders (axe-clean)", async () => {
    const s = await startPagesServer({ text: bigThonYaml(30), lemonade: "http://127.0.0.1:9", gateway: "http://127.0.0.1:9", populate: populate300, pages: { usage: { store: new (await import("../support/pagesFixture.ts")).MemoryUsageStore(), collector: new UsageCollector(new (await import("../support/pagesFixture.ts")).MemoryUsageStore(), { url: "http://127.0.0.1:9/apisix/prometheus/metrics" }) } } });
    const session = await signIn(s.url, "organizer");
    try {
      const { page } = session;
      await page.goto(s.url + "/llm");
      await expect(page.locator(".state-line").textContent()).resolves.toContain("offline");
      await expect(page.locator(".notice.fail").first().textContent()).resolves.toMatch(/Lemonade is unavailable\..*does not answer \(ECONNREFUSED\)/);
      expect(await axe(page)).toEqual([]);
      await page.screenshot({ path: join(SHOTS, "llm-down-desktop.png"), fullPage: true });
      await page.goto(s.url + "/gateway");
      await expect(page.locator(".state-line").textContent()).resolves.toContain("offline");
      expect(await page.locator(".notice.fail", { hasText: "APISIX is unavailable" }).count()).toBe(1);
      expect(await axe(page)).toEqual([]);
      await page.screenshot({ path: join(SHOTS, "gateway-down-desktop.png"), fullPage: true });
    } finally {
      await session.context.close();
      await s.close();
    }
  }, 60_000);
});
