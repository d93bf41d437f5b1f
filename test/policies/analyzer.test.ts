// The pack run the way `pulumi preview --policy-pack policies` runs it: a
// child process started through @pulumi/pulumi/cmd/run-policy-pack (which
// compiles the pack with ts-node), answering the engine's gRPC Analyze and
// AnalyzeStack requests, built here from the resources the real program
// registers under mocks. Stand-in for the engine: request shapes follow
// pkg/resource/deploy/step_generator.go (Analyze on inputs, AnalyzeStack on
// outputs with the Stack resource's outputs, options always set).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import analyzerPbModule from "@pulumi/pulumi/proto/analyzer_pb.js";
import structModule from "google-protobuf/google/protobuf/struct_pb.js";
import type * as AnalyzerPb from "@pulumi/pulumi/proto/analyzer_pb.js";
import { evaluateEventFile } from "../../infra/cli/plan.ts";
import { parseThonFile } from "../../infra/config/load.ts";
import { toEvent } from "../../infra/config/event.ts";
import { previewPassword } from "../../infra/preview/providerOutputs.ts";
import { thonPolicies } from "../../policies/pack.ts";
import { find, runEvent, T } from "../support/program.ts";
import { makeEvent } from "../support/events.ts";
import { withProps, WIRE } from "../support/policies.ts";
import { evaluateFeatures } from "../support/features.ts";
import { D } from "../support/llm.ts";
import { SANDBOX_PATHS } from "../../infra/plan.ts";
import {
  analyzeEvaluation,
  diagnosticsOf,
  fromRecorded,
  isRunning,
  stackResources,
  startPolicyPack,
  usePolicyPack,
  type Diagnostic,
} from "../support/policyAnalyzerHost.ts";

const pb = analyzerPbModule as unknown as typeof AnalyzerPb;
const { Struct } = structModule as unknown as typeof import("google-protobuf/google/protobuf/struct_pb.js");
const pack = usePolicyPack();

const BAD_EVENT = `event:
  name: bad
  host: 203.0.113.10
  hostMemory: 1GiB
sandbox:
  auth: none
  network: host
  restart: "no"
  user: "0:0"
groups:
  alpha:
    users: [alice, bob]
`;

const short = (d: Diagnostic) => `${d.enforcementLevel} ${d.policyName} ${d.message.split("\n").slice(1).join(" / ")}`;

describe("policy pack over gRPC: loading", () => {
  it("starts through Pulumi's policy runner and describes itself", async () => {
    const info = await pack.get().getAnalyzerInfo();
    expect(info.name).toBe("thon");
    expect(info.version).toBe("0.1.0");
    expect(info.supportsConfig).toBe(true);
    expect(info.policies.map((p) => p.name)).toEqual(thonPolicies().map((p) => p.name));
    expect(info.policies.find((p) => p.name === "thon-host-memory")).toMatchObject({ enforcementLevel: "advisory" });
    expect(info.policies.find((p) => p.name === "thon-sandbox-no-host-network")?.configSchema).toMatchObject({ allowHostNetwork: { type: "boolean", default: false } });
  });

  it("answers a request without options the way the DESIGN notes say: a newer CLI is required", async () => {
    const req = new pb.AnalyzeRequest()
      .setType(T.container)
      .setName("x")
      .setUrn("urn:pulumi:dev::thon::docker:index/container:Container::x")
      .setProperties(Struct.fromJavaScript({ name: "x" }));
    await expect(pack.get().analyzeRequest(req)).rejects.toThrow(/A more recent version of the Pulumi CLI is required/);
  });
});

describe("policy pack over gRPC: the dev stack", () => {
  it("finds nothing wrong, per resource and for the stack", async () => {
    const e = await evaluateEventFile("stacks/dev/thon.yaml", "dev");
    const { resources, stack } = await analyzeEvaluation(pack.get(), e);
    expect(resources.map(short)).toEqual([]);
    expect(stack.diagnostics.map(short)).toEqual([]);
    // The dev event gives no host memory: the capacity check says why it did not run.
    expect(stack.notApplicable).toContainEqual({ policyName: "thon-host-memory", reason: "the host's memory is not given (event.hostMemory in thon.yaml)" });
  });
});

describe("policy pack over gRPC: a deliberately bad event", () => {
  it("reports every broken rule with the policy's name, level, description and the resource", async () => {
    const e = await runEvent(toEvent(parseThonFile(BAD_EVENT)));
    const { resources, stack } = await analyzeEvaluation(pack.get(), e);
    expect(resources.map(short).sort()).toEqual(
      [
        'mandatory thon-sandbox-no-host-network thon-alice uses the host\'s network (networkMode: host); it could reach every service on the host. Set sandbox.network to bridge or none, or allowHostNetwork in the policy config',
        'mandatory thon-sandbox-no-host-network thon-bob uses the host\'s network (networkMode: host); it could reach every service on the host. Set sandbox.network to bridge or none, or allowHostNetwork in the policy config',
        'mandatory thon-sandbox-restart-policy thon-alice would stay down after a crash or reboot (restart: "no")',
        'mandatory thon-sandbox-restart-policy thon-bob would stay down after a crash or reboot (restart: "no")',
        'mandatory thon-sandbox-non-root thon-alice runs with root\'s user 0 (user: "0:0")',
        'mandatory thon-sandbox-non-root thon-alice runs with root\'s group 0 (user: "0:0")',
        'mandatory thon-sandbox-non-root thon-bob runs with root\'s user 0 (user: "0:0")',
        'mandatory thon-sandbox-non-root thon-bob runs with root\'s group 0 (user: "0:0")',
      ].sort(),
    );
    expect(stack.diagnostics.map(short)).toEqual([
      'mandatory thon-code-server-auth thon-alice: code-server runs with --auth "none" while the event is reachable at 203.0.113.10. Anyone who can reach it gets a shell',
      'mandatory thon-code-server-auth thon-bob: code-server runs with --auth "none" while the event is reachable at 203.0.113.10. Anyone who can reach it gets a shell',
      "advisory thon-host-memory 2 running sandboxes may use 4096 MiB together; the host has 1024 MiB. Over by 3072 MiB",
      "mandatory thon-group-memory thon-alice may use 2048 MiB, more than the host's 1024 MiB",
      "mandatory thon-group-memory thon-bob may use 2048 MiB, more than the host's 1024 MiB",
      "mandatory thon-group-memory group alpha: 2 running sandboxes may use 4096 MiB together, more than the host's 1024 MiB",
    ]);
    // The message starts with the policy's description (how to fix it); stack findings point at the resource.
    const auth = diagnosticsOf(stack, "thon-code-server-auth")[0]!;
    expect(auth.message.split("\n")[0]).toBe(thonPolicies().find((p) => p.name === "thon-code-server-auth")!.description);
    expect(auth.urn).toBe(find(e, T.container, "thon-alice").urn);
    expect(auth.policyPackName).toBe("thon");
  });

  it("catches what thon.yaml cannot express, sent as Analyze requests of changed resources", async () => {
    const e = await runEvent(makeEvent({ alpha: ["alice"] }));
    const container = find(e, T.container, "thon-alice");
    const server = pack.get();
    const check = async (r: ReturnType<typeof withProps>, policy: string, text: RegExp) => {
      const found = diagnosticsOf(await server.analyze(r), policy);
      expect(found.map((d) => d.message).join("\n"), policy).toMatch(text);
      expect(found.every((d) => d.enforcementLevel === "mandatory")).toBe(true);
    };
    await check(withProps(container, { privileged: true }), "thon-container-not-privileged", /thon-alice is privileged/);
    await check(withProps(container, { mounts: [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock" }] }), "thon-container-no-host-mounts", /container engine's socket/);
    await check(withProps(container, { memory: undefined }), "thon-sandbox-resource-limits", /no memory limit/);
    await check(withProps(find(e, T.password, "thon-password-alice"), { length: 8 }), "thon-password-strength", /makes 8-character passwords/);
    await check({ type: "tls:index/privateKey:PrivateKey", name: "k", urn: "urn:pulumi:dev::thon::tls:index/privateKey:PrivateKey::k", properties: { algorithm: "ECDSA" } }, "thon-tls-key-strength", /P224 \(the provider's default\)/);
    // Retention is read from the volume's parent Sandbox (its typed workspace input), so it is checked on the whole stack.
    const unkept = stackResources(e).map((r) =>
      r.type === T.sandbox ? withProps(r, { workspace: { kind: "volume", name: "thon-workspace-alice", retainOnDelete: false } }) : r,
    );
    const found = diagnosticsOf(await server.analyzeStack(unkept), "thon-workspace-retained");
    expect(found.map((d) => [d.enforcementLevel, d.urn, d.message.split("\n")[1]])).toEqual([
      [
        "mandatory",
        find(e, T.volume, "thon-workspace-alice").urn,
        "thon-workspace-alice holds a participant's workspace but is neither protected nor kept by its Sandbox (workspace.retainOnDelete): `pulumi destroy` or removing the participant would delete their work",
      ],
    ]);
  });

  it("treats a value unknown at preview as a violation where it could hide the problem", async () => {
    const e = await runEvent(toEvent(parseThonFile(BAD_EVENT.replace("203.0.113.10", "127.0.0.1"))));
    // As in a first preview: the image ID and the environment (it holds the new password) are unknown.
    const preview = withProps(find(e, T.container, "thon-alice"), { image: WIRE.unknown, envs: WIRE.unknownArray, privileged: WIRE.unknownBoolean });
    const result = await pack.get().analyze(preview);
    expect(diagnosticsOf(result, "thon-container-not-privileged").map((d) => [d.enforcementLevel, d.message.split("\n")[1]])).toEqual([
      ["mandatory", "thon-alice: privileged is unknown at preview; set it to a literal false (or leave it out)"],
    ]);
    // No policy gave up with "can't run during preview": the unknown image and environment are not needed.
    expect(result.diagnostics.filter((d) => /can't run policy/.test(d.message))).toEqual([]);
  });

  it("never puts a participant's password into a diagnostic", async () => {
    const e = await runEvent(toEvent(parseThonFile(BAD_EVENT.replace("auth: none", "auth: password"))));
    const container = find(e, T.container, "thon-alice");
    expect(container.secretInputs).toContain("envs");
    const { resources, stack } = await analyzeEvaluation(pack.get(), e);
    const literal = await pack.get().analyzeStack([{ ...fromRecorded(container), dependencies: [] }]);
    const text = [...resources, ...stack.diagnostics, ...literal.diagnostics].map((d) => d.message).join("\n");
    expect(diagnosticsOf(literal, "thon-sandbox-password-from-random")).toHaveLength(1);
    expect(text).not.toContain(previewPassword("thon-password-alice", 24));
  });
});

describe("policy pack over gRPC: an all-features event (TLS CA, Lemonade, the gateway)", () => {
  it("finds nothing wrong per user or per group, and checks the gateway's and TLS resources", async () => {
    for (const gateway of ["per-user", "per-group"] as const) {
      const e = await evaluateFeatures({ tls: "ca", gateway });
      const { resources, stack } = await analyzeEvaluation(pack.get(), e);
      expect(resources.map(short), gateway).toEqual([]);
      expect(stack.diagnostics.map(short), gateway).toEqual([]);
      // Every policy ran: none said it did not apply (the event gives its host memory).
      expect(stack.notApplicable, gateway).toEqual([]);
    }
  });

  it("reports the program's resources changed the way mistakes would change them, without leaking a key", async () => {
    const e = await evaluateFeatures({ tls: "ca", gateway: "per-user" });
    const server = pack.get();
    const of = (type: string, name: string) => fromRecorded(e.resources.find((r) => r.type === type && r.name === name)!);
    const keyWrite = of(T.command, "thon-proxy-server-key");
    const keyFile = of("thon:host:File", "thon-proxy-server-key");
    const envWrite = of(T.command, "thon-lemonade-env");
    const lemonade = of("thon:lemonade:Lemonade", "thon-lemonade");
    const bob = of(T.container, "thon-bob");
    const consumer = of(D.consumer, "thon-consumer-alice");
    const route = of(D.route, "thon-gateway-chat");
    const changed = new Map([
      [keyFile.urn, withProps(keyFile, { mode: "0644" })],
      // The env file's command declared outside its thon:host:File: the engine sends its parent as the Lemonade.
      [envWrite.urn, { ...envWrite, parent: lemonade.urn }],
      [bob.urn, withProps(bob, { uploads: (bob.properties.uploads as object[]).map((u) => ({ ...u, permissions: "0644" })) })],
      [consumer.urn, withProps(consumer, { plugins: {}, adminUrl: "http://203.0.113.10:9180" })],
      [route.urn, withProps(route, { body: { ...(route.properties.body as object), plugins: { "ai-proxy-multi": {} } } })],
    ]);
    const stackInput = stackResources(e).map((r) => changed.get(r.urn) ?? r);
    const result = await server.analyzeStack(stackInput);
    expect(result.diagnostics.map((d) => [d.policyName, d.urn, d.message.split("\n")[1]])).toEqual([
      ["thon-tls-key-file-mode", keyFile.urn, 'thon-proxy-server-key: "/etc/nginx/thon/tls/server.key" holds a private key and has mode "0644", readable beyond its owner. Fix: mode "0600"'],
      ["thon-secret-file-mode", envWrite.urn, "thon-lemonade-env: gets a key or password on stdin but is not the writer of a thon:host:File, so the pack cannot tell which file gets it or with which mode. Fix: declare the file with HostFile (components/hostFile.ts)"],
      // Both of bob's uploads: the engine says the uploads as a whole hold the key, not which one.
      ["thon-secret-file-mode", bob.urn, `thon-bob uploads "${SANDBOX_PATHS.organizerSettings}" with permissions "0644", and its uploads hold a key or password; use "0600"`],
      ["thon-secret-file-mode", bob.urn, `thon-bob uploads "${SANDBOX_PATHS.kiloConfig}" with permissions "0644", and its uploads hold a key or password; use "0600"`],
      ["thon-gateway-admin-not-public", consumer.urn, "thon-consumer-alice: the Admin API (http://203.0.113.10:9180) is on the event's host 203.0.113.10, where participants connect"],
    ]);
    // Consumers and routes are also checked one by one, as the engine sends them before creating each.
    const perResource = [...(await server.analyze(changed.get(consumer.urn)!)).diagnostics, ...(await server.analyze(changed.get(route.urn)!)).diagnostics];
    expect(perResource.map((d) => [d.policyName, d.enforcementLevel, d.message.split("\n")[1]])).toEqual([
      ["thon-gateway-consumer-key-and-limit", "mandatory", 'consumer thon-consumer-alice has no rate limit (plugins["ai-rate-limiting"]), so one key can use up the LLM for everyone'],
      ["thon-gateway-route-key-auth", "mandatory", "route thon-gateway-chat has no key-auth: anyone who reaches the gateway can use the LLM"],
    ]);
    // The keys were sent as the engine sends them (secrets) and stay out of every message.
    expect(keyWrite.secrets).toContain("stdin");
    const text = [...result.diagnostics, ...perResource].map((d) => d.message).join("\n");
    for (const secret of [String(keyWrite.properties.stdin).split("\n")[1]!, String(consumer.properties.key), String(envWrite.properties.stdin).split("=")[1]!]) {
      expect(secret.length).toBeGreaterThan(20);
      expect(text).not.toContain(secret);
    }
  });

  it("answers a route whose body is unknown at preview with not-applicable, not a violation", async () => {
    const e = await evaluateFeatures({ tls: "selfsigned", gateway: "per-group" });
    const route = fromRecorded(e.resources.find((r) => r.type === D.route && r.name === "thon-gateway-embeddings")!);
    const result = await pack.get().analyze(withProps(route, { body: WIRE.unknown }));
    expect(result.diagnostics).toEqual([]);
    expect(result.notApplicable.filter((n) => n.policyName.startsWith("thon-gateway-"))).toEqual([
      { policyName: "thon-gateway-route-key-auth", reason: "the body of route thon-gateway-embeddings is unknown at preview (it holds Lemonade's new key); it is checked when pulumi up sends the route" },
    ]);
  });
});

describe("policy pack over gRPC: configuration", () => {
  it("lets the organizer allow host networking and change or disable a policy's enforcement", async () => {
    const e = await runEvent(toEvent(parseThonFile(BAD_EVENT.replace("203.0.113.10", "127.0.0.1"))));
    const container = fromRecorded(find(e, T.container, "thon-alice"));
    const server = pack.get();
    try {
      await server.configure({
        "thon-sandbox-no-host-network": { allowHostNetwork: true },
        "thon-sandbox-restart-policy": "advisory",
        "thon-sandbox-non-root": { enforcementLevel: "disabled" },
      });
      const result = await server.analyze(container);
      expect(diagnosticsOf(result, "thon-sandbox-no-host-network")).toEqual([]);
      expect(diagnosticsOf(result, "thon-sandbox-restart-policy").map((d) => d.enforcementLevel)).toEqual(["advisory"]);
      expect(diagnosticsOf(result, "thon-sandbox-non-root")).toEqual([]);
    } finally {
      await server.configure({});
    }
    const reset = await server.analyze(container);
    expect(diagnosticsOf(reset, "thon-sandbox-no-host-network")).toHaveLength(1);
    expect(diagnosticsOf(reset, "thon-sandbox-non-root")).toHaveLength(2);
  });

  it("accepts policies/config.example.json, whose settings are all in the policies' schemas", async () => {
    const example = JSON.parse(readFileSync("policies/config.example.json", "utf8")) as Record<string, string | Record<string, unknown>>;
    const info = await pack.get().getAnalyzerInfo();
    const jsonType = (v: unknown) => (Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v);
    for (const [policy, value] of Object.entries(example)) {
      const schema = info.policies.find((p) => p.name === policy)?.configSchema ?? {};
      if (typeof value === "string") continue;
      for (const [key, setting] of Object.entries(value)) {
        if (key === "enforcementLevel") continue;
        const declared = (schema[key] as { type?: string } | undefined)?.type;
        expect(declared, `${policy}.${key} is declared`).toBeDefined();
        expect([declared, declared === "number" ? "integer" : declared], `${policy}.${key}`).toContain(jsonType(setting));
      }
    }
    try {
      await pack.get().configure(example as never);
      const e = await runEvent(makeEvent({ alpha: ["alice"] }));
      expect((await analyzeEvaluation(pack.get(), e)).resources).toEqual([]);
    } finally {
      await pack.get().configure({});
    }
  });

  it("refuses config for a policy the pack does not have", async () => {
    await expect(pack.get().configure({ "thon-no-such-policy": "mandatory" })).rejects.toThrow(/names thon-no-such-policy, which the pack does not have/);
  });
});

describe("policy pack over gRPC: the process", () => {
  it("is ended by stop()", async () => {
    const server = await startPolicyPack({ timeoutMs: 60_000 });
    expect(isRunning(server.pid)).toBe(true);
    await server.stop();
    expect(isRunning(server.pid)).toBe(false);
  }, 70_000);
});
