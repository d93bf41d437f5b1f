// The program runs without V8 stack traces (infra/stackTraces.ts): about 3x
// faster under mocks and in `pulumi up`. These check that the limit is set
// and put back, that it can be turned off, and that the program still loads
// and runs under `node --import tsx`, where tsx needs stack frames while an
// ES module imports a CommonJS package.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { evaluate } from "../infra/preview/evaluate.ts";
import { limitStackTraces, stackTracesWanted } from "../infra/stackTraces.ts";
import { eventYaml } from "./support/events.ts";
import { llmYaml, ROOT } from "./support/llm.ts";

describe("stack traces during the program", () => {
  it("are off while evaluate() runs the program, and back to the previous limit afterwards", async () => {
    const before = Error.stackTraceLimit;
    let during = -1;
    await evaluate(() => {
      new pulumi.ComponentResource("test:index:Thing", "thing");
      during = Error.stackTraceLimit;
      return {};
    });
    expect(during).toBe(0);
    expect(Error.stackTraceLimit).toBe(before);
  });

  it("are kept with { stackTraces: true }, and restored when the program throws", async () => {
    const before = Error.stackTraceLimit;
    let during = -1;
    await evaluate(() => ((during = Error.stackTraceLimit), {}), { stackTraces: true });
    expect(during).toBe(before);
    await expect(
      evaluate(() => {
        throw new Error("the program failed");
      }),
    ).rejects.toThrow("the program failed");
    expect(Error.stackTraceLimit).toBe(before);
  });

  it("are kept when asked for: THON_STACK_TRACES=1, or Pulumi's promise-leak debugging", () => {
    expect(stackTracesWanted({})).toBe(false);
    expect(stackTracesWanted({ THON_STACK_TRACES: "1" })).toBe(true);
    expect(stackTracesWanted({ THON_STACK_TRACES: "0" })).toBe(false);
    expect(stackTracesWanted({ THON_STACK_TRACES: "false" })).toBe(false);
    expect(stackTracesWanted({ PULUMI_DEBUG_PROMISE_LEAKS: "true" })).toBe(true);
    const before = Error.stackTraceLimit;
    const restore = limitStackTraces({ THON_STACK_TRACES: "1" });
    expect(Error.stackTraceLimit).toBe(before);
    restore();
    const restore2 = limitStackTraces({});
    expect(Error.stackTraceLimit).toBe(0);
    restore2();
    expect(Error.stackTraceLimit).toBe(before);
  });
});

describe("the program under node --import tsx (as Pulumi.yaml runs it)", () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "thon-tsx-stacks-"));
    file = join(dir, "thon.yaml");
    writeFileSync(file, eventYaml({ alpha: ["alice", "bob"] }, llmYaml()));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (mode: "plan" | "index") =>
    JSON.parse(
      execFileSync(process.execPath, ["--import", "tsx", "test/support/runUnderTsx.ts", mode, file], { cwd: ROOT, encoding: "utf8", timeout: 60_000 }),
    ) as { resources: number; limitBefore?: number; limitAfter: number };

  it("thon plan's evaluation works as the first thing a process does, and puts the limit back", () => {
    const r = run("plan");
    // 2 participants, every feature: sandboxes, proxy files, TLS, Lemonade, gateway.
    expect(r.resources).toBeGreaterThan(30);
    expect(r.limitAfter).toBe(10);
  });

  it("infra/index.ts turns stack traces off for the rest of the run, after its imports, and every resource registers", () => {
    const r = run("index");
    expect(r.limitBefore).toBe(10);
    expect(r.limitAfter).toBe(0);
    expect(r.resources).toBe(run("plan").resources);
    // Two whole program runs in child processes: seconds when the machine is quiet, more under load.
  }, 120_000);
});
