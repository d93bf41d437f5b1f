// A dynamic provider for one Lemonade model: registered and downloaded
// (POST /api/v1/pull with a `user.` name), then loaded with THON's options
// (POST /api/v1/load). Serialized into state and run by Pulumi's
// dynamic-provider host like the APISIX providers (see apisix.ts for the
// rules: `require` inside methods, no captured keys, errors that say what to
// do, never exit).
//
// Lemonade facts (src/cpp/server/server.cpp, model_manager.cpp @ v11.7.0):
// - /api/* needs `Authorization: Bearer` with LEMONADE_API_KEY or
//   LEMONADE_ADMIN_API_KEY; THON uses the admin key, participants never see it.
// - pull is idempotent for the same registration; with do_not_upgrade it does
//   not ask Hugging Face for updates (re-applies work offline). Without
//   `stream` it blocks until the download ends: a long client timeout.
// - load is declarative: the same options are a no-op, new ones reload.
//   save_options keeps them in recipe_options.json, so a model loaded again
//   after a restart or an eviction gets the same context and slots.
// - Errors: {"error": "…"} or the OpenAI envelope {"error": {"message": …}}.
import * as pulumi from "@pulumi/pulumi";
import { connectionProblem, jsonEqual, replyText } from "./http.ts";

export interface LoadOptions {
  /** llama-server -c for this model. */
  readonly ctx_size: number;
  /** Per-model llama-server flags (merged with config.json's llamacpp.args), e.g. "-np 8". */
  readonly llamacpp_args: string;
}

export interface ModelInputs {
  /** Lemonade as the machine running `pulumi up` reaches it, e.g. http://127.0.0.1:13305. */
  readonly apiUrl: string;
  /** LEMONADE_ADMIN_API_KEY (secret). */
  readonly adminKey: string;
  /** The registered name, "user.<name>". */
  readonly model: string;
  /** "<hugging face repo>:<variant>". */
  readonly checkpoint: string;
  readonly recipe: string;
  readonly embedding: boolean;
  readonly load: LoadOptions;
  /** How long to wait for lemond to answer /live (it may just have been restarted). */
  readonly startTimeoutSeconds: number;
  /** How long one download may take. */
  readonly pullTimeoutSeconds: number;
}

interface LemonadeReply {
  readonly status: number;
  readonly data: unknown;
}

async function lemonadeCall(
  inputs: Pick<ModelInputs, "apiUrl" | "adminKey">,
  method: "GET" | "POST",
  path: string,
  what: string,
  body: unknown,
  timeoutMs: number,
): Promise<LemonadeReply> {
  const axios: typeof import("axios") = require("axios");
  const base = inputs.apiUrl.replace(/\/+$/, "");
  try {
    const res = await axios.default.request({
      method,
      url: `${base}${path}`,
      data: body,
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${inputs.adminKey}` },
      validateStatus: () => true,
      timeout: timeoutMs,
    });
    return { status: res.status, data: res.data };
  } catch (err) {
    const e = new Error(
      `cannot reach Lemonade at ${base} to ${what}: ${connectionProblem(err)}. ` +
        `Fix: check lemond (systemctl status lemond; journalctl -u lemond), or set lemonade.apiUrl in thon.yaml to where it listens`,
    ) as Error & { code?: string };
    e.code = (err as { code?: string }).code;
    throw e;
  }
}

function lemonadeFix(status: number): string {
  if (status === 401) {
    return "Fix: lemond does not have THON's admin key; restart it so it reads THON's env file (systemctl restart lemond), then run pulumi up again";
  }
  if (status === 404) return "Fix: check the model's name and checkpoint in thon.yaml (lemonade.chatModel / lemonade.embeddingModel)";
  if (status === 400) return "Fix: check the model's settings in thon.yaml (checkpoint \"repo:variant\", recipe, llamacppArgs)";
  return "Fix: see lemond's log (journalctl -u lemond), then run pulumi up again";
}

function lemonadeError(inputs: Pick<ModelInputs, "apiUrl">, what: string, reply: LemonadeReply): Error {
  return new Error(`Lemonade at ${inputs.apiUrl.replace(/\/+$/, "")}: ${what} failed with HTTP ${reply.status}: ${replyText(reply.data)}. ${lemonadeFix(reply.status)}`);
}

/** Waits until lemond answers /live (unauthenticated) or the time is up. */
async function waitForLemonade(inputs: ModelInputs, what: string): Promise<void> {
  const deadline = Date.now() + Math.max(0, inputs.startTimeoutSeconds) * 1000;
  for (;;) {
    try {
      const reply = await lemonadeCall(inputs, "GET", "/live", what, undefined, 5_000);
      if (reply.status === 200) return;
      if (Date.now() >= deadline) throw lemonadeError(inputs, `${what} (GET /live)`, reply);
    } catch (err) {
      if (Date.now() >= deadline) {
        throw new Error(`${(err as Error).message} (waited ${inputs.startTimeoutSeconds} s for lemond to start)`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

async function pull(inputs: ModelInputs, what: string, register: boolean): Promise<void> {
  const registration = {
    model_name: inputs.model,
    checkpoint: inputs.checkpoint,
    recipe: inputs.recipe,
    ...(inputs.embedding ? { embedding: true } : {}),
  };
  if (register) {
    // A changed checkpoint under the same name: pull refuses ("already registered with
    // different model metadata"); models/register replaces a user.* definition.
    const reply = await lemonadeCall(inputs, "POST", "/api/v1/models/register", `${what} (register)`, registration, 60_000);
    if (reply.status !== 200) throw lemonadeError(inputs, `${what} (POST /api/v1/models/register)`, reply);
  }
  const reply = await lemonadeCall(
    inputs,
    "POST",
    "/api/v1/pull",
    `${what} (download)`,
    { ...registration, do_not_upgrade: true, stream: false },
    Math.max(1, inputs.pullTimeoutSeconds) * 1000,
  );
  if (reply.status !== 200) throw lemonadeError(inputs, `${what} (POST /api/v1/pull)`, reply);
}

async function load(inputs: ModelInputs, what: string): Promise<void> {
  const reply = await lemonadeCall(
    inputs,
    "POST",
    "/api/v1/load",
    `${what} (load)`,
    { model_name: inputs.model, ctx_size: inputs.load.ctx_size, llamacpp_args: inputs.load.llamacpp_args, save_options: true },
    Math.max(1, inputs.pullTimeoutSeconds) * 1000,
  );
  if (reply.status !== 200) throw lemonadeError(inputs, `${what} (POST /api/v1/load)`, reply);
}

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const modelProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: ModelInputs, news: ModelInputs) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (news.apiUrl !== UNKNOWN && !(typeof news.apiUrl === "string" && /^https?:\/\/[^/\s]+/.test(news.apiUrl))) {
      failures.push({ property: "apiUrl", reason: `apiUrl must be Lemonade's http(s) URL, such as http://127.0.0.1:13305; got ${JSON.stringify(news.apiUrl)}` });
    }
    if (news.model !== UNKNOWN && !(typeof news.model === "string" && /^user\.[A-Za-z0-9][A-Za-z0-9._-]*$/.test(news.model))) {
      // Lemonade: "Registered model definitions must use a non-empty `user.*` name".
      failures.push({ property: "model", reason: `a registered model's name is "user.<name>"; got ${JSON.stringify(news.model)}` });
    }
    if (news.checkpoint !== UNKNOWN && !(typeof news.checkpoint === "string" && /^[^\s:]+\/[^\s:]+:[^\s:]+$/.test(news.checkpoint))) {
      // Lemonade refuses a GGUF checkpoint without its variant (validate_registration_checkpoint).
      failures.push({ property: "checkpoint", reason: `a GGUF checkpoint is "<repo>:<variant>", e.g. "unsloth/gemma-4-31B-it-GGUF:Q8_K_XL"; got ${JSON.stringify(news.checkpoint)}` });
    }
    const l = news.load as unknown;
    if (l !== UNKNOWN && (l === null || typeof l !== "object" || !Number.isInteger((l as LoadOptions).ctx_size) || typeof (l as LoadOptions).llamacpp_args !== "string")) {
      failures.push({ property: "load", reason: "load must be { ctx_size: integer, llamacpp_args: string }" });
    }
    return { inputs: news, failures };
  },

  async diff(_id: string, olds: ModelInputs, news: ModelInputs) {
    // Another server or another name is another model. A new checkpoint under the
    // same name is re-registered in place (update), which keeps clients' model id.
    const replaces = (["apiUrl", "model"] as const).filter((k) => olds[k] !== news[k]);
    const keys = ["checkpoint", "recipe", "embedding", "load", "adminKey", "startTimeoutSeconds", "pullTimeoutSeconds"] as const;
    const changes = replaces.length > 0 || keys.some((k) => !jsonEqual(olds[k], news[k]));
    return { changes, replaces };
  },

  async create(inputs: ModelInputs) {
    const what = `set up model "${inputs.model}"`;
    await waitForLemonade(inputs, what);
    try {
      await pull(inputs, what, false);
    } catch (err) {
      // The name is registered with another checkpoint (state lost, or an earlier
      // event): converge to what thon.yaml says, as update would.
      if (!/already registered with different model metadata/.test((err as Error).message)) throw err;
      await pull(inputs, what, true);
    }
    // A failed load leaves the download in place on purpose: fetching tens of
    // GB again is worse than a registered, unloaded model; the next up retries.
    await load(inputs, what);
    return { id: inputs.model, outs: { ...inputs } };
  },

  async read(id: string, props: ModelInputs) {
    const what = `read model "${id}"`;
    const reply = await lemonadeCall(props, "GET", `/api/v1/models/${encodeURIComponent(id)}`, what, undefined, 30_000);
    if (reply.status === 404) return { id: "", props: {} };
    if (reply.status !== 200) throw lemonadeError(props, `${what} (GET /api/v1/models/${id})`, reply);
    const info = reply.data as { checkpoint?: string; recipe?: string; labels?: string[] };
    const state: ModelInputs = {
      ...props,
      model: id,
      checkpoint: info.checkpoint ?? props.checkpoint,
      recipe: info.recipe ?? props.recipe,
      embedding: Array.isArray(info.labels) ? info.labels.includes("embeddings") : props.embedding,
    };
    return { id, props: state, inputs: state };
  },

  async update(_id: string, olds: ModelInputs, news: ModelInputs) {
    const what = `update model "${news.model}"`;
    await waitForLemonade(news, what);
    const registrationChanged = olds.checkpoint !== news.checkpoint || olds.recipe !== news.recipe || olds.embedding !== news.embedding;
    if (registrationChanged) await pull(news, what, true);
    await load(news, what);
    return { outs: { ...news } };
  },

  async delete(id: string, props: ModelInputs) {
    // Unload only: the download stays on disk (free it with `lemonade delete <model>`).
    const what = `unload model "${id}"`;
    let reply: LemonadeReply;
    try {
      reply = await lemonadeCall(props, "POST", "/api/v1/unload", what, { model_name: id }, 60_000);
    } catch (err) {
      // lemond not running: nothing is loaded, which is what delete wants.
      if ((err as { code?: string }).code === "ECONNREFUSED") return;
      throw err;
    }
    if (reply.status === 200 || reply.status === 404) return; // 404 "Model not loaded": done
    throw lemonadeError(props, `${what} (POST /api/v1/unload)`, reply);
  },
};

export interface ModelArgs {
  readonly apiUrl: pulumi.Input<string>;
  readonly adminKey: pulumi.Input<string>;
  readonly model: pulumi.Input<string>;
  readonly checkpoint: pulumi.Input<string>;
  readonly recipe: pulumi.Input<string>;
  readonly embedding: pulumi.Input<boolean>;
  readonly load: pulumi.Input<LoadOptions>;
  readonly startTimeoutSeconds: pulumi.Input<number>;
  readonly pullTimeoutSeconds: pulumi.Input<number>;
}

/** A Lemonade model, downloaded and loaded (`pulumi-nodejs:dynamic/lemonade:Model`). */
export class Model extends pulumi.dynamic.Resource {
  declare public readonly model: pulumi.Output<string>;
  declare public readonly load: pulumi.Output<LoadOptions>;

  constructor(name: string, args: ModelArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      modelProvider,
      name,
      { ...args, adminKey: pulumi.secret(args.adminKey) },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["adminKey"] }),
      "lemonade",
      "Model",
    );
  }
}

export const LEMONADE_REPLACE_KEYS = {
  "pulumi-nodejs:dynamic/lemonade:Model": ["apiUrl", "model"],
} as const;
