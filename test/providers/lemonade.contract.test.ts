// Contract tests of the Lemonade Model provider against a stand-in of
// Lemonade's HTTP API (test/support/lemonadeStandIn.ts), driven through
// Pulumi's dynamic-provider host with the inputs the real program registers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/nginx.ts";
import { startLemonadeStandIn, type LemonadeStandIn } from "../support/lemonadeStandIn.ts";
import { engineSecretOutputs, leakedSecrets, startDynamicProviderHost, type DynamicProviderHost } from "../support/dynamicProviderHost.ts";
import { D, evaluateLlm, inputsOf, record, ROOT } from "../support/llm.ts";
import type { Evaluation, RecordedResource } from "../../infra/preview/evaluate.ts";

let lemonade: LemonadeStandIn;
let host: DynamicProviderHost;
let e: Evaluation;
let adminKey: string;
let apiKey: string;

/** The keys THON generated, as lemond would read them from THON's env file. */
function keysFrom(ev: Evaluation): { api: string; admin: string } {
  const env = String(record(ev, "command:local:Command", "thon-lemonade-env").inputs.stdin);
  return { api: /LEMONADE_API_KEY=(\S+)/.exec(env)![1]!, admin: /LEMONADE_ADMIN_API_KEY=(\S+)/.exec(env)![1]! };
}

beforeAll(async () => {
  lemonade = await startLemonadeStandIn();
  e = await evaluateLlm({ alpha: ["alice", "bob"], beta: ["carol"] }, { apiUrl: lemonade.url, gateway: false });
  ({ api: apiKey, admin: adminKey } = keysFrom(e));
  lemonade.apiKey = apiKey;
  lemonade.adminKey = adminKey;
  host = await startDynamicProviderHost({ root: ROOT });
});
afterAll(async () => {
  await host?.stop();
  await lemonade?.close();
});

function expectNoLeaks(r: RecordedResource, properties: Record<string, unknown>) {
  expect(leakedSecrets(properties, [adminKey, apiKey], engineSecretOutputs(r.secretInputs, r.options.additionalSecretOutputs))).toEqual([]);
}

describe("contract: the Lemonade Model provider in Pulumi's dynamic-provider host", () => {
  it("create registers (pull with a user. name), downloads and loads with THON's options, using the admin key", async () => {
    const r = record(e, D.model, "thon-lemonade-chat");
    expect(r.secretInputs).toContain("adminKey");
    const { inputs, failures } = await host.check(r.urn, {}, inputsOf(r));
    expect(failures).toEqual([]);
    const created = await host.create(r.urn, inputs);
    expect(created.id).toBe("user.gemma-4-31b-it");
    expect(lemonade.models.get("user.gemma-4-31b-it")).toMatchObject({ checkpoint: "unsloth/gemma-4-31B-it-GGUF:Q8_K_XL", recipe: "llamacpp", downloaded: true });
    // Three participants: three slots of 262144 tokens.
    expect(lemonade.loaded.get("user.gemma-4-31b-it")!.options).toEqual({ ctx_size: 786432, llamacpp_args: "-np 3" });
    expect(lemonade.saved.get("user.gemma-4-31b-it")).toEqual({ ctx_size: 786432, llamacpp_args: "-np 3" });
    const pull = lemonade.log.find((l) => l.path === "/api/v1/pull")!;
    expect(pull.headers.authorization).toBe(`Bearer ${adminKey}`);
    expect(pull.body).toMatchObject({ model_name: "user.gemma-4-31b-it", do_not_upgrade: true, stream: false });
    expectNoLeaks(r, created.properties);

    // Again (idempotent): the same registration and the same options change nothing.
    await host.create(r.urn, inputs);
    expect(lemonade.loaded.get("user.gemma-4-31b-it")!.loads).toBe(1);

    const read = await host.read(r.urn, created.id, created.properties);
    expect(read.inputs).toMatchObject({ model: "user.gemma-4-31b-it", checkpoint: inputs.checkpoint, embedding: false });
    expect((await host.diff(r.urn, created.id, read.properties, inputs)).changes).toBe("none");
    expectNoLeaks(r, read.properties);
  });

  it("the embedding model is registered with the embedding label", async () => {
    const r = record(e, D.model, "thon-lemonade-embedding");
    const created = await host.create(r.urn, inputsOf(r));
    expect(lemonade.models.get(created.id)!.labels).toEqual(["embeddings"]);
    expect(lemonade.loaded.get(created.id)!.options).toEqual({ ctx_size: 98304, llamacpp_args: "-np 3" });
  });

  it("a new participant count reloads the model in place; a new name replaces it; a new checkpoint re-registers", async () => {
    const r = record(e, D.model, "thon-lemonade-chat");
    const olds = (await host.create(r.urn, inputsOf(r))).properties;
    const bigger = await evaluateLlm({ alpha: ["alice", "bob", "dave"], beta: ["carol"] }, { apiUrl: lemonade.url, gateway: false });
    const news = inputsOf(record(bigger, D.model, "thon-lemonade-chat"));
    expect(await host.diff(r.urn, "user.gemma-4-31b-it", olds, news)).toMatchObject({ changes: "some", replaces: [] });
    await host.update(r.urn, "user.gemma-4-31b-it", olds, news);
    expect(lemonade.loaded.get("user.gemma-4-31b-it")).toMatchObject({ options: { ctx_size: 1048576, llamacpp_args: "-np 4" }, loads: 2 });

    expect((await host.diff(r.urn, "user.gemma-4-31b-it", olds, { ...news, model: "user.other" })).replaces).toEqual(["model"]);

    const moved = { ...news, checkpoint: "unsloth/gemma-4-31B-it-GGUF:Q4_K_M" };
    await host.update(r.urn, "user.gemma-4-31b-it", news, moved);
    expect(lemonade.models.get("user.gemma-4-31b-it")!.checkpoint).toBe("unsloth/gemma-4-31B-it-GGUF:Q4_K_M");
    expect(lemonade.log.some((l) => l.path === "/api/v1/models/register")).toBe(true);
  });

  it("delete unloads; deleting a model that is not loaded, or with lemond down, is done", async () => {
    const r = record(e, D.model, "thon-lemonade-chat");
    // The name is still registered with the previous test's checkpoint: create converges to the declared one.
    const created = await host.create(r.urn, inputsOf(r));
    expect(lemonade.models.get(created.id)!.checkpoint).toBe("unsloth/gemma-4-31B-it-GGUF:Q8_K_XL");
    await host.delete(r.urn, created.id, created.properties);
    expect(lemonade.loaded.has(created.id)).toBe(false);
    await host.delete(r.urn, created.id, created.properties);
    expect(lemonade.log.at(-1)).toMatchObject({ path: "/api/v1/unload", status: 404 });
    await host.delete(r.urn, created.id, { ...created.properties, apiUrl: `http://127.0.0.1:${await freePort()}` });
  });

  it("waits for a lemond that is still starting", async () => {
    const starting = await startLemonadeStandIn({ apiKey, adminKey, notReadyFor: 2 });
    try {
      const r = record(e, D.model, "thon-lemonade-chat");
      const created = await host.create(r.urn, { ...inputsOf(r), apiUrl: starting.url });
      expect(starting.loaded.has(created.id)).toBe(true);
    } finally {
      await starting.close();
    }
  });

  it("a server that is down fails with a clear error naming its URL", async () => {
    const r = record(e, D.model, "thon-lemonade-chat");
    const url = `http://127.0.0.1:${await freePort()}`;
    const err = await host.create(r.urn, { ...inputsOf(r), apiUrl: url, startTimeoutSeconds: 1 }).then(() => undefined, (x: Error) => x);
    expect(err?.message).toContain(`cannot reach Lemonade at ${url}`);
    expect(err?.message).toContain("connection refused");
    expect(err?.message).toContain("waited 1 s for lemond to start");
    expect(err?.message).toContain("journalctl -u lemond");
  });

  it("Lemonade's own refusals come back with the server, the model, the status and a fix", async () => {
    const r = record(e, D.model, "thon-lemonade-chat");
    const wrongKey = await host.create(r.urn, { ...inputsOf(r), adminKey: "x".repeat(48) }).then(() => undefined, (x: Error) => x);
    expect(wrongKey?.message).toContain(`Lemonade at ${lemonade.url}: set up model "user.gemma-4-31b-it" (POST /api/v1/pull) failed with HTTP 401: Invalid or missing API key`);
    expect(wrongKey?.message).toContain("restart it so it reads THON's env file");

    // A reserved flag that slipped past the config check (which refuses it first, see test/lemonade).
    const reserved = { ...inputsOf(r), load: { ctx_size: 4096, llamacpp_args: "--port=9" } };
    const err = await host.create(r.urn, reserved).then(() => undefined, (x: Error) => x);
    expect(err?.message).toContain("failed with HTTP 500: Failed to load model 'user.gemma-4-31b-it': Invalid custom llama-server arguments:\nArgument '--port' is managed by Lemonade");
  });

  it("check refuses names without user., checkpoints without a variant, and bad URLs", async () => {
    const r = record(e, D.model, "thon-lemonade-chat");
    const { failures } = await host.check(r.urn, {}, { ...inputsOf(r), model: "gemma", checkpoint: "unsloth/gemma-GGUF", apiUrl: "13305" });
    expect(failures.map((f) => f.property).sort()).toEqual(["apiUrl", "checkpoint", "model"]);
  });
});
