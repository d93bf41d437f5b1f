// `npm run policy`: the policy pack over the event, offline. Evaluates the
// real program for a thon.yaml under Pulumi's mocks (like `thon plan`),
// starts the pack the way `pulumi preview --policy-pack policies` does, sends
// it every resource (Analyze) and the stack (AnalyzeStack), and prints what
// it finds. Exit 1 on a mandatory violation, so it can gate a script or CI
// where the Pulumi CLI is not available; with the CLI, prefer
// `pulumi preview --policy-pack policies`, which checks the real state too.
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { evaluateEventFile } from "../cli/plan.ts";
import { resolveEventFile } from "../cli/main.ts";
import { analyzeEvaluation, startPolicyPack, type Diagnostic, type PackConfig } from "./analyzer.ts";

export interface CheckIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
}

const USAGE = `npm run policy -- [--stack dev] [--file thon.yaml] [--config policy-config.json] [--json]

Runs the policy pack (policies/) over the event offline, as pulumi preview --policy-pack would.
  --stack   the stack whose thon:file to use (default dev)
  --file    the event file (default: the stack's thon:file, else ./thon.yaml)
  --config  a --policy-pack-config file: { "<policy>": "<level>" | { "enforcementLevel": ..., <settings> } }
  --json    print the diagnostics as JSON
Exit: 0 no mandatory violation, 1 mandatory violations (or the event file is invalid), 2 wrong usage.`;

function format(d: Diagnostic): string {
  const [description = "", ...details] = d.message.split("\n");
  const where = d.urn ? d.urn.split("::").pop() : "";
  const lines = [`${d.enforcementLevel.padEnd(9)}  ${d.policyName}${where ? `  (${where})` : ""}`];
  for (const line of details) lines.push(`           ${line}`);
  lines.push(`           ${description}`);
  return lines.join("\n");
}

export async function checkMain(argv: string[], io: CheckIo): Promise<number> {
  let values: { stack?: string; file?: string; config?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { stack: { type: "string" }, file: { type: "string" }, config: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  const stack = values.stack ?? "dev";
  const file = resolveEventFile(io.cwd, values.file, stack);
  let config: PackConfig = {};
  if (values.config) {
    try {
      config = JSON.parse(readFileSync(values.config, "utf8")) as PackConfig;
    } catch (err) {
      io.err(`policy: cannot read the pack config ${values.config}: ${(err as Error).message}\n`);
      return 2;
    }
  }

  let evaluation;
  try {
    evaluation = await evaluateEventFile(file, stack);
  } catch (err) {
    io.err(`${(err as Error).message}\n`);
    return 1;
  }
  const server = await startPolicyPack();
  try {
    if (Object.keys(config).length > 0) await server.configure(config);
    const info = await server.getAnalyzerInfo();
    const { resources, stack: stackResult } = await analyzeEvaluation(server, evaluation);
    const diagnostics = [...resources, ...stackResult.diagnostics];
    const mandatory = diagnostics.filter((d) => d.enforcementLevel === "mandatory").length;
    const advisory = diagnostics.filter((d) => d.enforcementLevel === "advisory").length;
    if (values.json) {
      io.out(`${JSON.stringify({ pack: `${info.name}@${info.version}`, file, stack, diagnostics, notApplicable: stackResult.notApplicable }, null, 2)}\n`);
    } else {
      io.out(`policy pack ${info.name} ${info.version} (${info.policies.length} policies) on ${relative(io.cwd, file) || file}, stack ${stack}: ${evaluation.resources.length} resources\n`);
      for (const d of diagnostics) io.out(`${format(d)}\n`);
      for (const n of stackResult.notApplicable) io.out(`not run    ${n.policyName}: ${n.reason}\n`);
      io.out(`${mandatory} mandatory, ${advisory} advisory\n`);
    }
    return mandatory > 0 ? 1 : 0;
  } finally {
    await server.stop();
  }
}
