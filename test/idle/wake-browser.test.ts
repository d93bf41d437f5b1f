// The wake flow in a real browser through a real nginx: headless Chromium
// opens a parked participant's URL, nginx answers with THON's "not answering"
// page (rendered by infra/render/nginx), the participant types the sandbox
// password, the console (idleRoutes on a unix socket, behind the /_thon/
// location) queues the wake, the stand-in Docker starts the container, and
// once the stand-in code-server answers the page reloads into its workbench.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryParkRecords } from "../../console/idle/records.ts";
import type { IdleParticipant } from "../../console/idle/subjects.ts";
import { planEvent } from "../../infra/plan.ts";
import { renderParticipant, renderServer, renderUpstream } from "../../infra/render/nginx.ts";
import { nginxLayout } from "../../infra/render/nginx/layout.ts";
import { MemoryAudit } from "../support/consoleAuth.ts";
import { consoleLocation, idleTestApp, serveOnSocket } from "../support/idleApp.ts";
import { makeEvent } from "../support/events.ts";
import { StandInDocker } from "../support/idleDockerStandIn.ts";
import { freePort, startNginx, type TestNginx } from "../support/nginx.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../support/browser.ts";

const PASSWORDS = new Map([
  ["alice", "Alice-sandbox-pw-0123"],
  ["bob", "Bob-sandbox-pw-456789"],
  ["carol", "Carol-sandbox-pw-9876"],
]);

let root: string;
let port: number;
let nginx: TestNginx;
let browser: Browser;
let docker: StandInDocker;
let records: MemoryParkRecords;
let audit: MemoryAudit;
let closeConsole: () => Promise<void>;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "thon-wake-browser-"));
  chmodSync(root, 0o755); // nginx's workers (www-data) walk through it to the sockets
  port = await freePort();
  const event = makeEvent(
    { alpha: ["alice", "bob", "carol"] },
    `proxy:\n  httpsPort: ${port}\n  httpPort: 0\n  listenAddress: 127.0.0.1\n  configDir: ${root}/etc/thon\n  includeDir: ${root}/etc/conf.d\n  socketDir: ${root}/sockets\n  accessLog: ${root}/access.log\ntls:\n  mode: selfsigned\nidle:\n  enabled: true\n`,
  );
  const plan = planEvent(event);
  const layout = nginxLayout(event);
  for (const d of [layout.participantsDir, layout.upstreamsDir, layout.tlsDir, `${root}/etc/conf.d`, `${root}/sockets`]) mkdirSync(d, { recursive: true, mode: 0o755 });
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", layout.keyFile, "-out", layout.certFile], { stdio: "ignore" });
  chmodSync(layout.keyFile, 0o644);
  writeFileSync(join(root, "etc/conf.d", "thon.conf"), renderServer(event));
  const participants: IdleParticipant[] = plan.participants.map((p) => {
    mkdirSync(join(root, "sockets", p.name), { recursive: true, mode: 0o755 });
    writeFileSync(join(layout.participantsDir, `${p.name}.conf`), renderParticipant(event, p));
    writeFileSync(join(layout.upstreamsDir, `${p.name}.conf`), renderUpstream(event, p));
    return { ...p, state: p.name === "carol" ? "stopped" : "running" };
  });
  // Stand-in for the console's nginx location (the integrate helper's): /_thon/ to its unix socket, path unchanged.
  const consoleSocket = join(root, "console.sock");
  writeFileSync(join(layout.participantsDir, "_thon.conf"), consoleLocation(consoleSocket));

  // Every sandbox parked: stopped, with THON's record; the stand-in starts in 1.5 s.
  docker = new StandInDocker(1500);
  records = new MemoryParkRecords();
  audit = new MemoryAudit();
  for (const p of participants) {
    await docker.add(p.containerName, p.name, p.socketHostPath, false);
    records.set({ user: p.name, at: new Date(), reason: "idle", containerId: (await docker.inspect(p.containerName))!.id });
  }
  const { idleSchema } = await import("../../infra/config/schema.ts");
  const policy = idleSchema.parse({ enabled: true, wakeTimeout: "20s" });
  const app = idleTestApp({ audit, docker, records, participants: () => participants, policy: () => policy, passwords: PASSWORDS });
  closeConsole = await serveOnSocket(app, consoleSocket);

  nginx = await startNginx(join(root, "nginx"), { includeGlob: `${root}/etc/conf.d/*.conf`, user: "www-data www-data" }, port);
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await nginx?.stop();
  await closeConsole?.();
  await docker?.closeAll();
  rmSync(root, { recursive: true, force: true });
});

async function open(path: string): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const res = await page.goto(`https://127.0.0.1:${port}${path}`);
  expect(res!.status()).toBe(502);
  await expect.poll(() => page.locator("#thon-wake-user").isHidden()).toBe(true); // the script knows the participant from the path
  return page;
}

describe("waking a parked sandbox from the browser", () => {
  it("nginx serves the 'not answering' page with the wake form; the right password ends in the workbench", async () => {
    const page = await open("/alice/");
    await expect.poll(() => page.title()).toBe("Your sandbox is not answering");
    await page.fill("input[name=password]", PASSWORDS.get("alice")!);
    await page.click("button[type=submit]");
    await page.waitForSelector("#workbench", { timeout: 30_000 });
    expect(await page.textContent("#workbench")).toBe("Workbench of alice (stand-in)");
    expect(page.url()).toBe(`https://127.0.0.1:${port}/alice/`);
    expect(records.get("alice")).toBeUndefined();
    expect(JSON.stringify(audit.entries)).not.toContain(PASSWORDS.get("alice"));
    await page.context().close();
  }, 60_000);

  it("refuses another participant's password and wrong ones on bob's page, then rate-limits even the right one", async () => {
    const page = await open("/bob/");
    await page.fill("input[name=password]", PASSWORDS.get("alice")!); // another participant's password
    await page.click("button[type=submit]");
    await expect.poll(() => page.textContent("#thon-wake-status")).toBe("wrong participant name or sandbox password");
    for (let i = 0; i < 4; i++) {
      await page.fill("input[name=password]", `guess-${i}`);
      await page.click("button[type=submit]");
      await expect.poll(() => page.textContent("#thon-wake-status")).toBe("wrong participant name or sandbox password");
      await page.evaluate(() => (document.getElementById("thon-wake-status")!.textContent = ""));
    }
    // Five failures for bob: now even his own password waits.
    await page.fill("input[name=password]", PASSWORDS.get("bob")!);
    await page.click("button[type=submit]");
    await expect.poll(() => page.textContent("#thon-wake-status")).toMatch(/^too many wrong passwords; try again in \d+ s$/);
    expect((await docker.inspect("thon-bob"))!.running).toBe(false);
    await page.context().close();
  }, 60_000);

  it("an organizer-stopped participant is told so and stays stopped", async () => {
    const page = await open("/carol/");
    await page.fill("input[name=password]", PASSWORDS.get("carol")!);
    await page.click("button[type=submit]");
    await expect.poll(() => page.textContent("#thon-wake-status")).toMatch(/stopped by the organizer/);
    expect((await docker.inspect("thon-carol"))!.running).toBe(false);
    await page.context().close();
  }, 60_000);
});
