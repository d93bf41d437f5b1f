// The wake flow for real: THON's program applied on a real Docker engine
// (real code-server sandboxes, the real proxy files in a real nginx), the
// console's idle routes on a unix socket behind a /_thon/ location, and
// headless Chromium. A parked participant opens their URL, gets nginx's "not
// answering" page, types the sandbox password, and ends on code-server's own
// login page; an organizer-stopped participant is told only an organizer can
// start them.
//
// Run with `THON_E2E_KEEP_DOCKERD=1 npm run test:e2e -- test/e2e/wake-browser.test.ts`.
import { execSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Dockerode from "dockerode";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { idleDocker } from "../../console/idle/docker.ts";
import { parkParticipant } from "../../console/idle/park.ts";
import { MemoryParkRecords } from "../../console/idle/records.ts";
import type { Event } from "../../infra/config/event.ts";
import { loadEvent } from "../../infra/config/load.ts";
import type { Evaluation } from "../../infra/preview/evaluate.ts";
import { planEvent, type ParticipantPlan } from "../../infra/plan.ts";
import { nginxLayout } from "../../infra/render/nginx/layout.ts";
import { MemoryAudit } from "../support/consoleAuth.ts";
import { consoleLocation, idleTestApp, serveOnSocket } from "../support/idleApp.ts";
import type { TestNginx } from "../support/nginx.ts";
import { Engine } from "./support/engine.ts";
import { evaluateSpec, passwordOf, socketOf, type E2eEventSpec } from "./support/event.ts";
import { waitHealthy } from "./support/http.ts";
import { cleanupRun, dockerHost, RUN_LABEL, runId } from "./support/run.ts";
import { e2eWorkdir, workdirSpec } from "./support/workdir.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../support/browser.ts";

const sleepy = `sleepy-${runId}`; // parked by THON, woken from the browser
const held = `held-${runId}`; // state: stopped, the organizer's

const engine = new Engine({ extraLabels: { [RUN_LABEL]: runId }, log: (l) => console.log(`engine: ${l}`) });
const docker = idleDocker(new Dockerode({ socketPath: dockerHost.replace(/^unix:\/\//, "") }));
const records = new MemoryParkRecords();
const audit = new MemoryAudit();

let dir: string;
let httpsPort: number;
let v1: Evaluation;
let event: Event;
let plans: Map<string, ParticipantPlan>;
let nginx: TestNginx | undefined;
let browser: Browser | undefined;
let closeConsole: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const work = await e2eWorkdir(`thon-e2e-wake-${runId}-`);
  dir = work.dir;
  nginx = work.nginx;
  httpsPort = work.httpsPort;
  const spec: E2eEventSpec = { ...workdirSpec(work, `e2e-wake-${runId}`, [
    { name: sleepy, group: "red" },
    { name: held, group: "red", state: "stopped" },
  ]), idle: true };
  // The idle policy's defaults (wakeTimeout 2m); a wake needs no idle.enabled.
  v1 = await evaluateSpec(dir, "thon.yaml", spec);
  event = loadEvent(join(dir, "thon.yaml"));
  plans = new Map(planEvent(event).participants.map((p) => [p.name, p]));
  await engine.up(v1);
  await waitHealthy(socketOf(v1, sleepy), 120_000);

  // The console: the idle routes on a unix socket, reading passwords from the evaluated stack outputs.
  const passwords = new Map([sleepy, held].map((u) => [u, passwordOf(v1, u)]));
  const app = idleTestApp({ audit, docker, records, participants: () => [...plans.values()], policy: () => event.idle, passwords });
  const consoleSocket = join(dir, "console.sock");
  closeConsole = await serveOnSocket(app, consoleSocket);
  // Stand-in for the console's nginx location (added to the proxy by the console's own change): /_thon/ to its socket.
  writeFileSync(join(nginxLayout(event).participantsDir, "_thon-console.conf"), consoleLocation(consoleSocket));
  execSync(`${nginx.command} -s reload`, { timeout: 10_000 });
  await new Promise((r) => setTimeout(r, 1000));

  await parkParticipant(docker, plans.get(sleepy)!, records, "e2e: parked for the browser");
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await closeConsole?.();
  const report = await Promise.race([cleanupRun(), new Promise<string[]>((res) => setTimeout(() => res(["cleanup timed out"]), 120_000))]);
  console.log(`e2e wake cleanup (${RUN_LABEL}=${runId}): ${report.join("; ")}`);
  await nginx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 180_000);

describe("e2e: waking a parked sandbox from the browser", () => {
  it("the parked page's button wakes the real sandbox and lands on code-server's login", async () => {
    expect((await docker.inspect(`thon-${sleepy}`))!.running).toBe(false);
    const context = await browser!.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const res = await page.goto(`https://127.0.0.1:${httpsPort}/${sleepy}/`);
    expect(res!.status()).toBe(502);
    expect(await page.title()).toBe("Your sandbox is not answering");
    await page.fill("input[name=password]", passwordOf(v1, sleepy));
    const t0 = Date.now();
    await page.click("button[type=submit]");
    await page.waitForURL(new RegExp(`/${sleepy}/login`), { timeout: 150_000 });
    console.log(`e2e wake: click to code-server's login page in ${Date.now() - t0} ms`);
    await page.waitForSelector("input[type=password]");
    expect((await docker.inspect(`thon-${sleepy}`))!.running).toBe(true);
    expect(records.get(sleepy)).toBeUndefined();
    expect(JSON.stringify(audit.entries)).not.toContain(passwordOf(v1, sleepy));
    await context.close();
  }, 200_000);

  it("an organizer-stopped participant gets the clear refusal, and stays stopped", async () => {
    const context = await browser!.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    expect((await page.goto(`https://127.0.0.1:${httpsPort}/${held}/`))!.status()).toBe(502);
    await page.fill("input[name=password]", passwordOf(v1, held));
    await page.click("button[type=submit]");
    await expect.poll(() => page.textContent("#thon-wake-status"), { timeout: 10_000 }).toMatch(/stopped by the organizer/);
    const c = await docker.inspect(`thon-${held}`);
    expect(c?.running ?? false).toBe(false);
    await context.close();
  }, 60_000);
});
