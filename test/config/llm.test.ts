// thon.yaml's lemonade and gateway sections: defaults and the rules that
// refuse what Lemonade or the target APISIX would refuse or ignore.
import { describe, expect, it } from "vitest";
import { parseThonFile } from "../../infra/config/load.ts";
import { eventYaml, problemsOf } from "../support/events.ts";

const on = (lemonade = "", gateway = "") => `lemonade:\n  enabled: true\n${lemonade}gateway:\n  enabled: true\n${gateway}`;

describe("thon.yaml: lemonade and gateway", () => {
  it("defaults: Lemonade 11.7's paths pinned for every release, the original's models, APISIX 3.15 per-user", () => {
    const f = parseThonFile(eventYaml({ a: ["x"] }, on()));
    expect(f.lemonade).toMatchObject({ version: "11.7", port: 13305, maxParallel: 16, backend: "auto", user: "lemonade", kilo: { indexing: true, bash: "ask" } });
    expect(f.lemonade.host).toBeUndefined();
    expect(f.lemonade.paths).toEqual({ unitDir: "/etc/systemd/system", cacheDir: "/var/lib/lemonade/.cache/lemonade", envFile: "/etc/thon/lemond.env", systemctl: "systemctl", lemond: "/usr/bin/lemond" });
    expect(f.lemonade.chatModel).toMatchObject({ checkpoint: "unsloth/gemma-4-31B-it-GGUF:Q8_K_XL", ctxPerUser: 262144 });
    expect(f.lemonade.embeddingModel).toMatchObject({ dimension: 768, ctxPerUser: 32768 });
    expect(f.gateway).toMatchObject({ apisixVersion: "3.15", mode: "per-user", port: 9080, limit: { tokens: 100000, windowSeconds: 3600 } });
  });

  it("refuses a flag Lemonade manages, naming lemonade.llamacppArgs[i] and its line", () => {
    const text = eventYaml({ a: ["x"] }, on("  llamacppArgs: [--flash-attn, 'on', --ctx-size, '8192', --port=1]\n"));
    const problems = problemsOf(text);
    expect(problems).toEqual([
      expect.stringMatching(/^9:38 lemonade\.llamacppArgs\[2\]: "--ctx-size": --ctx-size is managed by Lemonade 11\.7 itself, which refuses to load a model given it\. Fix: remove it/),
      expect.stringMatching(/^9:58 lemonade\.llamacppArgs\[4\]: "--port=1": --port is managed by Lemonade 11\.7/),
    ]);
  });

  it.each([
    ["THON's own -np", on("  llamacppArgs: [-np, '4']\n"), 'lemonade.llamacppArgs[0]: "-np": -np is set by THON from the participant count. Fix: remove it; lemonade.maxParallel caps'],
    ["-ngl on Lemonade 10.1, which still reserved it", on('  version: "10.1"\n  llamacppArgs: [-ngl, "99"]\n'), 'lemonade.llamacppArgs[0]: "-ngl": -ngl is managed by Lemonade 10.1'],
    ["an argument with a space", on("  llamacppArgs: ['-t 8']\n"), "one flag or value per item, without spaces"],
    ["a Lemonade before 10.1", on('  version: "10.0"\n'), 'lemonade.version: "10.0": Lemonade 10.0 predates the lemond daemon'],
    ["a checkpoint without its variant", on("  chatModel: { name: m, checkpoint: unsloth/m-GGUF, ctxPerUser: 4096 }\n").replace("checkpoint: unsloth/m-GGUF", "checkpoint: 'unsloth m'"), "a checkpoint is \"<hugging face repo>:<variant>\""],
    ["an embedding model without its dimension", on("  embeddingModel: { name: e, checkpoint: a/e-GGUF:Q8_0, ctxPerUser: 1024 }\n"), "lemonade.embeddingModel.dimension: is required"],
    ["sandboxes cut off the network", on() + "sandbox:\n  network: none\n", 'sandbox.network: "none": sandboxes on network "none" cannot reach Lemonade'],
    ["lemond on loopback without the gateway", "lemonade:\n  enabled: true\n  host: 127.0.0.1\n", "lemonade.host: \"127.0.0.1\": lemond on 127.0.0.1 cannot be reached from the sandboxes' containers"],
    ["token limits on an APISIX that shares one counter", on("", "  apisixVersion: '3.14'\n"), "gateway.limit: APISIX 3.14 keeps one token counter per route"],
    ["a '-' in a participant's consumer name before 3.13", on("", "  apisixVersion: '3.12'\n  limit: false\n"), 'groups.a.users[0]: "x-y": APISIX 3.12 refuses "-" in consumer names'],
  ])("rejects %s", (_what, extra, expected) => {
    const groups = expected.includes("groups.a.users[0]:") ? { a: ["x-y"] } : { a: ["x"] };
    expect(problemsOf(eventYaml(groups, extra)).join("\n")).toContain(expected);
  });

  it("accepts APISIX 3.12 without limits and names without '-', and 3.18 with redis", () => {
    expect(() => parseThonFile(eventYaml({ a: ["x_y"] }, on("", "  apisixVersion: '3.12'\n  limit: false\n")))).not.toThrow();
    expect(() => parseThonFile(eventYaml({ a: ["x"] }, on("", "  apisixVersion: '3.18'\n  redis: { host: 127.0.0.1 }\n")))).not.toThrow();
    expect(() => parseThonFile(eventYaml({ a: ["x"] }, on("  llamacppArgs: [-ngl, '99', --flash-attn, 'on']\n")))).not.toThrow();
  });
});
