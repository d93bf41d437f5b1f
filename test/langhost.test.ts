// Contract: the program run exactly as `pulumi preview` / `pulumi up` run it
// through Pulumi's Node.js language host (test/support/languageHost.ts: the
// command line, working directory and environment pulumi-language-nodejs
// builds from Pulumi.yaml and Pulumi.dev.yaml), against a stand-in of the
// engine's gRPC ResourceMonitor and Engine services
// (test/support/engineStandIn.ts). No provider runs: in an update the
// providers' computed outputs come from the program's own mocks.
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import structModule from "google-protobuf/google/protobuf/struct_pb.js";
import resourcePbModule from "@pulumi/pulumi/proto/resource_pb.js";
import resourceGrpcModule from "@pulumi/pulumi/proto/resource_grpc_pb.js";
import type * as ResourcePb from "@pulumi/pulumi/proto/resource_pb.js";
import type * as ResourceGrpc from "@pulumi/pulumi/proto/resource_grpc_pb.js";
import { evaluateEventFile } from "../infra/cli/plan.ts";
import { thonMocks } from "../infra/preview/providerOutputs.ts";
import type { Evaluation } from "../infra/preview/evaluate.ts";
import { PROGRAM_NODE_FLAGS } from "../infra/nodeFlags.ts";
import { isSecret, SIG, startEngineStandIn, type CreateFn, type EngineStandIn, type Props } from "./support/engineStandIn.ts";
import { missingConfigKeys, readProject, readStackConfig, runProgram, type RunResult } from "./support/languageHost.ts";
import { featuresYaml } from "./support/features.ts";
import { ROOT } from "./support/llm.ts";

const resourcePb = resourcePbModule as unknown as typeof ResourcePb;
const resourceGrpc = resourceGrpcModule as unknown as typeof ResourceGrpc;
const { Struct } = structModule as unknown as typeof import("google-protobuf/google/protobuf/struct_pb.js");

const STACK_URN = "urn:pulumi:dev::thon::pulumi:pulumi:Stack::thon-dev";
const T = {
  sandbox: "thon:sandbox:Sandbox",
  container: "docker:index/container:Container",
  volume: "docker:index/volume:Volume",
  password: "random:index/randomPassword:RandomPassword",
} as const;
const RUN_MS = 60_000;

/** The providers' part of a create in `pulumi up`: the outputs the program's mocks compute. */
const mockCreate: CreateFn = (type, name, inputs) => {
  const made = thonMocks.newResource({ type, name, inputs, custom: true, id: undefined, provider: undefined }) as { id: string; state: Props };
  return { id: made.id, outputs: made.state };
};

interface Run {
  readonly engine: EngineStandIn;
  readonly result: RunResult;
}

async function run(o: { stack?: string; dryRun: boolean; config: Record<string, string>; secretKeys?: string[]; extraEnv?: Record<string, string> }): Promise<Run> {
  const stack = o.stack ?? "dev";
  const engine = await startEngineStandIn({ project: readProject(ROOT).name, stack, dryRun: o.dryRun, ...(o.dryRun ? {} : { create: mockCreate }) });
  try {
    const result = await runProgram({
      root: ROOT,
      stack,
      dryRun: o.dryRun,
      monitorAddress: engine.monitorAddress,
      engineAddress: engine.engineAddress,
      config: o.config,
      ...(o.secretKeys ? { secretKeys: o.secretKeys } : {}),
      ...(o.extraEnv ? { extraEnv: o.extraEnv } : {}),
      timeoutMs: RUN_MS,
    });
    return { engine, result };
  } finally {
    await engine.close();
  }
}

const errors = (r: Run) => r.engine.logs.filter((l) => l.severity === "error").map((l) => l.message);
const find = (r: Run, type: string, name: string) => {
  const found = r.engine.registrations.find((x) => x.type === type && x.name === name);
  if (!found) throw new Error(`${type} ${name} was not registered`);
  return found;
};

/** Every user of a thon.yaml, read here on its own (not through the program's loader). */
function usersOf(file: string): string[] {
  const doc = parse(readFileSync(file, "utf8")) as { groups: Record<string, { users: (string | { name: string })[] }> };
  return Object.values(doc.groups).flatMap((g) => g.users.map((u) => (typeof u === "string" ? u : u.name)));
}

let dir: string;
let devConfig: Record<string, string>;
let preview: Run;
let up: Run;
let mock: Evaluation;
let heapProbe: { heapMiB: number; execArgv: string[]; cwd: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "thon-langhost-"));
  devConfig = readStackConfig(ROOT, "dev");
  // Observes the program's own process (main thread; tsx's loader runs in a worker): its heap limit and flags.
  const probe = join(dir, "probe.cjs");
  const probeOut = join(dir, "probe.json");
  writeFileSync(
    probe,
    `const { isMainThread } = require("node:worker_threads");
if (isMainThread && process.argv[1] && process.argv[1].includes("cmd/run")) require("node:fs").writeFileSync(${JSON.stringify(probeOut)}, JSON.stringify({ heapMiB: Math.round(require("node:v8").getHeapStatistics().heap_size_limit / 1048576), execArgv: process.execArgv, cwd: process.cwd() }));
`,
  );
  [preview, up, mock] = await Promise.all([
    run({ dryRun: true, config: devConfig, extraEnv: { NODE_OPTIONS: `--require ${probe}` } }),
    run({ dryRun: false, config: devConfig }),
    evaluateEventFile(join(ROOT, devConfig["thon:file"]!), "dev"),
  ]);
  heapProbe = JSON.parse(readFileSync(probeOut, "utf8")) as typeof heapProbe;
}, 3 * RUN_MS);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("contract: the dev stack under Pulumi's Node.js language host", () => {
  it("is started the way pulumi-language-nodejs starts it: Pulumi.yaml's nodeargs, cmd/run, main's folder, PULUMI_CONFIG", () => {
    const project = readProject(ROOT);
    expect(project.runtime.options).toMatchObject({ typescript: false });
    const [node, ...argv] = preview.result.command;
    expect(node).toMatch(/node$/);
    expect(argv.slice(0, 4)).toEqual(["--import", "tsx", ...PROGRAM_NODE_FLAGS]);
    // The same file, however node_modules is reached (a worktree links it).
    expect(realpathSync(argv[4]!)).toBe(realpathSync(join(ROOT, "node_modules/@pulumi/pulumi/cmd/run/index.js")));
    expect(argv.slice(5, 9)).toEqual(["--monitor", expect.stringMatching(/^127\.0\.0\.1:\d+$/), "--engine", expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
    expect(argv.slice(-6)).toEqual(["--pwd", join(ROOT, "infra"), "--dry-run", "--parallel", String(availableParallelism() * 4), "index.ts"]);
    expect(preview.result.cwd).toBe(join(ROOT, "infra"));
    expect(preview.result.env).toEqual({ PULUMI_CONFIG: JSON.stringify({ "thon:config:file": "stacks/dev/thon.yaml" }), PULUMI_CONFIG_SECRET_KEYS: "[]" });
    expect(up.result.command).not.toContain("--dry-run");
  });

  it("runs under node with the heap flags in effect, in infra/ (where the language host runs it)", () => {
    expect(heapProbe.heapMiB).toBeGreaterThanOrEqual(8192);
    for (const flag of PROGRAM_NODE_FLAGS) expect(heapProbe.execArgv).toContain(flag);
    expect(heapProbe.execArgv.slice(0, 2)).toEqual(["--import", "tsx"]);
    expect(heapProbe.cwd).toBe(join(ROOT, "infra"));
  });

  it("previews to completion: exit 0, no error, no invoke, shutdown signalled", () => {
    expect(preview.result).toMatchObject({ exitCode: 0, error: "", bail: false, timedOut: false });
    expect(errors(preview)).toEqual([]);
    expect(preview.engine.logs.filter((l) => l.severity === "warning")).toEqual([]);
    expect(preview.engine.failures).toEqual([]);
    expect(preview.engine.shutdownSignalled()).toBe(true);
    expect(preview.engine.rootUrn()).toBe(STACK_URN);
    // What SDK 3.248 asks a monitor before registering anything (settings.ts awaitFeatureSupport).
    expect(preview.engine.featuresAsked).toEqual(expect.arrayContaining(["secrets", "resourceReferences", "outputValues", "deletedWith", "aliasSpecs"]));
  });

  it("registers the stack, and per participant of stacks/dev/thon.yaml a container, a retained volume and a password", () => {
    const regs = preview.engine.registrations;
    expect(regs[0]).toMatchObject({ type: "pulumi:pulumi:Stack", name: "thon-dev", urn: STACK_URN, parent: "" });
    const users = usersOf(join(ROOT, devConfig["thon:file"]!));
    expect(users).toEqual(["alice", "bob", "carol", "dave"]);
    const docker = regs.find((r) => r.type === "pulumi:providers:docker")!;
    for (const user of users) {
      const sandbox = find(preview, T.sandbox, `thon-${user}`);
      expect(sandbox.parent).toBe(STACK_URN);
      const container = find(preview, T.container, `thon-${user}`);
      expect(container.urn).toBe(`urn:pulumi:dev::thon::${T.sandbox}$${T.container}::thon-${user}`);
      expect(container.parent).toBe(sandbox.urn);
      expect(container.provider).toBe(`${docker.urn}::${SIG.unknown}`);
      expect(container.id).toBe("");
      expect(container.inputs.name).toBe(`thon-${user}`);
      const volume = find(preview, T.volume, `thon-workspace-${user}`);
      expect(volume.retainOnDelete).toBe(true);
      expect(volume.inputs.name).toBe(`thon-workspace-${user}`);
      expect(container.dependencies).toContain(volume.urn);
      const password = find(preview, T.password, `thon-password-${user}`);
      expect(password.additionalSecretOutputs).toContain("result");
      expect(password.provider).toBe("");
    }
    // dave is paused: declared, not started.
    expect(find(preview, T.container, "thon-dave").inputs).toMatchObject({ start: false, mustRun: false });
  });

  it("registers exactly what the mock runs (thon plan, the other tests) record, URN for URN", () => {
    const urns = (list: readonly { urn: string }[]) => list.map((r) => r.urn).sort();
    expect(urns(preview.engine.registrations)).toEqual(urns(mock.resources));
    expect(urns(up.engine.registrations)).toEqual(urns(preview.engine.registrations));
    for (const r of mock.resources) {
      const seen = up.engine.registrations.find((x) => x.urn === r.urn)!;
      expect([seen.urn, seen.retainOnDelete ?? false, [...seen.secretInputs].sort()]).toEqual([r.urn, r.options.retainOnDelete, [...r.secretInputs].sort()]);
    }
  });

  it("preview: event is known and not secret; participants are unknown until random makes the passwords", () => {
    const out = preview.engine.stackOutputs()!;
    expect(isSecret(out.event)).toBe(false);
    expect(out.event).toMatchObject({ name: "dev", url: "https://127.0.0.1/", participantCount: 4 });
    expect(out.participants).toBe(SIG.unknown);
  });

  it("up: participants go to the engine as one secret, event in the clear, passwords nowhere else", () => {
    expect(up.result).toMatchObject({ exitCode: 0, error: "" });
    expect(errors(up)).toEqual([]);
    expect(up.engine.shutdownSignalled()).toBe(true);
    const out = up.engine.stackOutputs()!;
    expect(out.participants).toMatchObject({ [SIG.key]: SIG.secret });
    const participants = (out.participants as { value: Record<string, { password: string; url: string }> }).value;
    expect(Object.keys(participants).sort()).toEqual(["alice", "bob", "carol", "dave"]);
    expect(participants.alice!.url).toBe("https://127.0.0.1/alice/");
    expect(isSecret(out.event)).toBe(false);
    expect(JSON.stringify(out.event)).not.toContain(SIG.secret);
    // The password reaches the container only inside a secret (envs), and no log or output prints it.
    const password = participants.alice!.password;
    expect(password.length).toBeGreaterThanOrEqual(16);
    const container = find(up, T.container, "thon-alice");
    expect(container.secretInputs).toContain("envs");
    const clear = (p: Props) => Object.fromEntries(Object.entries(p).filter(([, v]) => !isSecret(v)));
    const inTheClear = JSON.stringify(up.engine.registrations.map((r) => [clear(r.inputs), clear(r.outputs)]));
    expect(inTheClear).not.toContain(password);
    // Debug lines are left out: the SDK's own `RegisterResource RPC finished … resp: …` echoes whole
    // responses, secrets included (shown only with `pulumi up --debug`; not THON's to change).
    const shown = up.engine.logs.filter((l) => l.severity !== "debug");
    expect(JSON.stringify(shown) + up.result.stdout + up.result.stderr).not.toContain(password);
    expect(find(up, T.password, "thon-password-alice").outputs.result).toMatchObject({ [SIG.key]: SIG.secret });
  });
});

describe("contract: an all-features event and a secret config value under the language host", () => {
  it("serializes the dynamic providers in the real runner, and the APISIX admin key stays a secret end to end", async () => {
    const file = join(dir, "features.yaml");
    writeFileSync(file, featuresYaml({ tls: "ca", gateway: "per-user" }));
    const adminKey = "k-admin-7f3e9c1d2b";
    const r = await run({ stack: "feat", dryRun: true, config: { "thon:file": file, "thon:apisixAdminKey": adminKey }, secretKeys: ["thon:apisixAdminKey"] });
    expect(r.result).toMatchObject({ exitCode: 0, error: "" });
    expect(errors(r)).toEqual([]);
    // A secret read with get() instead of getSecret() would have logged a warning.
    expect(r.engine.logs.filter((l) => l.severity === "warning")).toEqual([]);
    const dynamic = r.engine.registrations.filter((x) => x.type.startsWith("pulumi-nodejs:dynamic/"));
    expect(dynamic.map((x) => x.name).sort()).toEqual([
      "thon-consumer-alice", "thon-consumer-bob", "thon-consumer-carol", "thon-consumer-dave",
      "thon-gateway-chat", "thon-gateway-embeddings", "thon-lemonade-chat", "thon-lemonade-embedding",
    ]);
    for (const x of dynamic) {
      expect(String(x.inputs.__provider), x.name).toContain('require("axios")');
      expect(String(x.inputs.__provider), x.name).not.toContain(adminKey);
    }
    for (const x of dynamic.filter((d) => d.type.includes("apisix"))) expect(x.inputs.adminKey, x.name).toEqual({ [SIG.key]: SIG.secret, value: adminKey });
    const inTheClear = JSON.stringify(r.engine.registrations.map((x) => Object.fromEntries(Object.entries(x.inputs).filter(([, v]) => !isSecret(v)))));
    expect(inTheClear).not.toContain(adminKey);
  }, RUN_MS + 10_000);
});

describe("contract: a bad thon.yaml or missing config stops the program before it declares anything", () => {
  it("a broken thon.yaml: non-zero exit, the engine gets one error naming each field, only the root stack exists", async () => {
    const file = join(dir, "broken.yaml");
    writeFileSync(file, "event:\n  name: broken\n  host: 127.0.0.1\nsandbox:\n  memory: lots\ngroups:\n  alpha:\n    users: [alice, Bob Smith]\n");
    const r = await run({ dryRun: true, config: { "thon:file": file } });
    // 32: the program reported the error itself (cmd/run), so the language host answers Bail.
    expect(r.result).toMatchObject({ exitCode: 32, bail: true, error: "" });
    const [message, ...more] = errors(r);
    expect(more).toEqual([]);
    expect(message).toContain(`${file} is not valid (2 problems)`);
    expect(message).toMatch(new RegExp(`${file}:5:\\d+ sandbox\\.memory: "lots"`));
    expect(message).toMatch(new RegExp(`${file}:8:\\d+ groups\\.alpha\\.users\\[1\\]: "Bob Smith".*Fix: write "bob-smith"`));
    expect(message).not.toMatch(/\n\s+at /); // a RunError: no stack trace
    expect(r.engine.registrations.map((x) => x.type)).toEqual(["pulumi:pulumi:Stack"]);
    expect(r.engine.shutdownSignalled()).toBe(false);
  }, RUN_MS + 10_000);

  it("a missing thon:file: the CLI refuses first (Pulumi.yaml requires it); run anyway, the program names the key", async () => {
    const project = readProject(ROOT);
    expect(missingConfigKeys(project, {})).toEqual(["thon:file"]);
    expect(missingConfigKeys(project, devConfig)).toEqual([]);
    const r = await run({ dryRun: true, config: {} });
    expect(r.result).toMatchObject({ exitCode: 32, bail: true });
    expect(errors(r)).toEqual([expect.stringMatching(/^thon:file is not set for stack dev: .*Fix: pulumi config set thon:file .* --stack dev/)]);
    expect(r.engine.registrations.map((x) => x.type)).toEqual(["pulumi:pulumi:Stack"]);
  }, RUN_MS + 10_000);

  it("a relative thon:file is read from the project's folder, not infra/ where the program runs", async () => {
    const r = await run({ dryRun: true, config: { "thon:file": "stacks/example/thon.yaml" }, stack: "example" });
    expect(r.result).toMatchObject({ exitCode: 0, error: "" });
    expect(r.result.cwd).toBe(join(ROOT, "infra"));
    expect(r.engine.registrations.filter((x) => x.type === T.container).length).toBeGreaterThan(0);
  }, RUN_MS + 10_000);
});

describe("contract: paths in thon.yaml under the language host", () => {
  it("an SSH target's relative privateKeyFile is read next to thon.yaml, and reaches the engine only as a secret", async () => {
    const event = mkdtempSync(join(dir, "ssh-"));
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key-5d1c\n-----END OPENSSH PRIVATE KEY-----\n";
    writeFileSync(join(event, "id_thon"), key);
    writeFileSync(join(event, "thon.yaml"), "event: { name: remote, host: 192.0.2.1 }\ngroups: { alpha: { users: [alice] } }\ntarget:\n  kind: ssh\n  host: 192.0.2.1\n  privateKeyFile: id_thon\n");
    const r = await run({ stack: "remote", dryRun: true, config: { "thon:file": join(event, "thon.yaml") } });
    expect(r.result).toMatchObject({ exitCode: 0, error: "" });
    expect(errors(r)).toEqual([]);
    const remote = r.engine.registrations.filter((x) => x.type === "command:remote:Command");
    expect(remote.length).toBeGreaterThan(0);
    for (const c of remote) expect(c.inputs.connection, c.name).toMatchObject({ [SIG.key]: SIG.secret });
    const provider = r.engine.registrations.find((x) => x.type === "pulumi:providers:docker")!;
    expect(JSON.stringify(provider.inputs)).toContain(join(event, "id_thon"));
    const inTheClear = JSON.stringify(r.engine.registrations.map((x) => Object.fromEntries(Object.entries(x.inputs).filter(([, v]) => !isSecret(v)))));
    expect(inTheClear).not.toContain("not-a-real-key-5d1c");
  }, RUN_MS + 10_000);
});

describe("contract: the image's build context under the language host", () => {
  it("is resolved next to thon.yaml and reaches the Docker provider relative to infra/, where the engine runs it", async () => {
    const event = mkdtempSync(join(dir, "build-"));
    writeFileSync(join(event, "thon.yaml"), `event: { name: built, host: 127.0.0.1 }\ngroups: { alpha: { users: [alice] } }\nsandbox:\n  build: { context: ${relative(event, join(ROOT, "infra/image"))} }\n`);
    const r = await run({ stack: "built", dryRun: true, config: { "thon:file": join(event, "thon.yaml") } });
    expect(r.result).toMatchObject({ exitCode: 0, error: "" });
    const image = r.engine.registrations.find((x) => x.type === "docker:index/remoteImage:RemoteImage")!;
    expect((image.inputs.build as { context: string }).context).toBe("image"); // infra/ + image = infra/image
  }, RUN_MS + 10_000);
});

describe("contract: the stand-in refuses what the engine refuses", () => {
  it("duplicate URNs, unknown parents and providers, invokes; marks additionalSecretOutputs secret", async () => {
    const engine = await startEngineStandIn({ project: "p", stack: "s", dryRun: true });
    const client = new resourceGrpc.ResourceMonitorClient(engine.monitorAddress, grpc.credentials.createInsecure());
    const register = (type: string, name: string, o: { parent?: string; custom?: boolean; provider?: string; aso?: string[] } = {}) =>
      new Promise<ResourcePb.RegisterResourceResponse>((resolve, reject) => {
        const req = new resourcePb.RegisterResourceRequest()
          .setType(type)
          .setName(name)
          .setParent(o.parent ?? "")
          .setCustom(o.custom ?? true)
          .setProvider(o.provider ?? "")
          .setAcceptsecrets(true)
          .setAdditionalsecretoutputsList(o.aso ?? [])
          .setObject(Struct.fromJavaScript({ length: 24 }));
        client.registerResource(req, (err, resp) => (err ? reject(err) : resolve(resp)));
      });
    try {
      const stack = await register("pulumi:pulumi:Stack", "p-s", { custom: false });
      expect(stack.getUrn()).toBe("urn:pulumi:s::p::pulumi:pulumi:Stack::p-s");
      const comp = await register("my:x:Comp", "c", { custom: false, parent: stack.getUrn() });
      const inner = await register("my:x:Inner", "i", { custom: false, parent: comp.getUrn() });
      const pw = await register(T.password, "pw", { parent: inner.getUrn(), aso: ["length"] });
      expect(pw.getUrn()).toBe(`urn:pulumi:s::p::my:x:Comp$my:x:Inner$${T.password}::pw`);
      expect(pw.getId()).toBe("");
      expect(pw.getObject()?.toJavaScript()).toEqual({ length: { [SIG.key]: SIG.secret, value: 24 } });
      const prov = await register("pulumi:providers:docker", "d", { parent: stack.getUrn() });
      expect([prov.getUrn(), prov.getId()]).toEqual(["urn:pulumi:s::p::pulumi:providers:docker::d", SIG.unknown]);
      await expect(register(T.password, "pw", { parent: inner.getUrn() })).rejects.toThrow(/Duplicate resource URN/);
      await expect(register(T.password, "orphan", { parent: "urn:pulumi:s::p::my:x:Comp::nope" })).rejects.toThrow(/could not find parent resource/);
      await expect(register(T.volume, "v", { provider: "urn:pulumi:s::p::pulumi:providers:docker::other::id" })).rejects.toThrow(/unknown provider/);
      await expect(register("notatoken", "n")).rejects.toThrow(/invalid type token/);
      const invoke = new Promise((resolve, reject) =>
        client.invoke(new resourcePb.ResourceInvokeRequest().setTok("docker:index/getNetwork:getNetwork"), (err, resp) => (err ? reject(err) : resolve(resp))),
      );
      await expect(invoke).rejects.toThrow(/invoke docker:index\/getNetwork:getNetwork/);
      expect(engine.failures).toHaveLength(5);
    } finally {
      client.close();
      await engine.close();
    }
  });
});
