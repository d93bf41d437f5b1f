// The process that runs the whole program gets a bigger heap than V8's
// default (infra/nodeFlags.ts): `pulumi up` through Pulumi.yaml's nodeargs,
// `thon plan` through bin/thon.mjs, which runs plan in a second process.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needsProgramFlags, PROGRAM_NODE_FLAGS } from "../infra/nodeFlags.ts";
import { eventYaml } from "./support/events.ts";
import { ROOT } from "./support/llm.ts";

describe("node flags for the program's process", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "thon-flags-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("Pulumi.yaml runs the program with tsx and the same heap flags", () => {
    const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as { runtime: { options: { nodeargs: string } } };
    const args = project.runtime.options.nodeargs.split(/\s+/);
    expect(args.slice(0, 2)).toEqual(["--import", "tsx"]);
    for (const flag of PROGRAM_NODE_FLAGS) expect(args).toContain(flag);
  });

  it("wants an 8 GiB heap limit", () => {
    expect(needsProgramFlags(4144 * 2 ** 20)).toBe(true);
    expect(needsProgramFlags(8192 * 2 ** 20)).toBe(false);
    expect(PROGRAM_NODE_FLAGS).toContain("--max-old-space-size=8192");
  });

  it("thon plan runs the program in a process with that heap; other commands stay in one process", () => {
    const file = join(dir, "thon.yaml");
    writeFileSync(file, eventYaml({ alpha: ["alice"] }));
    const log = join(dir, "heaps.log");
    // Every node process started below appends its heap limit (MiB) to the log
    // (main threads only: tsx's module loader runs in a worker thread).
    const probe = join(dir, "probe.cjs");
    writeFileSync(
      probe,
      `if (require("worker_threads").isMainThread) require("fs").appendFileSync(${JSON.stringify(log)}, Math.round(require("v8").getHeapStatistics().heap_size_limit / 1048576) + "\\n");\n`,
    );
    const env = { ...process.env, NODE_OPTIONS: `--require ${probe}` };
    const heaps = () => readFileSync(log, "utf8").trim().split("\n").map(Number);

    const out = execFileSync(process.execPath, ["bin/thon.mjs", "plan", file], { cwd: ROOT, env, encoding: "utf8", timeout: 60_000 });
    expect(out).toContain("docker:index/container:Container");
    const plan = heaps();
    expect(plan).toHaveLength(2);
    expect(plan[0]).toBeLessThan(8192);
    expect(plan[1]).toBeGreaterThanOrEqual(8192);

    rmSync(log);
    execFileSync(process.execPath, ["bin/thon.mjs", "validate", file], { cwd: ROOT, env, encoding: "utf8", timeout: 60_000 });
    expect(heaps()).toHaveLength(1);
  });
});
