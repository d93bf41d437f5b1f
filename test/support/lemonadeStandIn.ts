// A stand-in for Lemonade Server's HTTP API (lemond can't run here), after
// src/cpp/server/server.cpp, model_manager.cpp, router.cpp and
// llamacpp_server.cpp at v11.7.0:
// - /api/*, /v0/*, /v1/* need `Authorization: Bearer` equal to
//   LEMONADE_API_KEY or LEMONADE_ADMIN_API_KEY (the admin key defaults to the
//   API key); else 401 {"error":"Invalid or missing API key"}. /live is open.
// - Every endpoint answers under /api/v0, /api/v1, /v0 and /v1.
// - pull: definitions need a `user.` name (400), a GGUF checkpoint needs its
//   variant (500), the same name with another checkpoint is a 500, the same
//   registration again is fine; 200 {"status":"success","model_name":…}.
// - models/register replaces a user.* definition.
// - load: model_name required (400 OpenAI envelope), unknown model 404
//   model_not_found, a reserved llama.cpp flag 500 model_load_error; the
//   same options again are a no-op, new ones reload.
// - unload: 404 {"error":"Model not loaded: <n>"} when it is not loaded.
// - chat/completions and embeddings answer with `usage`, as llama-server does.
// - Monitoring (docs/api/lemonade.md at v11.7.0): stats (the last request's
//   figures plus *_total counters since start), system-stats (cpu_percent,
//   memory_gb, gpu_percent, vram_gb, npu_percent; since 9.3.0), slots
//   (llama.cpp's /slots of the loaded LLM, proxied; since 10.4.0).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// Lemonade 11.7.0's reserved flags (llamacpp_server.cpp push_arg/push_reserved), written out
// from the source on their own so this stand-in is not THON's list checking itself.
const RESERVED_11_7 = [
  "-m", "--model", "-hf", "--hf-repo", "-mr", "--hf-file", "-mf", "--ctx-size", "-c", "--device", "-dev", "--port",
  "--jinja", "--no-jinja", "--metrics", "--mmproj", "-mm", "-mmu", "--mmproj-url", "--no-mmproj", "--mmproj-auto",
  "--no-mmproj-auto", "--no-mmproj-offload", "--model-draft", "-md", "--spec-draft-model", "--embeddings", "--embedding",
  "--reranking", "--rerank",
];

export interface RegisteredModel {
  checkpoint: string;
  recipe: string;
  labels: string[];
  downloaded: boolean;
}

export interface LoadedModel {
  options: Record<string, unknown>;
  loads: number;
}

export interface LemonadeStandIn {
  readonly url: string;
  readonly models: Map<string, RegisteredModel>;
  readonly loaded: Map<string, LoadedModel>;
  readonly saved: Map<string, Record<string, unknown>>;
  /** Requests as received (path, headers, parsed body). */
  readonly log: Array<{ method: string; path: string; headers: Record<string, string | string[] | undefined>; body: unknown; status: number }>;
  /** Tokens each chat completion reports as used. */
  completionTokens: number;
  /** LEMONADE_API_KEY and LEMONADE_ADMIN_API_KEY (the admin key defaults to the API key); may be set after start. */
  apiKey: string | undefined;
  adminKey: string | undefined;
  close(): Promise<void>;
}

export interface LemonadeStandInOptions {
  readonly apiKey?: string;
  readonly adminKey?: string;
  /** Answer /live with 503 for the first N calls (a lemond that is still starting). */
  readonly notReadyFor?: number;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
};

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const POST_ONLY = new Set(["pull", "load", "unload", "models/register", "chat/completions", "embeddings", "delete"]);

export async function startLemonadeStandIn(options: LemonadeStandInOptions = {}): Promise<LemonadeStandIn> {
  const models = new Map<string, RegisteredModel>();
  const loaded = new Map<string, LoadedModel>();
  const saved = new Map<string, Record<string, unknown>>();
  const log: LemonadeStandIn["log"] = [];
  let notReady = options.notReadyFor ?? 0;
  let requests = 0;

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const raw = await body(req);
    let parsed: unknown;
    const reply = (status: number, payload: unknown) => {
      log.push({ method: req.method ?? "", path: url.pathname, headers: req.headers, body: parsed, status });
      json(res, status, payload);
    };
    if (url.pathname === "/live") {
      if (notReady > 0) {
        notReady--;
        return reply(503, { status: "starting" });
      }
      return reply(200, { status: "ok" });
    }
    const m = /^\/(?:api\/)?v[01]\/(.+)$/.exec(url.pathname);
    if (!m) return reply(404, { error: "Not Found" });
    const apiKey = standIn.apiKey;
    const adminKey = standIn.adminKey ?? standIn.apiKey;
    if (apiKey !== undefined && req.method !== "OPTIONS") {
      const auth = req.headers.authorization ?? "";
      const token = auth.length >= 7 && auth.startsWith("Bearer ") ? auth.slice(7) : undefined;
      if (token !== apiKey && token !== adminKey) return reply(401, { error: "Invalid or missing API key" });
    }
    const endpoint = m[1]!;
    const route = endpoint.startsWith("models/") && endpoint !== "models/register" ? "models/{id}" : endpoint;
    if (POST_ONLY.has(route) && req.method !== "POST") return reply(405, { error: "Method Not Allowed. Use POST for this endpoint" });
    if (["pull", "load", "models/register"].includes(route)) {
      if (raw.trim() === "") return reply(400, { error: "Request body is required but was empty" });
    }
    if (raw.trim() !== "") {
      try {
        parsed = JSON.parse(raw);
      } catch (err) {
        return reply(400, { error: `Invalid JSON in request body: ${(err as Error).message}` });
      }
    }
    const b = (parsed ?? {}) as Record<string, unknown>;
    const notFound = (name: string) =>
      reply(404, {
        error: {
          message: `Model '${name}' was not found. Available models include: ${[...models.keys()].join(", ")}. Use 'lemonade list' or GET /api/v1/models?show_all=true to see all available models.`,
          type: "not_found",
          param: "model",
          code: "model_not_found",
          requested_model: name,
        },
      });

    switch (route) {
      case "health":
        return reply(200, {
          status: "ok",
          version: "11.7.0",
          model_loaded: [...loaded.keys()].at(-1) ?? null,
          all_models_loaded: [...loaded.entries()].map(([name, l]) => ({
            model_name: name,
            checkpoint: models.get(name)?.checkpoint,
            type: models.get(name)?.labels.includes("embeddings") ? "embedding" : "llm",
            recipe: models.get(name)?.recipe,
            recipe_options: l.options,
            loaded: true,
          })),
          max_models: { llm: 1, embedding: 1 },
        });
      case "stats":
        return reply(200, {
          time_to_first_token: requests > 0 ? 0.12 : null,
          tokens_per_second: requests > 0 ? 42.5 : null,
          input_tokens: requests > 0 ? 10 : null,
          output_tokens: requests > 0 ? standIn.completionTokens : null,
          prompt_tokens: requests > 0 ? 10 : null,
          decode_token_times: [],
          request_count_total: requests,
          input_tokens_total: requests * 10,
          output_tokens_total: requests * standIn.completionTokens,
        });
      case "system-stats":
        return reply(200, { cpu_percent: 12.5, memory_gb: 3.2, gpu_percent: null, vram_gb: null, npu_percent: null });
      case "slots": {
        const llm = [...loaded.keys()].find((n) => !models.get(n)?.labels.includes("embeddings"));
        if (!llm) return reply(404, { error: "No llama.cpp model is loaded" });
        return reply(200, [{ id: 0, n_ctx: 8192, is_processing: false, params: {}, next_token: { n_decoded: 0 } }]);
      }
      case "models": {
        const all = url.searchParams.get("show_all") === "true";
        return reply(200, { object: "list", data: [...models.entries()].filter(([, m]) => all || m.downloaded).map(([id, m]) => info(id, m)) });
      }
      case "models/{id}": {
        const id = decodeURIComponent(endpoint.slice("models/".length));
        const model = models.get(id);
        return model ? reply(200, info(id, model)) : notFound(id);
      }
      case "models/register":
      case "pull": {
        const name = String(b.model_name ?? b.model ?? "");
        const defining = b.checkpoint !== undefined || b.recipe !== undefined;
        if (defining && (!name.startsWith("user.") || name === "user.")) {
          return reply(400, { error: `Registered model definitions must use a non-empty \`user.*\` name, for example \`user.Phi-4-Mini-GGUF\`. Received: ${name}` });
        }
        if (!defining && !models.has(name)) {
          return reply(400, { error: "When registering a new model, the model name must include the `user` namespace, for example `user.Phi-4-Mini-GGUF`.", code: "unknown_model" });
        }
        const checkpoint = String(b.checkpoint ?? models.get(name)?.checkpoint ?? "");
        if (/gguf/i.test(checkpoint) && !checkpoint.includes(":")) {
          return reply(500, { error: "You are required to provide a 'variant' in the checkpoint field when registering a GGUF model. The variant is provided as CHECKPOINT:VARIANT." });
        }
        const labels = [b.embedding === true ? "embeddings" : undefined, b.reranking === true ? "reranking" : undefined].filter((x): x is string => !!x);
        const definition = { checkpoint, recipe: String(b.recipe ?? models.get(name)?.recipe ?? "llamacpp"), labels };
        const existing = models.get(name);
        if (route === "pull" && existing && defining && existing.checkpoint !== definition.checkpoint) {
          return reply(500, { error: `Model '${name}' is already registered with different model metadata: checkpoint ${existing.checkpoint} != ${definition.checkpoint}. Choose a different model name for this registry checkpoint.` });
        }
        if (route === "models/register") {
          models.set(name, { ...definition, downloaded: existing?.downloaded === true && existing.checkpoint === checkpoint });
          return reply(200, { status: "success", model_name: name, canonical_model_name: name, model: info(name, models.get(name)!) });
        }
        models.set(name, { ...(existing ?? definition), ...(defining ? definition : {}), downloaded: true });
        return reply(200, { status: "success", model_name: name });
      }
      case "load": {
        if (typeof b.model_name !== "string") {
          return reply(400, { error: { message: "Invalid request: model_name is required", type: "invalid_request_error", code: "invalid_request" } });
        }
        const name = b.model_name;
        if (!models.has(name)) return notFound(name);
        const args = String(b.llamacpp_args ?? "").split(/\s+/).filter(Boolean);
        const bad = args.find((a) => a.startsWith("-") && RESERVED_11_7.includes(a.split("=")[0]!));
        if (bad) {
          return reply(500, {
            error: {
              message: `Failed to load model '${name}': Invalid custom llama-server arguments:\nArgument '${bad.split("=")[0]}' is managed by Lemonade and cannot be overridden.\nReserved arguments: ${[...RESERVED_11_7].sort().join(", ")}`,
              type: "model_load_error",
              param: "model",
              code: "model_load_error",
              requested_model: name,
            },
          });
        }
        const { model_name: _n, save_options, ...opts } = b;
        const current = loaded.get(name);
        if (!current || JSON.stringify(current.options) !== JSON.stringify(opts)) loaded.set(name, { options: opts, loads: (current?.loads ?? 0) + 1 });
        if (save_options === true) saved.set(name, opts);
        models.get(name)!.downloaded = true;
        return reply(200, { status: "success", model_name: name, checkpoint: models.get(name)!.checkpoint, recipe: models.get(name)!.recipe });
      }
      case "unload": {
        const name = (b.model_name ?? b.model) as string | undefined;
        if (name === undefined) {
          loaded.clear();
          return reply(200, { status: "success", message: "All models unloaded successfully" });
        }
        if (!loaded.delete(name)) return reply(404, { error: `Model not loaded: ${name}` });
        return reply(200, { status: "success", message: "Model unloaded successfully", model_name: name });
      }
      case "chat/completions": {
        const name = String(b.model ?? "");
        if (!models.has(name)) return notFound(name);
        requests++;
        const messages = (b.messages ?? []) as Array<{ content?: unknown }>;
        const prompt = messages.reduce((n, msg) => n + JSON.stringify(msg.content ?? "").split(/\s+/).length, 0);
        const completion = standIn.completionTokens;
        return reply(200, {
          id: "chatcmpl-standin",
          object: "chat.completion",
          created: Math.floor(Date.now() / 1000),
          model: name,
          choices: [{ index: 0, message: { role: "assistant", content: `hello from ${name}` }, finish_reason: "stop" }],
          usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
        });
      }
      case "embeddings": {
        const name = String(b.model ?? "");
        if (!models.has(name)) return notFound(name);
        const inputs = Array.isArray(b.input) ? (b.input as unknown[]) : [b.input];
        const vector = Array.from({ length: 8 }, (_, i) => i / 8);
        const encoded = Buffer.from(new Float32Array(vector).buffer).toString("base64");
        return reply(200, {
          object: "list",
          model: name,
          data: inputs.map((_, index) => ({ object: "embedding", index, embedding: b.encoding_format === "base64" ? encoded : vector })),
          usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
        });
      }
      default:
        return reply(404, { error: "Not Found" });
    }
  });

  const info = (id: string, m: RegisteredModel) => ({
    id,
    object: "model",
    created: 1234567890,
    owned_by: "lemonade",
    checkpoint: m.checkpoint,
    recipe: m.recipe,
    downloaded: m.downloaded,
    labels: m.labels,
    recipe_options: saved.get(id) ?? {},
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const standIn: LemonadeStandIn = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    models,
    loaded,
    saved,
    log,
    completionTokens: 5,
    apiKey: options.apiKey,
    adminKey: options.adminKey,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
  return standIn;
}
