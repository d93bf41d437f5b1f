#!/usr/bin/env node
// Prints "N passed, N failed" from one or more vitest JSON reports (CI reads
// this line; vitest's own summary is not read). Missing reports count as a
// failure: a suite that did not run must not look green.
import { existsSync, readFileSync } from "node:fs";

// --extra-failures N: steps outside vitest (e.g. the type check) that failed.
const args = process.argv.slice(2);
let passed = 0;
let failed = 0;
const extra = args.indexOf("--extra-failures");
if (extra >= 0) {
  failed += Number(args[extra + 1] ?? 0);
  args.splice(extra, 2);
}
for (const file of args) {
  if (!existsSync(file)) {
    console.error(`summary: ${file} is missing (the suite did not run)`);
    failed++;
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0) + (report.numTodoTests ?? 0) + (report.numPendingTests ?? 0);
  // A file that failed to load has no tests but is a failure.
  for (const suite of report.testResults ?? []) {
    if (suite.status === "failed" && (suite.assertionResults ?? []).length === 0) failed++;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
