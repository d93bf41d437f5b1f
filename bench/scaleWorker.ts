// One program-scale measurement in a fresh process (bench/scale.ts starts it).
//
//   program      the real program (infra/index.ts) for a thon.yaml of N
//                participants, evaluated under mocks exactly as `thon plan`
//                does (evaluateEventFile: YAML load, validation, plan,
//                components, the recorder)
//   program-bare the same program (defineEvent) under the same mocks, without
//                the recorder: what the recorder's copying and hashing cost
//   floor-sdk    the same number of the same resource types (docker.Container,
//                command.local.Command, ...) with trivial inputs, no logic of ours
//   floor-plain  the same number of plain pulumi.CustomResources: the bare
//                mock runtime
//   parts        our own pure parts alone, without Pulumi: thon.yaml load and
//                validation, the planner, the nginx renderers with the reload
//                manifest (sha256 per file); `partsMs` has each
//
// Prints one JSON line: wall time of the evaluation, resource count, peak RSS
// and GC time.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import * as command from "@pulumi/command";
import * as tls from "@pulumi/tls";
// Loaded before the clock starts: module loading is not the program's run time.
import settingsModule from "@pulumi/pulumi/runtime/settings.js";
import { evaluateEventFile } from "../infra/cli/plan.ts";
import { defineEvent } from "../infra/program.ts";
import { loadEvent } from "../infra/config/load.ts";
import { thonMocks } from "../infra/preview/providerOutputs.ts";
import { planEvent } from "../infra/plan.ts";
import { nginxLayout, participantFile, renderManifest, renderParticipant, renderUpstream, upstreamFile } from "../infra/render/nginx.ts";
import { sha256 } from "../infra/hash.ts";
import { report } from "./lib/child.ts";
import { benchEventYaml } from "./lib/events.ts";

const settings = settingsModule as unknown as { waitForRPCs(): Promise<void> };

export type ScaleKind = "program" | "program-bare" | "floor-sdk" | "floor-plain" | "parts";

export interface ScaleSpec {
  readonly kind: ScaleKind;
  readonly participants: number;
  /** Resource types and counts to register (floors); from the program's run at the same size. */
  readonly types?: Readonly<Record<string, number>>;
  /** Error.stackTraceLimit during the evaluation; undefined keeps the process default. */
  readonly stackTraceLimit?: number;
  /** false: process.setSourceMapsEnabled(false) before the evaluation (tsx turns them on). */
  readonly sourceMaps?: boolean;
}

export interface ScaleResult {
  readonly spec: ScaleSpec;
  readonly ms: number;
  /** CPU time (user + system) of the evaluation, ms: less sensitive than wall time to other load on the host. */
  readonly cpuMs: number;
  readonly resources: number;
  readonly types: Record<string, number>;
  /** Floors: Output properties on one resource of each type. */
  readonly outputProps: Record<string, number>;
  /** Peak resident set size of the whole process, MiB. */
  readonly peakRssMiB: number;
  /** RSS before the evaluation started (modules loaded), MiB. */
  readonly baseRssMiB: number;
  readonly gcMs: number;
  readonly gcCount: number;
  /** GC pause time by kind: "minor" (scavenges of the young generation), "major" (mark-compact), "incremental", "weak". */
  readonly gcByKind: Record<string, { ms: number; count: number }>;
  /** kind "parts": ms per part. */
  readonly partsMs?: Record<string, number>;
}

const GC_KINDS: Record<number, string> = { 1: "minor", 4: "major", 8: "incremental", 16: "weak" };

const trivialMocks: pulumi.runtime.Mocks = {
  newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
  call: (args) => args.inputs,
};

class Plain extends pulumi.CustomResource {
  constructor(name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super("bench:index:Plain", name, props, opts);
  }
}

class Component extends pulumi.ComponentResource {
  constructor(type: string, name: string) {
    super(type, name, {}, {});
    this.registerOutputs({});
  }
}

const trivialProvider: pulumi.dynamic.ResourceProvider = {
  async create() {
    return { id: "x", outs: {} };
  },
};

class Dynamic extends pulumi.dynamic.Resource {
  constructor(module: string, type: string, name: string) {
    super(trivialProvider, name, { value: name }, {}, module, type);
  }
}

/** One resource of `type` with trivial inputs, through the SDK's own class when we use one. */
function sdkResource(type: string, name: string): pulumi.Resource {
  switch (type) {
    case "docker:index/container:Container":
      return new docker.Container(name, { image: "bench" });
    case "docker:index/volume:Volume":
      return new docker.Volume(name, { name });
    case "docker:index/remoteImage:RemoteImage":
      return new docker.RemoteImage(name, { name: "bench" });
    case "pulumi:providers:docker":
      return new docker.Provider(name, {});
    case "random:index/randomPassword:RandomPassword":
      return new random.RandomPassword(name, { length: 8 });
    case "command:local:Command":
      return new command.local.Command(name, { create: "true" });
    case "tls:index/privateKey:PrivateKey":
      return new tls.PrivateKey(name, { algorithm: "ECDSA" });
    case "tls:index/selfSignedCert:SelfSignedCert":
      return new tls.SelfSignedCert(name, { privateKeyPem: "k", allowedUses: [], validityPeriodHours: 1 });
    case "tls:index/certRequest:CertRequest":
      return new tls.CertRequest(name, { privateKeyPem: "k" });
    case "tls:index/locallySignedCert:LocallySignedCert":
      return new tls.LocallySignedCert(name, { certRequestPem: "c", caPrivateKeyPem: "k", caCertPem: "c", allowedUses: [], validityPeriodHours: 1 });
  }
  const dynamic = /^pulumi-nodejs:dynamic\/([^:]+):(.+)$/.exec(type);
  if (dynamic) return new Dynamic(dynamic[1]!, dynamic[2]!, name);
  if (type.startsWith("thon:")) return new Component(type, name);
  return new Plain(name, { value: name });
}

/** Output-valued properties of a resource object: the SDK makes one (with its promises) per declared output. */
const outputCount = (r: pulumi.Resource) => Object.values(r).filter((v) => pulumi.Output.isInstance(v)).length;

/** Runs `program` in a Pulumi stack under `mocks` without recording; resolves when every registration is answered. */
async function runBare(mocks: pulumi.runtime.Mocks, program: () => unknown): Promise<void> {
  await pulumi.runtime.setMocks(mocks, "thon", "bench", false);
  await pulumi.runtime.runInPulumiStack(async () => program());
  await settings.waitForRPCs();
}

/** Counts what a bare run registers, by type, from the mock's view. */
function counting(mocks: pulumi.runtime.Mocks, types: Record<string, number>): pulumi.runtime.Mocks {
  return {
    newResource(args) {
      types[args.type] = (types[args.type] ?? 0) + 1;
      return mocks.newResource(args);
    },
    call: (args) => mocks.call(args),
  };
}

async function measure(spec: ScaleSpec): Promise<ScaleResult> {
  const dir = mkdtempSync(join(tmpdir(), "thon-bench-"));
  const file = join(dir, "thon.yaml");
  writeFileSync(file, benchEventYaml(spec.participants));
  const types: Record<string, number> = {};
  const outputProps: Record<string, number> = {};
  const partsMs: Record<string, number> = {};
  let resources = 0;

  let gcMs = 0;
  let gcCount = 0;
  const gcByKind: Record<string, { ms: number; count: number }> = {};
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcCount++;
      const kind = GC_KINDS[((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind) ?? 0] ?? "other";
      const k = (gcByKind[kind] ??= { ms: 0, count: 0 });
      k.ms += e.duration;
      k.count++;
    }
  });

  const limit = Error.stackTraceLimit;
  const maps = process.sourceMapsEnabled;
  global.gc?.();
  const baseRssMiB = process.memoryUsage().rss / 2 ** 20;
  gc.observe({ entryTypes: ["gc"] });
  const start = performance.now();
  const cpu = process.cpuUsage();
  if (spec.stackTraceLimit !== undefined) Error.stackTraceLimit = spec.stackTraceLimit;
  if (spec.sourceMaps === false) process.setSourceMapsEnabled(false);
  try {
    switch (spec.kind) {
      case "program": {
        const e = await evaluateEventFile(file, "bench");
        resources = e.resources.length;
        for (const r of e.resources) types[r.type] = (types[r.type] ?? 0) + 1;
        break;
      }
      case "program-bare": {
        await runBare(counting(thonMocks, types), () => {
          const outputs = defineEvent(loadEvent(file));
          return { participants: outputs.participants, event: outputs.event };
        });
        break;
      }
      case "parts": {
        const timed = <T>(name: string, fn: () => T): T => {
          const t0 = performance.now();
          const out = fn();
          partsMs[name] = performance.now() - t0;
          return out;
        };
        const event = timed("load and validate thon.yaml", () => loadEvent(file));
        const plan = timed("plan", () => planEvent(event));
        timed("render nginx files and the manifest", () => {
          const layout = nginxLayout(event);
          const entries = plan.participants.flatMap((p) => [
            { path: participantFile(layout, p.name), sha256: sha256(renderParticipant(event, p)) },
            { path: upstreamFile(layout, p.name), sha256: sha256(renderUpstream(event, p)) },
          ]);
          return renderManifest(entries);
        });
        break;
      }
      case "floor-sdk":
      case "floor-plain": {
        const wanted = Object.entries(spec.types ?? {}).filter(([t]) => t !== "pulumi:pulumi:Stack");
        await runBare(counting(trivialMocks, types), () => {
          for (const [type, count] of wanted) {
            for (let i = 0; i < count; i++) {
              const name = `r-${type.replace(/[^A-Za-z0-9]/g, "-")}-${i}`;
              const r = spec.kind === "floor-sdk" ? sdkResource(type, name) : new Plain(name, { value: name });
              if (i === 0) outputProps[type] = outputCount(r);
            }
          }
        });
        break;
      }
    }
  } finally {
    Error.stackTraceLimit = limit;
    process.setSourceMapsEnabled(maps);
  }
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  // GC entries arrive on a later tick.
  await new Promise((r) => setTimeout(r, 20));
  gc.disconnect();
  rmSync(dir, { recursive: true, force: true });
  // The mocks see every registration: custom resources, components and the stack.
  if (spec.kind !== "program") resources = Object.values(types).reduce((a, b) => a + b, 0);
  return {
    spec,
    ms,
    cpuMs,
    resources,
    types,
    outputProps,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    baseRssMiB,
    gcMs,
    gcCount,
    gcByKind,
    ...(spec.kind === "parts" ? { partsMs } : {}),
  };
}

if (process.argv[2]) {
  report(await measure(JSON.parse(process.argv[2]) as ScaleSpec));
  // Pulumi's runtime keeps handles (its leak detector, the mock monitor); the numbers are out.
  process.exit(0);
}
