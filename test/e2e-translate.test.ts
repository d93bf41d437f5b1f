// The e2e suite's translation from recorded resources to Docker Engine API
// requests (test/e2e/support/engine.ts), checked without an engine: every
// input the program declares has a rule, an unknown one fails, the values
// are converted the way the Docker provider converts them.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeEvent } from "./support/events.ts";
import { find, runEvent, T } from "./support/program.ts";
import {
  isStateOnly,
  parseCpus,
  TYPES,
  translateCommand,
  translateContainer,
  translateImage,
  translateProvider,
  translateVolume,
  UntranslatedInputError,
  type TranslateContext,
} from "./e2e/support/engine.ts";
import { tarOneFile } from "./e2e/support/tar.ts";
import type { RecordedResource } from "../infra/preview/evaluate.ts";

const ctx: TranslateContext = { image: (v) => `resolved:${v}`, extraLabels: { "org.thon.e2e-run": "abc123" }, now: 1_700_000_000 };

const EXTRA = `sandbox:
  cpus: 1.5
  memory: 3GiB
  extensions: [ms-python.python]
  env: { TZ: Europe/Berlin }
`;

async function aliceContainer(extra = EXTRA): Promise<RecordedResource> {
  return find(await runEvent(makeEvent({ alpha: ["alice"] }, extra)), T.container, "thon-alice");
}

function withInputs(r: RecordedResource, inputs: Record<string, unknown>): RecordedResource {
  return { ...r, inputs: { ...r.inputs, ...inputs } };
}

describe("e2e translation: docker.Container to POST /containers/create", () => {
  it("maps every input the program sets, converting units as the provider does", async () => {
    const r = await aliceContainer();
    const req = translateContainer(r, ctx);
    const i = r.inputs as Record<string, unknown>;
    expect(req.name).toBe("thon-alice");
    expect(req.body).toMatchObject({
      Image: `resolved:${String(i.image)}`,
      Cmd: i.command,
      User: "1000:1000",
      Env: i.envs,
      StopTimeout: 30,
      Labels: { "org.thon.user": "alice", "org.thon.event": "test", "org.thon.managed-by": "pulumi", "org.thon.e2e-run": "abc123" },
    });
    expect(req.body.HostConfig).toEqual({
      Init: true,
      Memory: 3072 * 1024 * 1024,
      MemorySwap: 3072 * 1024 * 1024,
      NanoCpus: 1_500_000_000,
      RestartPolicy: { Name: "unless-stopped" },
      NetworkMode: "thon-net-test", // the event network
      ExtraHosts: ["host.docker.internal:host-gateway"],
      SecurityOpt: ["no-new-privileges:true"],
      CapDrop: ["ALL"],
      LogConfig: { Type: "json-file", Config: { "max-file": "3", "max-size": "10m" } },
      Ulimits: [{ Name: "nofile", Soft: 16384, Hard: 16384 }],
      Mounts: [
        { Type: "volume", Source: "thon-workspace-alice", Target: "/workspace" },
        { Type: "volume", Source: "thon-home-alice", Target: "/home/coder" },
        { Type: "bind", Source: "/var/lib/thon/sockets/alice", Target: "/run/thon" },
      ],
    });
    expect(req.body.Env).toEqual(expect.arrayContaining(["THON_EXTENSIONS=ms-python.python", "TZ=Europe/Berlin", "THON_USER=alice"]));
    expect(req).toMatchObject({ start: true, mustRun: false });
    expect(req.uploads.map((u) => u.file)).toEqual(["/etc/thon/vscode-settings.json"]);
  });

  it("declares a stopped participant's container as created, not started", async () => {
    const e = await runEvent(makeEvent({ alpha: ["dave"] }, "sandbox:\n  state: stopped\n"));
    const req = translateContainer(find(e, T.container, "thon-dave"), ctx);
    expect(req).toMatchObject({ start: false, mustRun: false });
  });

  it("writes each upload as a one-file tar with the declared mode and numeric owner (read back with GNU tar)", async () => {
    const r = await aliceContainer();
    const [upload] = translateContainer(r, ctx).uploads;
    const dir = mkdtempSync(join(tmpdir(), "thon-tar-"));
    writeFileSync(join(dir, "u.tar"), await tarOneFile(upload!.entry));
    const listing = execFileSync("tar", ["-tv", "--numeric-owner", "-f", join(dir, "u.tar")], { encoding: "utf8" });
    expect(listing).toMatch(/^-rw------- 1000\/1000 +\d+ .* etc\/thon\/vscode-settings\.json$/m);
    const content = execFileSync("tar", ["-xO", "-f", join(dir, "u.tar")], { encoding: "utf8" });
    expect(content).toBe((r.inputs.uploads as { content: string }[])[0]!.content);
  });

  it("fails loudly on an input it has no rule for, top-level or nested", async () => {
    const r = await aliceContainer();
    expect(() => translateContainer(withInputs(r, { ports: [{ internal: 8080 }] }), ctx)).toThrow(UntranslatedInputError);
    expect(() => translateContainer(withInputs(r, { ports: [{ internal: 8080 }] }), ctx)).toThrow(/docker:index\/container:Container thon-alice: input "ports" has no translation/);
    const mounts = [...(r.inputs.mounts as object[]), { type: "bind", source: "/x", target: "/y", bindOptions: { propagation: "rshared" } }];
    expect(() => translateContainer(withInputs(r, { mounts }), ctx)).toThrow(/mounts\[3\]: input "bindOptions"/);
    expect(() => translateContainer(withInputs(r, { capabilities: { drops: ["ALL"], extra: 1 } }), ctx)).toThrow(/input "extra"/);
    expect(() => translateContainer(withInputs(r, { wait: true }), ctx)).toThrow(/wait: true/);
  });

  it("refuses owner names in uploads (they would resolve on the provider's machine)", async () => {
    const r = await aliceContainer();
    const uploads = [{ ...(r.inputs.uploads as object[])[0], owner: "coder" }];
    expect(() => translateContainer(withInputs(r, { uploads }), ctx)).toThrow(/owner: "coder" is a name/);
  });
});

describe("e2e translation: volumes, images, providers, commands", () => {
  it("creates the workspace volume with its labels plus the run label", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }));
    const volume = find(e, T.volume, "thon-workspace-alice");
    const declared = Object.fromEntries((volume.inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));
    expect(declared).toMatchObject({ "org.thon.user": "alice", "org.thon.purpose": "workspace" });
    expect(translateVolume(volume, ctx.extraLabels)).toEqual({
      Name: "thon-workspace-alice",
      Driver: "local",
      Labels: { ...declared, "org.thon.e2e-run": "abc123" },
    });
  });

  it("reads the image name, the provider's socket and the commands' scripts, and refuses what it cannot apply", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }));
    const image = find(e, T.image, "thon-sandbox-image");
    expect(translateImage(image)).toEqual({ name: "thon-sandbox:4.100.3", keepLocally: true });
    expect(() => translateImage(withInputs(image, { build: { context: "." } }))).toThrow(/input "build"/);
    const provider = e.resources.find((r) => r.type === "pulumi:providers:docker")!;
    expect(translateProvider(provider)).toEqual({ socketPath: "/var/run/docker.sock" });
    expect(() => translateProvider(withInputs(provider, { host: "ssh://root@203.0.113.10" }))).toThrow(/unix:\/\/ sockets only/);
    const dir = find(e, T.command, "thon-sockets-alice");
    expect(translateCommand(dir)).toMatchObject({
      interpreter: ["/bin/sh", "-c"],
      create: "set -eu\ninstall -d -m 2770 -o '1000' -g 'www-data' -- '/var/lib/thon/sockets/alice'\n",
      environment: { DOCKER_HOST: "unix:///var/run/docker.sock" },
    });
    expect(() => translateCommand(withInputs(dir, { dir: "/tmp" }))).toThrow(/input "dir"/);
  });
});

describe("e2e translation: coverage", () => {
  it("has a rule for every resource type the program declares for an event like the e2e one (sandboxes, TLS, proxy)", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"], beta: ["bob"] }, "sandbox:\n  state: stopped\n  extensions: [a.b]\n"));
    const applied = new Set<string>([TYPES.provider, TYPES.container, TYPES.volume, TYPES.image, TYPES.command, TYPES.network]);
    const types = new Set(e.resources.filter((r) => r.custom).map((r) => r.type));
    expect([...types].filter((t) => !applied.has(t) && !isStateOnly(t))).toEqual([]);
    // Not vacuous: the certificates and the proxy's commands are among them.
    expect(types).toContain("tls:index/locallySignedCert:LocallySignedCert");
    expect(e.resources.some((r) => r.type === TYPES.command && r.name === "thon-proxy-reload")).toBe(true);
    expect(isStateOnly("docker:index/network:Network")).toBe(false);
  });
});

describe("e2e translation: cpus like docker's ParseCPUs", () => {
  it.each([
    ["1", 1_000_000_000],
    ["0.5", 500_000_000],
    ["2.25", 2_250_000_000],
    ["0.000000001", 1],
  ])("%s CPUs are %d NanoCPUs", (text, nanos) => {
    expect(parseCpus(text)).toBe(nanos);
  });

  it.each(["1.0000000001", "-1", "one", ""])("refuses %j", (text) => {
    expect(() => parseCpus(text)).toThrow(/not a number of CPUs/);
  });
});

describe("e2e translation: the upload archive", () => {
  it("keeps a long path whole, readable by GNU tar", async () => {
    const name = `${"d".repeat(90)}/${"e".repeat(60)}/file.txt`;
    const dir = mkdtempSync(join(tmpdir(), "thon-tar-"));
    writeFileSync(join(dir, "l.tar"), await tarOneFile({ name, content: Buffer.from("x"), mode: 0o644, uid: 0, gid: 0, mtime: 0 }));
    expect(execFileSync("tar", ["-t", "-f", join(dir, "l.tar")], { encoding: "utf8" }).trim()).toBe(name);
    await expect(tarOneFile({ name: "/abs", content: Buffer.alloc(0), mode: 0o644, uid: 0, gid: 0, mtime: 0 })).rejects.toThrow(/relative/);
  });
});
