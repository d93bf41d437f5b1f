// The console's pages end to end on the real Docker engine: two real
// code-server sandboxes (the e2e engine stand-in applied them), the console
// server on loopback reading dockerd and each sandbox's /healthz socket, and
// the page in headless Chromium. A sandbox restarted from its row comes back
// to "running" without a reload; one killed outside the console turns
// "crashed" on the open page and back when started again.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createAdaptorServer, type ServerType } from "@hono/node-server";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "./support/engine.ts";
import { dockerAt, inspectOrAbsent, socketPathOf } from "./support/docker.ts";
import { evaluateSpec, socketOf, type E2eEventSpec } from "./support/event.ts";
import { waitHealthy } from "./support/http.ts";
import { EngineStandInApplier } from "./support/engineApplier.ts";
import { cleanupRun, docker, dockerHost, RUN_LABEL, runId } from "./support/run.ts";
import { e2eWorkdir, writePulumiProject, workdirSpec } from "./support/workdir.ts";
import type { TestNginx } from "../support/nginx.ts";
import { ListableAudit, PASSWORDS, sessionAuth } from "../support/pagesFixture.ts";
import { createConsoleApp } from "../../console/api/app.ts";
import { DeclarativeRunner } from "../../console/apply/declarative.ts";
import { OperationQueue } from "../../console/apply/queue.ts";
import { DockerodeSandboxes } from "../../console/ops/docker.ts";
import { Project } from "../../console/ops/project.ts";
import { StatusService } from "../../console/ops/status.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../support/browser.ts";

const ada = `ada-${runId}`;
const bob = `bob-${runId}`;
const dockerd = dockerAt(socketPathOf(dockerHost));
const engine = new Engine({ extraLabels: { [RUN_LABEL]: runId }, log: (l) => console.log(`engine: ${l}`) });

let dir: string;
let nginx: TestNginx | undefined;
let server: ServerType | undefined;
let url = "";
let browser: Browser | undefined;
let page: Page;

beforeAll(async () => {
  const work = await e2eWorkdir(`thon-e2e-pages-${runId}-`);
  dir = work.dir;
  nginx = work.nginx;
  const spec: E2eEventSpec = workdirSpec(work, `e2ep-${runId}`, [
    { name: ada, group: "red" },
    { name: bob, group: "red" },
  ]);
  writePulumiProject(dir);
  const v1 = await evaluateSpec(dir, "thon.yaml", spec);
  await engine.up(v1);
  await Promise.all([ada, bob].map((u) => waitHealthy(socketOf(v1, u), 120_000)));

  const project = new Project({ projectDir: dir, stack: "dev" });
  const queue = new OperationQueue("dev");
  const audit = new ListableAudit();
  const sandboxes = new DockerodeSandboxes(socketPathOf(dockerHost));
  const app = createConsoleApp({
    auth: sessionAuth(PASSWORDS),
    audit,
    ops: { project, docker: sandboxes, status: new StatusService(sandboxes), queue, declarative: new DeclarativeRunner({ project, applier: new EngineStandInApplier(engine, join(dir, "thon.yaml"), v1), queue, audit }) },
    pages: { auditList: audit.list, healthChecks: [] },
  });
  server = createAdaptorServer({ fetch: app.fetch });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url + "/");
  await page.locator("#signin input[name=password]").fill(PASSWORDS.organizer);
  await page.locator("#signin button[type=submit]").click();
  await page.locator("#participants").waitFor();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (server) {
    (server as unknown as { closeAllConnections(): void }).closeAllConnections();
    await new Promise<void>((r) => server!.close(() => r()));
  }
  console.log(`e2e cleanup (${RUN_LABEL}=${runId}): ${(await cleanupRun()).join("; ")}`);
  await nginx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 180_000);

const startedAt = async (name: string) => (await inspectOrAbsent(dockerd, `inspect thon-${name}`, () => dockerd.getContainer(`thon-${name}`).inspect()))?.State.StartedAt;

describe("e2e: the console's pages on a real Docker engine", () => {
  it("both sandboxes show running, with memory against the 1 GiB limit", async () => {
    await page.locator(`#p-${ada}[data-badge="running"]`).waitFor({ timeout: 30_000 });
    await page.locator(`#p-${bob}[data-badge="running"]`).waitFor({ timeout: 30_000 });
    expect(await page.locator(`#p-${ada} .mem`).textContent()).toMatch(/ \/ 1\.0 GiB$/);
  });

  it("a sandbox restarted from its row comes back to running without a reload", async () => {
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
    const before = await startedAt(ada);
    await page.locator(`#p-${ada} [data-action="restart"]`).click();
    await page.locator("#confirm .ok").click();
    await page.locator(`#p-${ada} .badge.b-restarting`).waitFor({ timeout: 5000 });
    await page.locator("#confirm .progress li", { hasText: "Done" }).waitFor({ timeout: 60_000 });
    await page.locator("#confirm .cancel").click();
    await page.locator(`#p-${ada}[data-badge="running"]`).waitFor({ timeout: 90_000 });
    expect(await startedAt(ada)).not.toBe(before);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
  }, 180_000);

  it("a sandbox killed outside the console turns crashed on the open page, and running when started again", async () => {
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 2));
    await docker(["kill", `thon-${bob}`]);
    await page.locator(`#p-${bob}[data-badge="crashed"]`).waitFor({ timeout: 15_000 });
    await docker(["start", `thon-${bob}`]);
    await page.locator(`#p-${bob}[data-badge="running"]`).waitFor({ timeout: 90_000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(2);
  }, 180_000);
});
