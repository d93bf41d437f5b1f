import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadEvent } from "../../infra/config/load.ts";
import { thonFileSchema } from "../../infra/config/schema.ts";

const root = join(import.meta.dirname, "../..");

describe("shipped event files", () => {
  it("the dev stack points at stacks/dev/thon.yaml, which is valid", () => {
    const stack = parse(readFileSync(join(root, "Pulumi.dev.yaml"), "utf8"));
    expect(stack.secretsprovider).toBe("passphrase");
    expect(stack.config["thon:file"]).toBe("stacks/dev/thon.yaml");
    expect(loadEvent(join(root, stack.config["thon:file"])).participants.length).toBeGreaterThan(0);
  });

  it("the example file is valid and shows every section and every sandbox setting", () => {
    const file = join(root, "stacks/example/thon.yaml");
    loadEvent(file);
    const raw = parse(readFileSync(file, "utf8"));
    expect(Object.keys(raw).sort()).toEqual(Object.keys(thonFileSchema.shape).sort());
    const sandboxKeys = Object.keys(thonFileSchema.shape.sandbox.unwrap().shape).filter((k) => !["build", "network", "workspaceSize"].includes(k)); // optional ones as comments
    expect(Object.keys(raw.sandbox).sort()).toEqual(sandboxKeys.sort());
  });

  it("the example file shows every lemonade and gateway setting (optional ones as comments)", () => {
    const text = readFileSync(join(root, "stacks/example/thon.yaml"), "utf8");
    const raw = parse(text);
    const lemonade = Object.keys(thonFileSchema.shape.lemonade.unwrap().shape);
    const gateway = Object.keys(thonFileSchema.shape.gateway.unwrap().shape);
    const commented = ["host", "node", "apiUrl", "lemonadeUrl", "redis"];
    expect(Object.keys(raw.lemonade).sort()).toEqual(lemonade.filter((k) => !commented.includes(k)).sort());
    expect(Object.keys(raw.gateway).sort()).toEqual(gateway.filter((k) => !commented.includes(k)).sort());
    for (const k of commented) expect(text, k).toMatch(new RegExp(`# ${k}:`));
  });
});
