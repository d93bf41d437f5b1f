#!/usr/bin/env node
// `npm run policy`: the policy pack over the event, offline (infra/policy/check.ts).
import { register } from "tsx/esm/api";

register();
const { checkMain } = await import("../infra/policy/check.ts");
process.exitCode = await checkMain(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  cwd: process.cwd(),
});
