// `pulumi up` runs the program with `node --import tsx` (Pulumi.yaml), not
// under vitest: the providers serialized there must work in the engine's
// dynamic-provider host too. This evaluates the program in such a process
// (test/support/dumpProviders.ts) and replays its registrations.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApisixStandIn, type ApisixStandIn } from "../support/apisixStandIn.ts";
import { startLemonadeStandIn, type LemonadeStandIn } from "../support/lemonadeStandIn.ts";
import { startDynamicProviderHost, type DynamicProviderHost } from "../support/dynamicProviderHost.ts";
import { ROOT } from "../support/llm.ts";

interface Registration {
  type: string;
  name: string;
  urn: string;
  inputs: Record<string, unknown>;
}

let apisix: ApisixStandIn;
let lemonade: LemonadeStandIn;
let host: DynamicProviderHost;
let dir: string;
let registrations: Registration[];

beforeAll(async () => {
  apisix = await startApisixStandIn({ version: "3.17", adminKey: "k-admin" });
  lemonade = await startLemonadeStandIn();
  dir = mkdtempSync(join(tmpdir(), "thon-tsx-"));
  const file = join(dir, "thon.yaml");
  writeFileSync(
    file,
    `event: { name: demo, host: 127.0.0.1 }
groups: { alpha: { users: [alice] } }
lemonade: { enabled: true, apiUrl: "${lemonade.url}", startTimeoutSeconds: 2 }
gateway: { enabled: true, apisixVersion: "3.17", adminUrl: "${apisix.adminUrl}" }
`,
  );
  const out = execFileSync(process.execPath, ["--import", "tsx", "test/support/dumpProviders.ts", file, JSON.stringify({ "thon:apisixAdminKey": "k-admin" })], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  registrations = JSON.parse(out) as Registration[];
  host = await startDynamicProviderHost({ root: ROOT });
});
afterAll(async () => {
  await host?.stop();
  await apisix?.close();
  await lemonade?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("contract: providers serialized by the program under tsx (as pulumi up runs it)", () => {
  it("registers every dynamic resource with its serialized provider", () => {
    expect(registrations.map((r) => r.name).sort()).toEqual(["thon-consumer-alice", "thon-gateway-chat", "thon-gateway-embeddings", "thon-lemonade-chat", "thon-lemonade-embedding"]);
    for (const r of registrations) expect(String(r.inputs.__provider)).toContain('require("axios")');
  });

  it("run in the dynamic-provider host: routes, consumer and models are created", async () => {
    const env = registrations.find((r) => r.name === "thon-lemonade-chat")!.inputs;
    lemonade.adminKey = String(env.adminKey);
    lemonade.apiKey = "some-other-api-key";
    for (const r of registrations) {
      const { inputs, failures } = await host.check(r.urn, {}, r.inputs);
      expect(failures).toEqual([]);
      const created = await host.create(r.urn, inputs);
      expect(created.id).not.toBe("");
    }
    expect([...apisix.routes.keys()].sort()).toEqual(["thon-demo-chat", "thon-demo-embeddings"]);
    expect([...apisix.consumers.keys()]).toEqual(["thon_demo_alice"]);
    expect([...lemonade.loaded.keys()].sort()).toEqual(["user.gemma-4-31b-it", "user.nomic-embed-text-v1.5"]);
  });
});
