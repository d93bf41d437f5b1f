// Run with `node --import tsx` (as Pulumi.yaml runs the program): evaluates
// the event file in argv[3] as the first thing this process does, and prints
// what it registered as JSON. Modes:
//   plan   evaluateEventFile, as `thon plan` and the benchmarks do
//   index  infra/index.ts imported inside a Pulumi stack under mocks, the way
//          Pulumi's language host loads the program for `pulumi up`
import * as pulumi from "@pulumi/pulumi";
import settingsModule from "@pulumi/pulumi/runtime/settings.js";

const [mode, file] = process.argv.slice(2) as ["plan" | "index", string];

if (mode === "plan") {
  const { evaluateEventFile } = await import("../../infra/cli/plan.ts");
  const e = await evaluateEventFile(file);
  process.stdout.write(JSON.stringify({ resources: e.resources.length, limitAfter: Error.stackTraceLimit }));
} else {
  const { thonMocks } = await import("../../infra/preview/providerOutputs.ts");
  let resources = 0;
  await pulumi.runtime.setMocks(
    { newResource: (a) => (resources++, thonMocks.newResource(a)), call: (a) => thonMocks.call(a) },
    "thon",
    "dev",
    false,
  );
  pulumi.runtime.setAllConfig({ "thon:file": file });
  const limitBefore = Error.stackTraceLimit;
  await pulumi.runtime.runInPulumiStack(async () => import("../../infra/index.ts"));
  await (settingsModule as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  process.stdout.write(JSON.stringify({ resources, limitBefore, limitAfter: Error.stackTraceLimit }));
}
// Pulumi's runtime keeps handles open; the answer is out.
process.exit(0);
