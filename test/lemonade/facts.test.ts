import { describe, expect, it } from "vitest";
import { checkLlamacppArgs, lemondUnitName, reservedLlamacppArgs } from "../../infra/lemonade/facts.ts";

describe("Lemonade facts by release", () => {
  it.each([
    ["10.1", "lemonade-server.service"],
    ["10.2.0", "lemonade-server.service"],
    ["10.3", "lemond.service"],
    ["11.7.0", "lemond.service"],
  ])("the unit of %s is %s", (version, unit) => {
    expect(lemondUnitName(version)).toBe(unit);
  });

  it.each([
    // flag, release, reserved?
    ["-ngl", "10.1", true],
    ["-ngl", "10.7", true],
    ["-ngl", "10.8", false], // the docs still list it; the code stopped reserving it in 10.8
    ["--gpu-layers", "11.7", false],
    ["--device", "10.4", false],
    ["--device", "10.5", true],
    ["--metrics", "10.6", false],
    ["--metrics", "10.7", true],
    ["--model-draft", "10.8", false],
    ["--model-draft", "10.8.1", true],
    ["--mmproj-offload", "11.5.2", true],
    ["--mmproj-offload", "11.6", false],
    ["-hf", "10.3", false],
    ["-hf", "10.4", true],
    ["--ctx-size", "10.1", true],
    ["-c", "11.7", true],
    ["--port", "11.7", true],
    ["--embeddings", "11.7", true],
    ["--flash-attn", "11.7", false],
  ] as const)("%s is reserved in %s: %s", (flag, version, reserved) => {
    expect(reservedLlamacppArgs(version).flags.includes(flag)).toBe(reserved);
  });

  it("refuses reserved flags (also as --flag=value) and THON's own -np, naming the index; values pass", () => {
    const problems = checkLlamacppArgs(["--flash-attn", "on", "--ctx-size=8192", "-t", "8", "-np", "4", "-ngl", "99"], "11.7");
    expect(problems.map((p) => [p.index, p.flag])).toEqual([
      [2, "--ctx-size"],
      [5, "-np"],
    ]);
    expect(problems[0]!.message).toContain("--ctx-size is managed by Lemonade 11.7 itself, which refuses to load a model given it");
    expect(problems[0]!.message).toContain("Fix: remove it");
    expect(problems[1]!.message).toContain("lemonade.maxParallel");
    expect(checkLlamacppArgs(["-ngl", "99"], "10.1").map((p) => p.flag)).toEqual(["-ngl"]);
  });
});
