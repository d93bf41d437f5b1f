// A stand-in for the Pulumi CLI (which cannot be installed here), enough for
// the Automation API's LocalWorkspace to drive it as it drives the real one:
// `pulumi version` (3.200.0: the Automation API then reads engine events from
// the --event-log file, the pre-3.205 transport), `stack select`,
// `preview`/`up` writing the scenario's engine events (JSON lines after the
// documented EngineEvent schema, sdk/nodejs/automation/events.ts) to the event
// log, `stack output` and `stack history` after an up. With `busy`, preview
// and up fail as the DIY backend does when another update holds the lock.
// Every call's arguments are appended to calls.jsonl for the test to read.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CliScenario {
  /** Engine events written for preview and up (sequence and timestamp included). */
  events: Array<Record<string, unknown>>;
  /** Fail preview/up: "the stack is currently locked". */
  busy?: boolean;
}

export interface PulumiCliStandIn {
  /** Pass as PulumiCommand.get({ root }). */
  readonly root: string;
  setScenario(s: CliScenario): void;
  calls(): string[][];
  cleanup(): void;
}

const SCRIPT = String.raw`#!/usr/bin/env node
const fs = require("node:fs");
const path = require("node:path");
const dir = path.dirname(__dirname);
const args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, "calls.jsonl"), JSON.stringify(args) + "\n");
const scenario = JSON.parse(fs.readFileSync(path.join(dir, "scenario.json"), "utf8"));
const cmd = args[0];
if (cmd === "version") { process.stdout.write("v3.200.0\n"); process.exit(0); }
if (cmd === "stack" && args[1] === "select") process.exit(0);
if (cmd === "stack" && args[1] === "output") { process.stdout.write("{}\n"); process.exit(0); }
if (cmd === "stack" && args[1] === "history") {
  const now = new Date().toISOString();
  process.stdout.write(JSON.stringify([{ version: 2, kind: "update", startTime: now, endTime: now, message: "", environment: {}, config: {}, result: "succeeded", resourceChanges: { replace: 1, same: 3 } }]) + "\n");
  process.exit(0);
}
if (cmd === "preview" || cmd === "up") {
  if (scenario.busy) {
    process.stderr.write("error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with \u0060pulumi cancel\u0060.\n");
    process.exit(255);
  }
  const log = args[args.indexOf("--event-log") + 1];
  for (const e of scenario.events) fs.appendFileSync(log, JSON.stringify(e) + "\n");
  process.stdout.write((cmd === "up" ? "Updating" : "Previewing") + " (dev)\n");
  process.exit(0);
}
process.stderr.write("pulumi stand-in: no behaviour for " + args.join(" ") + "\n");
process.exit(1);
`;

export function startPulumiCliStandIn(scenario: CliScenario): PulumiCliStandIn {
  const root = mkdtempSync(join(tmpdir(), "pulumi-cli-standin-"));
  mkdirSync(join(root, "bin"));
  writeFileSync(join(root, "bin", "pulumi"), SCRIPT);
  chmodSync(join(root, "bin", "pulumi"), 0o755);
  const set = (s: CliScenario) => writeFileSync(join(root, "scenario.json"), JSON.stringify(s));
  set(scenario);
  return {
    root,
    setScenario: set,
    calls: () => {
      try {
        return readFileSync(join(root, "calls.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as string[]);
      } catch {
        return [];
      }
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
