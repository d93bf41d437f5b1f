// `thon doctor` against a real nginx and an engine, and against a host where
// each check fails: an engine socket nobody serves, a port a loopback
// listener holds, a group that does not exist, a broken nginx configuration.
// The engine is the Engine API stand-in (test/support/dockerEngineStandIn.ts)
// holding the images the checks ask for, so the result does not depend on a
// dockerd or on images present on the machine running the tests. Lemonade
// and APISIX are their stand-ins too.
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type Io } from "../../infra/cli/main.ts";
import { loadEvent } from "../../infra/config/load.ts";
import { runDoctor, type Check } from "../../infra/doctor/doctor.ts";
import { checkMemory } from "../../infra/doctor/host.ts";
import { checkImage, checkEngine, baseImages } from "../../infra/doctor/docker.ts";
import { checkApisix, checkLemonade } from "../../infra/doctor/llm.ts";
import { freePort, startNginx, writeMainConf, type TestNginx } from "../support/nginx.ts";
import { startLemonadeStandIn } from "../support/lemonadeStandIn.ts";
import { startApisixStandIn } from "../support/apisixStandIn.ts";
import { startEngineStandIn, type EngineStandIn } from "../support/dockerEngineStandIn.ts";

const ROOT = join(import.meta.dirname, "../..");
const IMAGE = "thon-sandbox:offline"; // as infra/image/build-offline.sh tags it; present in the engine stand-in
const byName = (checks: readonly Check[], name: string) => checks.find((c) => c.name === name);

let nginx: TestNginx;
let nginxPort: number;
let dir: string;
/** The host's engine: holds the sandbox image and the base image a Dockerfile below starts from. */
let engine: EngineStandIn;
/** A stand-in for the Pulumi CLI (prints its version) and a plugin folder, as `thon prepare` leaves them. */
let pulumiEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "thon-doctor-"));
  engine = await startEngineStandIn({ images: { [IMAGE]: 731 * 2 ** 20, "thon-base:bookworm": 412 * 2 ** 20 } });
  nginxPort = await freePort();
  mkdirSync(join(dir, "nginx", "conf.d"), { recursive: true });
  nginx = await startNginx(join(dir, "nginx"), { includeGlob: join(dir, "nginx", "conf.d", "*.conf"), http: `    server { listen 127.0.0.1:${nginxPort}; return 204; }` }, nginxPort);
  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "pulumi"), "#!/bin/sh\necho v3.248.0\n");
  chmodSync(join(bin, "pulumi"), 0o755);
  const home = join(dir, "pulumi-home");
  for (const p of ["docker-v5.2.0", "command-v1.2.1", "random-v4.21.2", "tls-v5.6.1"]) mkdirSync(join(home, "plugins", `resource-${p}`), { recursive: true });
  pulumiEnv = { PATH: `${bin}:/usr/bin:/bin`, PULUMI_HOME: home };
}, 60_000);

afterAll(async () => {
  await nginx?.stop();
  await engine?.close();
});

function eventFile(extra: { proxy?: string; sandbox?: string; top?: string; target?: string } = {}): string {
  const file = join(mkdtempSync(join(dir, "event-")), "thon.yaml");
  writeFileSync(
    file,
    `event: { name: doc, host: 127.0.0.1 }
sandbox:
  image: ${IMAGE}
${extra.sandbox ?? ""}
proxy:
  listenAddress: 127.0.0.1
  nginx: ${nginx.command}
${extra.proxy ?? `  httpsPort: ${nginxPort}\n  httpPort: 0\n  socketGroup: root\n`}
${extra.target ?? `target: { kind: local, dockerHost: "${engine.dockerHost}" }`}
${extra.top ?? ""}
groups: { a: { users: [alice, bob] } }
`,
  );
  return file;
}

async function doctor(file: string, env: NodeJS.ProcessEnv, json = false) {
  let out = "";
  let err = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), cwd: ROOT, env };
  const code = await main(["doctor", "--file", file, ...(json ? ["--json"] : [])], io);
  return { code, out, err };
}

describe("thon doctor on a ready host (real nginx, the engine stand-in)", () => {
  it("passes every check and exits 0", async () => {
    const r = await doctor(eventFile(), pulumiEnv, true);
    const checks = JSON.parse(r.out) as Check[];
    expect(checks.map((c) => c.name)).toEqual([
      "Docker Engine", "Docker storage driver", "Free disk", "Sandbox image", "nginx", "nginx -t", `Port ${nginxPort}`, "Socket group", "Pulumi CLI", "Provider plugins", "Memory",
    ]);
    expect(checks.filter((c) => c.status === "fail")).toEqual([]);
    expect(r.code).toBe(0);
    expect(byName(checks, "Docker Engine")!.detail).toBe(`Docker 20.10.24 (API 1.41) at ${engine.dockerHost}`);
    expect(byName(checks, "Sandbox image")).toMatchObject({ status: "ok", detail: `${IMAGE} is present (731 MiB)` });
    expect(byName(checks, "nginx")!.detail).toMatch(/^nginx \d+\.\d+\.\d+$/);
    expect(byName(checks, "nginx -t")!.status).toBe("ok");
    expect(byName(checks, `Port ${nginxPort}`)).toMatchObject({ status: "ok", detail: expect.stringContaining("nginx listens on it") });
    expect(byName(checks, "Socket group")).toMatchObject({ status: "ok", detail: expect.stringContaining("root (gid 0) exists") });
    expect(byName(checks, "Pulumi CLI")).toMatchObject({ status: "ok", detail: expect.stringContaining("v3.248.0") });
    expect(byName(checks, "Provider plugins")).toMatchObject({ status: "ok", detail: expect.stringContaining("docker 5.2.0, command 1.2.1, random 4.21.2, tls 5.6.1") });
  }, 60_000);

  it("prints one line per check, with the fix, and a summary", async () => {
    const r = await doctor(eventFile(), pulumiEnv);
    const lines = r.out.trim().split("\n");
    expect(lines).toHaveLength(12);
    expect(lines.slice(0, -1).every((l) => /^(ok  |warn|fail)  \S/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^ready: 0 fail, \d+ warn, \d+ ok$/);
  }, 60_000);

  it("an image built from a Dockerfile whose base images are present needs no network", async () => {
    const context = mkdtempSync(join(dir, "ctx-"));
    writeFileSync(join(context, "Dockerfile"), "FROM thon-base:bookworm AS base\nFROM base\nRUN true\n");
    const event = loadEvent(eventFile({ sandbox: `  build: { context: ${context} }\n` }));
    const withBuild = { ...event, sandbox: { ...event.sandbox, image: "thon-doctor-never-built:1" } };
    const { engine } = await checkEngine({ event: withBuild, projectDir: ROOT, env: {} });
    expect(await checkImage({ event: withBuild, projectDir: ROOT, env: {} }, engine!)).toMatchObject({ status: "ok", detail: expect.stringContaining("its base images are present") });
    writeFileSync(join(context, "Dockerfile"), "FROM thon-doctor-missing-base:1\n");
    expect(await checkImage({ event: withBuild, projectDir: ROOT, env: {} }, engine!)).toMatchObject({ status: "fail", detail: expect.stringContaining("thon-doctor-missing-base:1 is not on this host") });
    expect(baseImages("FROM --platform=linux/amd64 a:1 AS one\nFROM one\nFROM scratch\n")).toEqual(["a:1", "scratch"]);
  }, 60_000);
});

describe("thon doctor on a host where each check fails", () => {
  let listener: Server;
  let heldPort: number;
  beforeAll(async () => {
    heldPort = await freePort();
    listener = createServer().listen(heldPort, "127.0.0.1");
    await new Promise((r) => listener.once("listening", r));
  });
  afterAll(() => new Promise<void>((r) => listener.close(() => r())));

  it("names every failure with its fix, exits 1", async () => {
    const brokenPrefix = mkdtempSync(join(dir, "broken-nginx-"));
    const broken = writeMainConf(brokenPrefix, { includeGlob: join(brokenPrefix, "none-*.conf") });
    appendFileSync(broken.conf, "this is not nginx;\n");
    const sockets = mkdtempSync(join(dir, "nobody-"));
    const file = eventFile({
      proxy: `  httpsPort: ${heldPort}\n  httpPort: 0\n  socketGroup: thon-no-such-group\n`,
      target: `target: { kind: local, dockerHost: "unix://${sockets}/docker.sock" }`,
    });
    // The broken nginx configuration instead of the test nginx's.
    const text = readFileSync(file, "utf8").replace(nginx.command, broken.command);
    writeFileSync(file, text);
    const r = await doctor(file, { PATH: "/usr/bin:/bin", PULUMI_HOME: join(dir, "empty-home") }, true);
    expect(r.code).toBe(1);
    const checks = JSON.parse(r.out) as Check[];
    expect(byName(checks, "Docker Engine")).toMatchObject({ status: "fail", detail: expect.stringContaining(`no engine answers at unix://${sockets}/docker.sock`), fix: expect.stringContaining("start Docker") });
    expect(byName(checks, "Sandbox image")).toBeUndefined(); // not asked of an engine that does not answer
    expect(byName(checks, "nginx -t")).toMatchObject({ status: "fail", detail: expect.stringContaining('unknown directive "this"') });
    expect(byName(checks, `Port ${heldPort}`)).toMatchObject({ status: "fail", detail: expect.stringMatching(/in use on 127\.0\.0\.1 by (node|another process)/), fix: expect.stringContaining("proxy.httpsPort") });
    expect(byName(checks, "Socket group")).toMatchObject({ status: "fail", detail: expect.stringContaining('there is no group "thon-no-such-group"'), fix: expect.stringContaining("groupadd thon-no-such-group") });
    expect(byName(checks, "Pulumi CLI")).toMatchObject({ status: "fail", fix: expect.stringContaining("npx thon prepare") });
    expect(byName(checks, "Provider plugins")).toMatchObject({ status: "warn", detail: expect.stringContaining("docker 5.2.0") });
  }, 60_000);

  it("nginx missing, the image missing", async () => {
    const file = eventFile({ top: "" });
    writeFileSync(file, readFileSync(file, "utf8").replace(nginx.command, "/nonexistent/nginx").replace(IMAGE, "thon-doctor-no-such-image:1"));
    const checks = await runDoctor(loadEvent(file), { projectDir: ROOT, env: pulumiEnv });
    expect(byName(checks, "nginx")).toMatchObject({ status: "fail", fix: expect.stringContaining("install nginx") });
    expect(byName(checks, "Sandbox image")).toMatchObject({ status: "fail", detail: expect.stringContaining("thon-doctor-no-such-image:1 is not on this host"), fix: expect.stringContaining("npx thon prepare") });
  }, 60_000);

  it("memory: fails below the measured idle figure, warns below the open-editor figure", () => {
    const event = loadEvent(eventFile());
    const ctx = { event, projectDir: ROOT, env: {} };
    expect(checkMemory(ctx, 2048 + 2 * 240)).toMatchObject({ status: "ok" });
    expect(checkMemory(ctx, 2048 + 200)).toMatchObject({ status: "warn" });
    expect(checkMemory(ctx, 2048)).toMatchObject({ status: "fail", detail: expect.stringContaining("2 running sandboxes want 2528 MiB with every editor open") });
  });
});

describe("thon doctor with the LLM on (Lemonade and APISIX stand-ins)", () => {
  const llmEvent = (lemonadeUrl: string, adminUrl: string, lemonadeVersion = "11.7", apisixVersion = "3.15") =>
    loadEvent(eventFile({ top: `lemonade: { enabled: true, apiUrl: "${lemonadeUrl}", version: "${lemonadeVersion}" }\ngateway: { enabled: true, adminUrl: "${adminUrl}", apisixVersion: "${apisixVersion}" }\n` }));

  it("Lemonade: its version against lemonade.version; a key it wants; nothing there", async () => {
    const lemonade = await startLemonadeStandIn();
    const dead = `http://127.0.0.1:${await freePort()}`;
    try {
      expect(await checkLemonade({ event: llmEvent(lemonade.url, dead), projectDir: ROOT, env: {} })).toMatchObject({ status: "ok", detail: `Lemonade 11.7.0 at ${lemonade.url}` });
      expect(await checkLemonade({ event: llmEvent(lemonade.url, dead, "10.1"), projectDir: ROOT, env: {} })).toMatchObject({ status: "warn", fix: 'set lemonade.version: "11.7"' });
      lemonade.apiKey = "k";
      expect(await checkLemonade({ event: llmEvent(lemonade.url, dead), projectDir: ROOT, env: {} })).toMatchObject({ status: "warn", detail: expect.stringContaining("behind its API key (HTTP 401)") });
      expect(await checkLemonade({ event: llmEvent(lemonade.url, dead), projectDir: ROOT, env: { LEMONADE_API_KEY: "k" } })).toMatchObject({ status: "ok" });
      expect(await checkLemonade({ event: llmEvent(dead, dead), projectDir: ROOT, env: {} })).toMatchObject({ status: "fail", detail: expect.stringContaining(`nothing answers at ${dead}`) });
    } finally {
      await lemonade.close();
    }
  }, 30_000);

  it("APISIX: the Admin API answers with the key; without it, or nothing there", async () => {
    const apisix = await startApisixStandIn({ version: "3.15", adminKey: "admin" });
    const dead = `http://127.0.0.1:${await freePort()}`;
    try {
      const ctx = (env: NodeJS.ProcessEnv) => ({ event: llmEvent(dead, apisix.adminUrl), projectDir: ROOT, env });
      // The stand-in does not send APISIX's Server header, so the version cannot be confirmed: a warn that says so.
      expect(await checkApisix(ctx({ APISIX_ADMIN_KEY: "admin" }))).toMatchObject({ status: "warn", detail: expect.stringContaining("does not say its version; thon.yaml says 3.15") });
      expect(await checkApisix(ctx({}))).toMatchObject({ status: "warn", detail: expect.stringContaining("refuses the admin key (none given)") });
      expect(await checkApisix({ event: llmEvent(dead, dead), projectDir: ROOT, env: {} })).toMatchObject({ status: "fail", detail: expect.stringContaining(`nothing answers at ${dead}`) });
    } finally {
      await apisix.close();
    }
  }, 30_000);

  it("runDoctor runs the LLM checks only when the LLM is on", async () => {
    const off = await runDoctor(loadEvent(eventFile()), { projectDir: ROOT, env: pulumiEnv });
    expect(off.map((c) => c.name)).not.toContain("Lemonade");
    const dead = `http://127.0.0.1:${await freePort()}`;
    const on = await runDoctor(llmEvent(dead, dead), { projectDir: ROOT, env: pulumiEnv });
    expect(on.slice(-2).map((c) => `${c.name}:${c.status}`)).toEqual(["Lemonade:fail", "APISIX Admin API:fail"]);
  }, 60_000);
});
