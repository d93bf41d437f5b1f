// `thon prepare` and `thon up` (npm run up): the decision logic around the
// Pulumi CLI. No network here: the official installer (PulumiCommand.install)
// runs with `fetch` failing as it does offline, so nothing leaves the machine.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ensurePulumi, installPulumi, prepare, up } from "../../infra/cli/prepare.ts";
import { freePort } from "../support/nginx.ts";
import { startEngineStandIn, type EngineStandIn } from "../support/dockerEngineStandIn.ts";

const ROOT = join(import.meta.dirname, "../..");

/** The host's engine: a stand-in holding the sandbox image, so doctor's verdict does not depend on this machine's dockerd. */
let engine: EngineStandIn;
beforeAll(async () => {
  engine = await startEngineStandIn({ images: { "thon-sandbox:offline": 731 * 2 ** 20 } });
});
afterAll(async () => {
  await engine?.close();
});

/** A project folder with THON's package.json pins, and a small event. */
function project(image = "thon-sandbox:offline", ports?: { https: number }): string {
  const dir = mkdtempSync(join(tmpdir(), "thon-prepare-"));
  writeFileSync(join(dir, "package.json"), readFileSync(join(ROOT, "package.json")));
  writeFileSync(join(dir, "Pulumi.yaml"), "name: thon\nruntime: nodejs\n");
  writeFileSync(
    join(dir, "thon.yaml"),
    `event: { name: prep, host: 127.0.0.1 }\nsandbox: { image: "${image}" }\nproxy: { listenAddress: 127.0.0.1, httpsPort: ${ports?.https ?? 8443}, httpPort: 0, socketGroup: root }\ntarget: { kind: local, dockerHost: "${engine.dockerHost}" }\ngroups: { a: { users: [alice] } }\n`,
  );
  return dir;
}

/** A stand-in for the Pulumi CLI: records each call's arguments, prints a version. */
function fakePulumi(): { bin: string; calls: () => string[] } {
  const bin = mkdtempSync(join(tmpdir(), "thon-fake-pulumi-"));
  writeFileSync(join(bin, "pulumi"), `#!/bin/sh\necho "$*" >> "${bin}/calls"\n[ "$1" = version ] && echo v3.248.0\nexit 0\n`);
  chmodSync(join(bin, "pulumi"), 0o755);
  return { bin, calls: () => (existsSync(join(bin, "calls")) ? readFileSync(join(bin, "calls"), "utf8").trim().split("\n") : []) };
}

function capture() {
  const o = { out: "", err: "" };
  return { o, out: (t: string) => void (o.out += t), err: (t: string) => void (o.err += t) };
}

const offlineFetch = () => vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("fetch failed"));

describe("installing the Pulumi CLI into the project", () => {
  beforeEach(() => void offlineFetch());
  afterEach(() => vi.restoreAllMocks());

  it("the official installer fails offline: the message says so, and nothing is left behind", async () => {
    const dir = project();
    const before = readdirSync(dir).sort();
    const c = capture();
    const r = await ensurePulumi({ projectDir: dir, env: { PATH: "/nonexistent" }, out: c.out, err: c.err });
    expect(r).toEqual({ error: "the Pulumi CLI is not installed, and installing it failed: Failed to download https://get.pulumi.com/install.sh: fetch failed" });
    expect(c.o.err).toContain(`installing 3.248.0 into ${join(dir, ".pulumi-cli")}`);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(vi.mocked(globalThis.fetch)).toHaveBeenCalledWith("https://get.pulumi.com/install.sh", expect.anything());
  });

  it("an installer that stops halfway leaves nothing; one that finishes is moved into .pulumi-cli", async () => {
    const dir = project();
    const halfway = await installPulumi(dir, async (root) => {
      mkdirSync(join(root, "bin"), { recursive: true });
      writeFileSync(join(root, "bin", "pulumi-language-nodejs"), "");
      throw new Error("connection reset");
    });
    expect(halfway).toEqual({ error: "connection reset" });
    expect(readdirSync(dir).filter((f) => f.startsWith(".pulumi-cli"))).toEqual([]);
    const done = await installPulumi(dir, async (root) => {
      mkdirSync(join(root, "bin"), { recursive: true });
      writeFileSync(join(root, "bin", "pulumi"), "#!/bin/sh\n", { mode: 0o755 });
    });
    expect(done).toEqual({ cli: join(dir, ".pulumi-cli", "bin", "pulumi") });
    expect(readdirSync(dir).filter((f) => f.startsWith(".pulumi-cli"))).toEqual([".pulumi-cli"]);
    // Found there from now on, before PATH.
    expect(await ensurePulumi({ projectDir: dir, env: { PATH: "/nonexistent" }, out: () => {}, err: () => {} })).toEqual(done);
  });

  it("THON_OFFLINE=1 skips the download", async () => {
    const r = await ensurePulumi({ projectDir: project(), env: { PATH: "/nonexistent", THON_OFFLINE: "1" }, out: () => {}, err: () => {} });
    expect(r).toMatchObject({ error: expect.stringContaining("THON_OFFLINE=1 rules out the download") });
    expect(vi.mocked(globalThis.fetch)).not.toHaveBeenCalled();
  });
});

describe("thon up (npm run up)", () => {
  beforeEach(() => void offlineFetch());
  afterEach(() => vi.restoreAllMocks());

  it("without the CLI and without the download: says which failed, prints the offline preview", async () => {
    const dir = project();
    const c = capture();
    const code = await up({ projectDir: dir, env: { PATH: "/nonexistent" }, out: c.out, err: c.err, stack: "dev", pulumiArgs: [], eventFile: join(dir, "thon.yaml") });
    expect(code).toBe(0);
    expect(c.o.err).toContain("the Pulumi CLI is not installed, and installing it failed: Failed to download https://get.pulumi.com/install.sh");
    expect(c.o.err).toContain("showing the offline preview of stack 'dev' (thon plan) instead of deploying");
    expect(c.o.out).toMatch(/docker:index\/container:Container +thon-alice/);
    expect(readdirSync(dir).filter((f) => f.startsWith(".pulumi-cli"))).toEqual([]);
  }, 60_000);

  it("with the CLI: the local file backend, the stack, doctor, then pulumi up", async () => {
    const https = await freePort();
    const dir = project("thon-sandbox:offline", { https });
    const pulumi = fakePulumi();
    const home = mkdtempSync(join(tmpdir(), "thon-pulumi-home-"));
    for (const p of ["docker-v5.2.0", "command-v1.2.1", "random-v4.21.2", "tls-v5.6.1"]) mkdirSync(join(home, "plugins", `resource-${p}`), { recursive: true });
    const c = capture();
    const env = { PATH: `${pulumi.bin}:/usr/sbin:/usr/bin:/bin`, PULUMI_HOME: home };
    const code = await up({ projectDir: dir, env, out: c.out, err: c.err, stack: "dev", pulumiArgs: ["--yes"], eventFile: join(dir, "thon.yaml") });
    expect(c.o.out).toMatch(/^ready: 0 fail/m);
    expect(code).toBe(0);
    expect(pulumi.calls()).toEqual([`login file://${dir}`, "stack select --create dev --secrets-provider passphrase", "version", "up --stack dev --yes"]);
  }, 60_000);

  it("a host that is not ready is not deployed to", async () => {
    const dir = project("thon-doctor-no-such-image:1");
    const pulumi = fakePulumi();
    const c = capture();
    const code = await up({ projectDir: dir, env: { PATH: `${pulumi.bin}:/usr/sbin:/usr/bin:/bin` }, out: c.out, err: c.err, stack: "dev", pulumiArgs: [], eventFile: join(dir, "thon.yaml") });
    expect(code).toBe(1);
    expect(c.o.err).toContain("the host is not ready (see the fails above); nothing was deployed");
    expect(pulumi.calls().some((call) => call.startsWith("up"))).toBe(false);
  }, 60_000);
});

describe("thon prepare", () => {
  beforeEach(() => void offlineFetch());
  afterEach(() => vi.restoreAllMocks());

  it("installs the plugins with the CLI, finds the image, runs doctor", async () => {
    const https = await freePort();
    const dir = project("thon-sandbox:offline", { https });
    const pulumi = fakePulumi();
    const c = capture();
    const code = await prepare({ projectDir: dir, env: { PATH: `${pulumi.bin}:/usr/sbin:/usr/bin:/bin` }, out: c.out, err: c.err, stack: "dev", eventFile: join(dir, "thon.yaml") });
    expect(pulumi.calls()[0]).toBe("install");
    expect(c.o.out).toContain("image thon-sandbox:offline is present");
    // The stand-in's `pulumi install` installs nothing, so the plugins are still missing: a warn, not a fail.
    expect(c.o.out).toMatch(/^warn {2}Provider plugins/m);
    expect(code).toBe(0);
    expect(c.o.out).toContain("prepared: the morning needs no internet");
  }, 60_000);

  it("offline and without the CLI: lists what the morning still needs, exit 1, nothing half-installed", async () => {
    const dir = project("thon-sandbox:offline");
    const c = capture();
    const code = await prepare({ projectDir: dir, env: { PATH: "/usr/sbin:/usr/bin:/bin" }, out: c.out, err: c.err, stack: "dev", eventFile: join(dir, "thon.yaml") });
    expect(code).toBe(1);
    expect(c.o.err).toContain("the morning still needs:\n  - the Pulumi CLI is not installed, and installing it failed: Failed to download https://get.pulumi.com/install.sh: fetch failed");
    expect(c.o.err).toContain("  - Pulumi CLI: not installed");
    expect(readdirSync(dir).filter((f) => f.startsWith(".pulumi-cli"))).toEqual([]);
  }, 60_000);
});
