#!/usr/bin/env node
// The thon CLI. The sources are TypeScript; tsx runs them without a build step.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { getHeapStatistics } from "node:v8";
import { register } from "tsx/esm/api";

register();
// `thon plan` runs the whole program, which on big events needs more heap than
// V8 gives by default (infra/nodeFlags.ts); heap sizes are start-up flags, so
// plan runs in a second process that has them.
// `up` falls back to the same evaluation when the Pulumi CLI cannot be had.
if ((process.argv.slice(2).includes("plan") || process.argv[2] === "up") && !process.env.THON_PROGRAM_FLAGS) {
  const { PROGRAM_NODE_FLAGS, needsProgramFlags } = await import("../infra/nodeFlags.ts");
  if (needsProgramFlags(getHeapStatistics().heap_size_limit)) {
    const child = spawnSync(process.execPath, [...PROGRAM_NODE_FLAGS, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: "inherit",
      env: { ...process.env, THON_PROGRAM_FLAGS: "1" },
    });
    process.exit(child.status ?? 1);
  }
}
const { run } = await import("../infra/cli/main.ts");
// The console's commands (thon console, thon users restart|recreate|…) load
// with the CLI; their heavy parts (store, Docker, Automation API) only when run.
const { registerConsoleCommands } = await import("../console/cli.ts");
const { registerIdleCommands } = await import("../console/idle/cli.ts");
await run((program) => {
  registerConsoleCommands(program);
  registerIdleCommands(program);
});
