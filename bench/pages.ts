// The console pages' figures (issue 15's goals: under 200 ms and under 2 s):
//
// 1. Server time for the participants page at 300 participants: GET / in
//    process (status refresh through the Docker stand-in + rendering the
//    300 rows), and the rendering alone. Real Docker's refresh time for N
//    sandboxes is bench/console.ts's figure; add it for a real event.
// 2. SSE latency from a container's state change to the page: the real
//    console server on loopback, the page in headless Chromium signed in,
//    a container's state changed in the Docker stand-in, time until the
//    row's badge in the browser shows it. At the default 1 s live interval
//    and at 250 ms.
//
// `node --import tsx bench/pages.ts [--rounds N]`
import { chromium } from "playwright-core";
import { createConsoleApp } from "../console/api/app.ts";
import { DeclarativeRunner } from "../console/apply/declarative.ts";
import { OperationQueue } from "../console/apply/queue.ts";
import { Project } from "../console/ops/project.ts";
import { StatusService } from "../console/ops/status.ts";
import { participantsPage } from "../console/pages/participants.ts";
import { shell } from "../console/pages/layout.ts";
import { headerAuth } from "../test/support/consoleAuth.ts";
import { ApplierStandIn, makeProject } from "../test/support/consoleFixture.ts";
import { bigThonYaml, ListableAudit, PASSWORDS, populate300, startPagesServer, StatefulDocker } from "../test/support/pagesFixture.ts";
import { fmt, median, quantile, table } from "./lib/stats.ts";
import { CHROMIUM_PATH } from "../test/support/browser.ts";

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf("--rounds") + 1] ?? "") || 30;

async function serverTime() {
  const fixture = makeProject(bigThonYaml(300));
  const project = new Project({ projectDir: fixture.dir, stack: "dev" });
  const docker = new StatefulDocker();
  const servers = await populate300(docker, project);
  const status = new StatusService(docker, { healthzTimeoutMs: 300 });
  const queue = new OperationQueue("dev");
  const audit = new ListableAudit();
  const app = createConsoleApp({ auth: headerAuth(), audit, ops: { project, docker, status, queue, declarative: new DeclarativeRunner({ project, applier: new ApplierStandIn(), queue, audit }) }, pages: {} });
  const cold: number[] = [];
  const warm: number[] = [];
  const render: number[] = [];
  let bytes = 0;
  for (let i = 0; i < rounds; i++) {
    // The live loop's last refresh is reused while fresh (1 s): every 4th request refreshes, as a page load after the cache aged.
    if (i % 4 === 0) await new Promise((r) => setTimeout(r, 1100));
    const t0 = performance.now();
    const r = await app.request("/", { headers: { "X-Test-Principal": "organizer" } });
    (i % 4 === 0 ? cold : warm).push(performance.now() - t0);
    bytes = (await r.text()).length;
  }
  const plan = project.plan();
  const statuses = await status.refresh(plan.event, plan.participants);
  const rows = plan.participants.map((x) => ({ name: x.name, group: x.group, declared: x.state, url: x.url, status: statuses.get(x.name) ?? null }));
  for (let i = 0; i < rounds + 3; i++) {
    const t = performance.now();
    String(await shell({ title: "Participants", active: "/", principal: { id: "b", role: "organizer", via: "password" } }, participantsPage({ rows, groups: [], organizer: true, passwords: true, query: {} })));
    if (i >= 3) render.push(performance.now() - t);
  }
  for (const s of servers) s.close();
  fixture.cleanup();
  return { cold, warm, render, bytes };
}

async function sseLatency(intervalMs: number, n: number) {
  const s = await startPagesServer({ text: bigThonYaml(300), populate: populate300, pages: { liveIntervalMs: intervalMs } });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
  const page = await browser.newPage();
  await page.goto(s.url + "/");
  await page.locator("#signin input[name=password]").fill(PASSWORDS.organizer);
  await page.locator("#signin button[type=submit]").click();
  await page.locator("#participants").waitFor();
  await page.waitForTimeout(intervalMs + 500);
  const out: number[] = [];
  // One participant, crashed then back to running, at a random phase of the server's loop (as a real crash).
  for (let i = 0; i < n; i++) {
    const crashed = i % 2 === 0;
    await page.waitForTimeout(Math.random() * intervalMs);
    const t = performance.now();
    s.docker.set("p100", crashed ? { status: "exited", running: false, exitCode: 1 } : { status: "running", running: true, exitCode: 0 });
    await page.locator(`#p-p100[data-badge="${crashed ? "crashed" : "running"}"]`).waitFor({ timeout: intervalMs * 3 + 5000 });
    out.push(performance.now() - t);
  }
  await browser.close();
  await s.close();
  return out;
}

const st = await serverTime();
const sse1000 = await sseLatency(1000, 20);
const sse250 = await sseLatency(250, 20);
const row = (what: string, xs: number[]) => [what, String(xs.length), fmt(median(xs), 1), fmt(quantile(xs, 0.95), 1), fmt(Math.max(...xs), 1)];
console.log(`## Console pages (${new Date().toISOString().slice(0, 10)}, node ${process.version})\n`);
console.log(`Participants page at 300 participants (${Math.round(st.bytes / 1024)} KiB of HTML), in process; times in ms:\n`);
console.log(table(["measure", "n", "median", "p95", "max"], [row("GET / with a status refresh (stand-in Docker)", st.cold), row("GET / within the live loop's last refresh", st.warm), row("render alone (300 rows)", st.render)]));
console.log(`\nSSE: container state change → the row's badge in headless Chromium, ms:\n`);
console.log(table(["live interval", "n", "median", "p95", "max"], [row("1000 ms (default)", sse1000), row("250 ms", sse250)]));
