// Program scale: how long `thon plan` (the real program under Pulumi's mocks)
// takes and how much memory it needs for 10 to 3000 participants with every
// feature on, next to two floors measured in the same run:
//
//   SDK floor    the same number of the same resource types, trivial inputs:
//                what @pulumi/pulumi and the provider SDKs cost by themselves
//   plain floor  the same number of plain pulumi.CustomResources: the mock
//                runtime with nothing on top
//
// and what the stack traces and the garbage collector cost (each variant in a
// fresh process). Every figure is the median of several runs, each in its own
// child process (bench/scaleWorker.ts).
import { runChild, type ChildOptions } from "./lib/child.ts";
import { fmt, median, table } from "./lib/stats.ts";
import { load } from "./lib/host.ts";
import { isMain, type BenchOptions, type Section } from "./lib/section.ts";
import type { ScaleKind, ScaleResult, ScaleSpec } from "./scaleWorker.ts";
import { PROGRAM_NODE_FLAGS } from "../infra/nodeFlags.ts";

const WORKER = "bench/scaleWorker.ts";

/** The node flags `thon plan` and `pulumi up` run the program with (infra/nodeFlags.ts). */
const PROGRAM_ARGS = ["--expose-gc", ...PROGRAM_NODE_FLAGS];
/** V8's defaults, as before infra/nodeFlags.ts. */
const DEFAULT_ARGS = ["--expose-gc"];

function measure(spec: ScaleSpec, options: ChildOptions = {}): Promise<ScaleResult> {
  return runChild<ScaleResult>(WORKER, spec, { ...options, nodeArgs: options.nodeArgs ?? PROGRAM_ARGS, timeoutMs: 900_000 });
}

interface Summary {
  readonly ms: number;
  readonly cpuMs: number;
  readonly peakRssMiB: number;
  readonly gcMs: number;
  readonly minorGcMs: number;
  readonly resources: number;
  readonly runs: number;
}

function summarize(results: readonly ScaleResult[]): Summary {
  return {
    ms: median(results.map((r) => r.ms)),
    cpuMs: median(results.map((r) => r.cpuMs)),
    peakRssMiB: median(results.map((r) => r.peakRssMiB)),
    gcMs: median(results.map((r) => r.gcMs)),
    minorGcMs: median(results.map((r) => r.gcByKind.minor?.ms ?? 0)),
    resources: results[0]!.resources,
    runs: results.length,
  };
}

const log = (text: string) => process.stdout.write(`[scale] ${text}\n`);

/** Stack traces kept: what Pulumi does by default (evaluate() and infra/index.ts now turn them off). */
const STACKS_KEPT = { env: { THON_STACK_TRACES: "1" } } as const;

interface Trio {
  readonly program: Summary;
  readonly sdk: Summary;
  readonly plain: Summary;
  readonly types: Record<string, number>;
}

/**
 * The program and both floors at one size, `reps` times each, interleaved so
 * that load from elsewhere on the host falls on all three alike.
 */
async function trio(
  participants: number,
  reps: number,
  variant: { stackTraceLimit?: number; sourceMaps?: boolean; child?: ChildOptions } = { stackTraceLimit: 0 },
): Promise<Trio> {
  const runs: Record<Exclude<ScaleKind, "program-bare" | "parts">, ScaleResult[]> = { program: [], "floor-sdk": [], "floor-plain": [] };
  let types: Record<string, number> | undefined;
  for (let rep = 0; rep < reps; rep++) {
    const p = await measure(
      { kind: "program", participants, ...(variant.sourceMaps === false ? { sourceMaps: false } : {}) },
      variant.child,
    );
    runs.program.push(p);
    types ??= p.types;
    for (const kind of ["floor-sdk", "floor-plain"] as const) {
      runs[kind].push(
        await measure(
          {
            kind,
            participants,
            types,
            ...(variant.stackTraceLimit !== undefined ? { stackTraceLimit: variant.stackTraceLimit } : {}),
            ...(variant.sourceMaps === false ? { sourceMaps: false } : {}),
          },
          variant.child,
        ),
      );
    }
    log(
      `${participants} participants, run ${rep + 1}/${reps}: program ${fmt(p.ms / 1000)} s (${p.resources} resources, ` +
        `peak ${fmt(p.peakRssMiB)} MiB), SDK floor ${fmt(runs["floor-sdk"].at(-1)!.ms / 1000)} s, ` +
        `plain floor ${fmt(runs["floor-plain"].at(-1)!.ms / 1000)} s; ${load()}`,
    );
  }
  return { program: summarize(runs.program), sdk: summarize(runs["floor-sdk"]), plain: summarize(runs["floor-plain"]), types: types! };
}

const perRes = (s: Summary) => s.ms / s.resources;

export async function benchScale(options: BenchOptions): Promise<Section> {
  const sizes = options.quick ? [10, 100, 1000] : [10, 100, 1000, 3000];
  const repsFor = (n: number) => (options.quick ? 1 : n >= 3000 ? 2 : 3);
  const variantSize = options.quick ? 100 : 200;
  const variantReps = options.quick ? 1 : 2;
  log(`start; ${load()}`);

  // 1. The program at every size, with its floors.
  const bySize = new Map<number, Trio>();
  for (const n of sizes) bySize.set(n, await trio(n, repsFor(n)));
  const scaleRows = sizes.map((n) => {
    const t = bySize.get(n)!;
    const p = t.program;
    return [
      String(n),
      String(p.resources),
      fmt(p.ms / 1000),
      fmt(p.cpuMs / 1000),
      fmt(p.ms / n),
      fmt(perRes(p), 2),
      fmt(p.peakRssMiB),
      fmt(t.sdk.peakRssMiB),
      `${fmt((100 * p.gcMs) / p.ms, 0)} %`,
      fmt(perRes(t.sdk), 2),
      fmt(perRes(t.plain), 2),
      fmt(perRes(p) / perRes(t.sdk), 1),
      fmt(perRes(p) / perRes(t.plain), 1),
      String(p.runs),
    ];
  });
  const t100 = bySize.get(100)?.program.ms;
  const t1000 = bySize.get(1000)?.program.ms;
  const t3000 = bySize.get(3000)?.program.ms;
  const linearity = [
    t100 && t1000 ? `t(1000)/t(100) = ${fmt(t1000 / t100, 1)} (linear: 10)` : "",
    t1000 && t3000 ? `t(3000)/t(1000) = ${fmt(t3000 / t1000, 1)} (linear: 3)` : "",
  ].filter(Boolean);

  // 2. Stack traces, source maps and the young generation, side by side at one size.
  log(`variants at ${variantSize} participants`);
  const variants: { name: string; trio: Trio }[] = [
    {
      name: "before: Pulumi's defaults (stack traces kept, source maps on), V8's default heap",
      trio: await trio(variantSize, variantReps, { child: { ...STACKS_KEPT, nodeArgs: DEFAULT_ARGS } }),
    },
    { name: "source maps off, stack traces kept", trio: await trio(variantSize, variantReps, { sourceMaps: false, child: { ...STACKS_KEPT, nodeArgs: DEFAULT_ARGS } }) },
    { name: "Error.stackTraceLimit = 0, V8's default heap", trio: await trio(variantSize, variantReps, { stackTraceLimit: 0, child: { nodeArgs: DEFAULT_ARGS } }) },
    { name: "stackTraceLimit = 0 and source maps off", trio: await trio(variantSize, variantReps, { stackTraceLimit: 0, sourceMaps: false, child: { nodeArgs: DEFAULT_ARGS } }) },
    {
      name: `now: stackTraceLimit = 0 and ${PROGRAM_NODE_FLAGS.join(" ")} (evaluate(), infra/index.ts, Pulumi.yaml, thon plan)`,
      trio: await trio(variantSize, variantReps, { stackTraceLimit: 0 }),
    },
  ];
  const variantRows = variants.map(({ name, trio: t }) => [
    name,
    fmt(t.program.ms / 1000),
    fmt(t.program.cpuMs / 1000),
    fmt(perRes(t.program), 2),
    fmt(t.program.peakRssMiB),
    `${fmt(t.program.gcMs / 1000)} s (${fmt((100 * t.program.minorGcMs) / Math.max(1, t.program.gcMs), 0)} % scavenges)`,
    fmt(perRes(t.sdk), 2),
    fmt(perRes(t.plain), 2),
  ]);

  // 3. What the recorder adds: the same program without it.
  const bare: ScaleResult[] = [];
  for (let i = 0; i < variantReps; i++) bare.push(await measure({ kind: "program-bare", participants: variantSize, stackTraceLimit: 0 }));
  const bareSummary = summarize(bare);
  const shipped = variants[4]!.trio.program;

  // 4. Our own pure parts, far beyond the sizes above: anything super-linear shows.
  const partSizes = options.quick ? [1000, 10000] : [1000, 3000, 10000];
  const parts = new Map<number, Record<string, number>>();
  for (const n of partSizes) {
    const rs: ScaleResult[] = [];
    for (let i = 0; i < variantReps; i++) rs.push(await measure({ kind: "parts", participants: n }));
    const names = Object.keys(rs[0]!.partsMs!);
    parts.set(n, Object.fromEntries(names.map((k) => [k, median(rs.map((r) => r.partsMs![k]!))])));
  }
  const partNames = Object.keys(parts.get(partSizes[0]!)!);
  const first = partSizes[0]!;
  const last = partSizes.at(-1)!;
  const partRows = partNames.map((k) => [
    k,
    ...partSizes.map((n) => fmt(parts.get(n)![k]!)),
    `${fmt(parts.get(last)![k]! / parts.get(first)![k]!, 1)} (linear: ${last / first})`,
  ]);
  log(`our parts: ${partRows.map((r) => `${r[0]} ${r.at(-1)}`).join("; ")}`);

  // 5. The SDK floor by type: what one resource costs, and how many Outputs the SDK makes for it.
  const perTypeCount = options.quick ? 200 : 300;
  const typeRows: string[][] = [];
  const typeNames: Record<string, string> = { "bench:index:Plain": "plain CustomResource", "thon:sandbox:Sandbox": "ComponentResource" };
  for (const type of [
    "bench:index:Plain",
    "thon:sandbox:Sandbox",
    "docker:index/volume:Volume",
    "random:index/randomPassword:RandomPassword",
    "command:local:Command",
    "pulumi-nodejs:dynamic/apisix:Consumer",
    "docker:index/container:Container",
  ]) {
    const row: number[] = [];
    let outputs = 0;
    for (const limit of [undefined, 0]) {
      const rs: ScaleResult[] = [];
      for (let i = 0; i < variantReps; i++) {
        rs.push(
          await measure(
            { kind: "floor-sdk", participants: 0, types: { [type]: perTypeCount }, ...(limit !== undefined ? { stackTraceLimit: limit } : {}) },
            limit === undefined ? STACKS_KEPT : {},
          ),
        );
      }
      outputs = rs[0]!.outputProps[type] ?? 0;
      // The stack itself is one resource more; negligible against perTypeCount.
      row.push(median(rs.map((r) => r.ms)) / perTypeCount);
    }
    typeRows.push([typeNames[type] ?? type, String(outputs), fmt(row[0]!, 2), fmt(row[1]!, 2)]);
    log(`${type}: ${outputs} outputs, ${fmt(row[0]!, 2)} ms -> ${fmt(row[1]!, 2)} ms per resource`);
  }

  const body = [
    `Median of ${options.quick ? 1 : "3 (2 at 3000 participants)"} runs, each in a fresh \`node --import tsx\` process; time is the wall time of the evaluation ` +
      "(YAML load and validation, plan, components, Pulumi's mock runtime, the recorder), CPU is user+system time of the process " +
      "(it counts the GC's helper threads, so it can exceed the wall time). Every feature is on: TLS with the event CA, the nginx proxy, " +
      "Lemonade and the APISIX gateway with one consumer per participant. Floors register the same number of resources (same type mix for the SDK floor) " +
      "with trivial inputs and no logic of ours, under the same stack-trace setting and node flags " +
      `(\`${PROGRAM_NODE_FLAGS.join(" ")}\`, as \`thon plan\` and \`pulumi up\` run the program now).`,
    "",
    table(
      ["participants", "resources", "time s", "CPU s", "ms/participant", "ms/resource", "peak RSS MiB", "SDK floor peak MiB", "GC", "SDK floor ms/res", "plain floor ms/res", "÷ SDK floor", "÷ plain floor", "runs"],
      scaleRows,
    ),
    "",
    linearity.join("; ") + ".",
    "",
    `**Where the time goes** (${variantSize} participants, ${variantReps} run(s) each, every variant in fresh processes; ms/res = wall ms per resource):`,
    "",
    table(["setting", "program s", "CPU s", "ms/res", "peak RSS MiB", "GC pauses", "SDK floor ms/res", "plain floor ms/res"], variantRows),
    "",
    `The recorder (inputs copied, secrets unwrapped, sha256 per input): the program without it takes ${fmt(bareSummary.ms / 1000)} s, ` +
      `with it ${fmt(shipped.ms / 1000)} s at ${variantSize} participants.`,
    "",
    `**Our own parts alone** (no Pulumi; ms, median of ${variantReps}): what runs before any resource is declared, and the nginx text every participant gets:`,
    "",
    table(["part", ...partSizes.map((n) => `${n} participants`), `t(${last})/t(${first})`], partRows),
    "",
    `**The SDK floor by type** (${perTypeCount} resources of one type, ms per resource; the SDK makes one Output, with four promises, per declared output property):`,
    "",
    table(["type", "Output properties", "stack traces kept", "stackTraceLimit = 0"], typeRows),
  ].join("\n");
  log(`done; ${load()}`);
  return { title: "Program scale", body };
}

if (isMain(import.meta.url)) {
  const section = await benchScale({ quick: process.argv.includes("--quick") });
  process.stdout.write(`\n## ${section.title}\n\n${section.body}\n`);
}
