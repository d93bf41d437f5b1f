// A stand-in for APISIX (no APISIX can run here): the Admin API v3 for the
// objects THON uses, and a small data plane (key-auth, ai-proxy-multi,
// ai-rate-limiting, proxy-rewrite, upstream) so real clients can be pointed
// at it. Behaviour follows apache/apisix's sources at the tags in the
// research notes:
// - admin/init.lua check_token: 401 {"error_msg":"failed to check token","description":…};
// - resource.lua / core/etcd.lua: PUT 201 created / 200 replaced with
//   {key, value} (no indexes), GET {key, value, createdIndex, modifiedIndex},
//   DELETE 200 {"deleted":"1","key":…}, missing 404 {"message":"Key not found"};
//   create_time/update_time in a body: 400 "the property is forbidden:  create_time";
// - schema errors: routes "invalid configuration: …", plugins
//   "failed to check the configuration of plugin <p> err: …", consumers
//   "invalid plugins configuration: …", username ≠ path "wrong username";
// - plugin defaults are stored with the object (jsonschema default injection);
// - encrypted fields (key-auth key, ai-proxy auth headers) come back from PUT
//   as ciphertext and from GET decrypted;
// - key-auth: exact lookup of the configured header's value, 401
//   "Missing API key in request" / "Invalid API key in request";
// - ai-rate-limiting counts per consumer from 3.15, per route before; rejects
//   with rejected_code (default 503); consumer plugins override route plugins;
// - ai-proxy-multi: options overwrite body fields; override.endpoint is the
//   full URL up to 3.16, from 3.17 the path comes from the protocol when the
//   endpoint has none.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";

const at = (v: string, min: string) => {
  const a = v.split(".").map(Number), b = min.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
};

type Obj = Record<string, unknown>;
interface Stored {
  value: Obj;
  createdIndex: number;
  modifiedIndex: number;
}

export interface ApisixStandInOptions {
  /** The APISIX release to behave like. */
  readonly version: string;
  /** deployment.admin.admin_key; undefined: no key required. */
  readonly adminKey?: string;
}

export interface ApisixStandIn {
  readonly adminUrl: string;
  readonly proxyUrl: string;
  readonly routes: Map<string, Stored>;
  readonly consumers: Map<string, Stored>;
  /** Every Admin API request, for assertions. */
  readonly adminLog: Array<{ method: string; path: string; status: number; body: unknown }>;
  /** The prometheus plugin's export server (plugin_attr.prometheus.export_addr, 127.0.0.1:9091 by default; any free port here). */
  readonly metricsUrl: string;
  /** An APISIX restart: the shared dicts (token counters, rate-limit counters) start from zero. */
  restart(): void;
  close(): Promise<void>;
}

class SchemaError extends Error {}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const fail = (msg: string): never => {
  throw new SchemaError(msg);
};
function int(conf: Obj, key: string, min?: number, max?: number, exclusiveMin = false) {
  const v = conf[key];
  if (v === undefined) return;
  if (typeof v !== "number" || !Number.isInteger(v)) fail(`property "${key}" validation failed: wrong type: expected integer, got ${typeof v}`);
  const n = v as number;
  if (min !== undefined && (exclusiveMin ? n <= min : n < min)) fail(`property "${key}" validation failed: expected ${n} to be ${exclusiveMin ? "greater than" : "at least"} ${min}`);
  if (max !== undefined && n > max) fail(`property "${key}" validation failed: expected ${n} to be at most ${max}`);
}
function str(conf: Obj, key: string, required = false) {
  const v = conf[key];
  if (v === undefined) return required ? fail(`property "${key}" is required`) : undefined;
  if (typeof v !== "string") fail(`property "${key}" validation failed: wrong type: expected string, got ${typeof v}`);
}
function bool(conf: Obj, key: string) {
  const v = conf[key];
  if (v !== undefined && typeof v !== "boolean") fail(`property "${key}" validation failed: wrong type: expected boolean, got ${typeof v}`);
}
function only(conf: Obj, allowed: string[]) {
  for (const k of Object.keys(conf)) if (!allowed.includes(k)) fail(`additional properties forbidden, found ${k}`);
}
const withDefault = (conf: Obj, key: string, value: unknown) => {
  if (conf[key] === undefined) conf[key] = value;
};

/** Plugin schemas for what THON uses; each checks and injects defaults in place. */
function checkPlugin(version: string, name: string, conf: unknown, where: "route" | "consumer"): void {
  if (!isObj(conf)) fail("wrong type: expected object");
  const c = conf as Obj;
  switch (name) {
    case "key-auth":
      if (where === "consumer") {
        str(c, "key", true);
      } else {
        str(c, "header");
        str(c, "query");
        bool(c, "hide_credentials");
        withDefault(c, "header", "apikey");
        withDefault(c, "query", "apikey");
        withDefault(c, "hide_credentials", false);
      }
      return;
    case "ai-proxy-multi": {
      const inst = c.instances;
      if (!Array.isArray(inst)) return fail('property "instances" is required');
      if (inst.length < 1) fail('property "instances" validation failed: expect array to have at least 1 items');
      const providers = at(version, "3.13") ? ["openai", "deepseek", "aimlapi", "anthropic", "openai-compatible", "azure-openai", "openrouter", "gemini", "vertex-ai", "bedrock"] : ["openai", "deepseek", "openai-compatible"];
      inst.forEach((i: unknown, n: number) => {
        if (!isObj(i)) fail(`property "instances" validation failed: failed to validate item ${n + 1}: wrong type: expected object`);
        const o = i as Obj;
        for (const r of ["name", "provider", "auth", "weight"]) if (o[r] === undefined) fail(`property "instances" validation failed: failed to validate item ${n + 1}: property "${r}" is required`);
        if (!providers.includes(String(o.provider))) fail(`property "instances" validation failed: failed to validate item ${n + 1}: property "provider" validation failed: matches none of the enum values`);
        int(o, "weight", 0);
        if (!isObj(o.auth)) fail(`property "instances" validation failed: failed to validate item ${n + 1}: property "auth" validation failed: wrong type: expected object`);
        for (const k of Object.keys(o.auth as Obj)) if (!["header", "query", "gcp", "aws"].includes(k)) fail(`property "instances" validation failed: failed to validate item ${n + 1}: property "auth" validation failed: additional properties forbidden, found ${k}`);
        const endpoint = (o.override as Obj | undefined)?.endpoint;
        if (endpoint !== undefined) {
          try {
            new URL(String(endpoint));
          } catch {
            fail("invalid endpoint");
          }
        }
        withDefault(o, "priority", 0);
      });
      int(c, "timeout", 1, at(version, "3.17") ? 600000 : undefined);
      withDefault(c, "timeout", 30000);
      withDefault(c, "keepalive", true);
      withDefault(c, "keepalive_pool", 30);
      withDefault(c, "ssl_verify", true);
      withDefault(c, "balancer", { algorithm: "roundrobin" });
      return;
    }
    case "ai-rate-limiting": {
      int(c, "limit", 0, undefined, true);
      int(c, "time_window", 0, undefined, true);
      if ((c.limit === undefined) !== (c.time_window === undefined)) fail("value should match only one schema, but matches none");
      if (c.limit === undefined && c.instances === undefined && c.rules === undefined) fail("value should match only one schema, but matches none");
      const strategies = ["total_tokens", "prompt_tokens", "completion_tokens", ...(at(version, "3.17") ? ["expression"] : [])];
      if (c.limit_strategy !== undefined && !strategies.includes(String(c.limit_strategy))) fail('property "limit_strategy" validation failed: matches none of the enum values');
      int(c, "rejected_code", 200, 599);
      if (c.rejected_msg !== undefined && (typeof c.rejected_msg !== "string" || c.rejected_msg.length < 1)) fail('property "rejected_msg" validation failed: string too short, expected at least 1, got 0');
      // 3.12-3.17: no `policy` in the schema and no additionalProperties check: accepted, stored, ignored.
      if (at(version, "3.18") && c.policy !== undefined) {
        if (!["local", "redis", "redis-cluster", "redis-sentinel"].includes(String(c.policy))) fail('property "policy" validation failed: matches none of the enum values');
        if (c.policy === "redis") str(c, "redis_host", true);
      }
      withDefault(c, "show_limit_quota_header", true);
      withDefault(c, "limit_strategy", "total_tokens");
      withDefault(c, "rejected_code", 503);
      return;
    }
    case "proxy-rewrite": {
      if (Object.keys(c).length < 1) fail("expect object to have at least 1 properties");
      if (c.headers !== undefined && !isObj(c.headers)) fail('property "headers" validation failed: wrong type: expected object');
      return;
    }
    default:
      throw new SchemaError(`unknown plugin [${name}]`);
  }
}

function checkPlugins(version: string, plugins: unknown, where: "route" | "consumer"): void {
  if (plugins === undefined) return;
  if (!isObj(plugins)) throw new SchemaError('invalid configuration: property "plugins" validation failed: wrong type: expected object');
  for (const [name, conf] of Object.entries(plugins)) {
    try {
      checkPlugin(version, name, conf, where);
    } catch (err) {
      if (!(err instanceof SchemaError)) throw err;
      if (err.message.startsWith("unknown plugin")) throw err;
      const msg = `failed to check the configuration of plugin ${name} err: ${err.message}`;
      throw new SchemaError(where === "consumer" ? `invalid plugins configuration: ${msg}` : msg);
    }
  }
}

const ROUTE_KEYS = ["id", "uri", "uris", "methods", "host", "hosts", "remote_addr", "remote_addrs", "vars", "filter_func", "priority", "plugins", "plugin_config_id", "upstream", "upstream_id", "service_id", "script", "script_id", "status", "name", "desc", "labels", "timeout", "enable_websocket", "create_time", "update_time"];
const UPSTREAM_KEYS = ["nodes", "type", "scheme", "pass_host", "upstream_host", "timeout", "retries", "retry_timeout", "keepalive_pool", "tls", "checks", "hash_on", "key", "name", "desc", "labels", "service_name", "discovery_type", "discovery_args"];

function checkRoute(version: string, id: string, body: Obj): Obj {
  try {
    only(body, ROUTE_KEYS);
    if (body.uri === undefined && body.uris === undefined) fail('value should match only one schema, but matches none');
    if (body.plugins === undefined && body.upstream === undefined && body.upstream_id === undefined && body.service_id === undefined && body.plugin_config_id === undefined) {
      fail("value should match only one schema, but matches none");
    }
    if (body.upstream !== undefined) {
      if (!isObj(body.upstream)) fail('property "upstream" validation failed: wrong type: expected object');
      const u = body.upstream as Obj;
      try {
        only(u, UPSTREAM_KEYS);
        if (u.nodes === undefined) fail('property "nodes" is required');
        if (u.scheme !== undefined && !["grpc", "grpcs", "http", "https", "tcp", "tls", "udp", "kafka"].includes(String(u.scheme))) fail('property "scheme" validation failed: matches none of the enum values');
        if (u.pass_host !== undefined && !["pass", "node", "rewrite"].includes(String(u.pass_host))) fail('property "pass_host" validation failed: matches none of the enum values');
      } catch (err) {
        throw new SchemaError(`property "upstream" validation failed: ${(err as Error).message}`);
      }
      withDefault(u, "type", "roundrobin");
      withDefault(u, "scheme", "http");
      withDefault(u, "pass_host", "pass");
      withDefault(u, "hash_on", "vars");
    }
  } catch (err) {
    throw new SchemaError(`invalid configuration: ${(err as Error).message}`);
  }
  checkPlugins(version, body.plugins, "route");
  withDefault(body, "status", 1);
  return { ...body, id };
}

function checkConsumer(version: string, username: string, body: Obj): Obj {
  if (body.username !== undefined && body.username !== username) throw new SchemaError("wrong username");
  const b: Obj = { ...body, username };
  try {
    only(b, ["username", "desc", "labels", "group_id", "plugins", "create_time", "update_time"]);
    const pattern = at(version, "3.13") ? /^[a-zA-Z0-9_-]+$/ : /^[a-zA-Z0-9_]+$/;
    if (!pattern.test(username) || username.length > 256) fail(`property "username" validation failed: failed to match pattern "${pattern.source}" with "${username}"`);
  } catch (err) {
    throw new SchemaError(`invalid configuration: ${(err as Error).message}`);
  }
  checkPlugins(version, b.plugins, "consumer");
  return b;
}

/** PUT replies show encrypted fields as ciphertext (data_encryption on by default). */
const cipher = (plain: string) => createHash("sha256").update(`keyring:${plain}`).digest("base64").slice(0, 22) + "==";
function encrypted(value: Obj): Obj {
  const copy = JSON.parse(JSON.stringify(value)) as Obj;
  const plugins = copy.plugins as Obj | undefined;
  const keyAuth = plugins?.["key-auth"] as Obj | undefined;
  if (keyAuth && typeof keyAuth.key === "string") keyAuth.key = cipher(keyAuth.key);
  const instances = (plugins?.["ai-proxy-multi"] as Obj | undefined)?.instances as Obj[] | undefined;
  for (const i of instances ?? []) {
    const header = (i.auth as Obj | undefined)?.header as Record<string, string> | undefined;
    for (const k of Object.keys(header ?? {})) header![k] = cipher(header![k]!);
  }
  return copy;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(text);
}

export async function startApisixStandIn(options: ApisixStandInOptions): Promise<ApisixStandIn> {
  const routes = new Map<string, Stored>();
  const consumers = new Map<string, Stored>();
  const adminLog: ApisixStandIn["adminLog"] = [];
  let index = 100;

  const admin = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const raw = await readBody(req);
    const reply = (status: number, body: unknown) => {
      adminLog.push({ method: req.method ?? "", path: url.pathname, status, body: raw ? safeJson(raw) : undefined });
      send(res, status, body, { "X-API-VERSION": "v3" });
    };
    if (options.adminKey !== undefined) {
      const token = (req.headers["x-api-key"] as string | undefined) ?? url.searchParams.get("api_key") ?? undefined;
      if (!token) return reply(401, { error_msg: "failed to check token", description: "missing apikey" });
      if (token !== options.adminKey) return reply(401, { error_msg: "failed to check token", description: "wrong apikey" });
    }
    const m = /^\/apisix\/admin\/([a-z_]+)(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (!m) return reply(404, { error_msg: "not found" });
    const [, type, rawId] = m;
    const id = rawId === undefined ? undefined : decodeURIComponent(rawId);
    const store = type === "routes" ? routes : type === "consumers" ? consumers : undefined;
    if (!store) return reply(404, { error_msg: `Unsupported resource type: ${type}` });
    const etcdKey = (k: string) => `/apisix/${type}/${k}`;

    switch (req.method) {
      case "GET": {
        if (id === undefined) {
          const list = [...store.entries()].map(([k, s]) => ({ key: etcdKey(k), value: s.value, createdIndex: s.createdIndex, modifiedIndex: s.modifiedIndex }));
          return reply(200, { list, total: list.length });
        }
        const s = store.get(id);
        if (!s) return reply(404, { message: "Key not found" });
        return reply(200, { key: etcdKey(id), value: s.value, createdIndex: s.createdIndex, modifiedIndex: s.modifiedIndex });
      }
      case "PUT": {
        let body: Obj;
        try {
          const parsed = JSON.parse(raw) as unknown;
          if (!isObj(parsed)) throw new Error("not an object");
          body = parsed;
        } catch (err) {
          return reply(400, { error_msg: `invalid request body: ${(err as Error).message}`, req_body: raw });
        }
        for (const f of ["create_time", "update_time"]) if (f in body) return reply(400, { error_msg: `the property is forbidden:  ${f}` });
        const key = id ?? (type === "consumers" ? String(body.username ?? "") : undefined);
        if (!key) return reply(400, { error_msg: `missing ${type === "routes" ? "route" : "consumer"} id` });
        let value: Obj;
        try {
          value = type === "routes" ? checkRoute(options.version, key, body) : checkConsumer(options.version, key, body);
        } catch (err) {
          if (err instanceof SchemaError) return reply(400, { error_msg: err.message });
          throw err;
        }
        if (type === "consumers" && at(options.version, "3.18")) {
          const k = ((value.plugins as Obj | undefined)?.["key-auth"] as Obj | undefined)?.key;
          for (const [other, s] of consumers) {
            if (other !== key && k !== undefined && ((s.value.plugins as Obj | undefined)?.["key-auth"] as Obj | undefined)?.key === k) {
              return reply(400, { error_msg: `duplicate key of plugin key-auth found with consumer: ${other}` });
            }
          }
        }
        const prev = store.get(key);
        const now = Math.floor(Date.now() / 1000);
        value.create_time = prev?.value.create_time ?? now;
        value.update_time = now;
        index++;
        store.set(key, { value, createdIndex: prev?.createdIndex ?? index, modifiedIndex: index });
        return reply(prev ? 200 : 201, { key: etcdKey(key), value: encrypted(value) });
      }
      case "DELETE": {
        if (id === undefined) return reply(404, { error_msg: "not found" });
        if (!store.delete(id)) return reply(404, { message: "Key not found" });
        return reply(200, { deleted: "1", key: etcdKey(id) });
      }
      default:
        return reply(405, { error_msg: `not supported \`${req.method}\` method for ${type === "routes" ? "route" : "consumer"}` });
    }
  });

  // Rate-limit counters: key -> { used, windowEnds }.
  const counters = new Map<string, { used: number; windowEnds: number }>();
  // plugins/prometheus/exporter.lua: apisix_llm_prompt_tokens / apisix_llm_completion_tokens
  // (3.14+), labels route_id, service_id, consumer, node, request_type,
  // request_llm_model, llm_model; incremented from the upstream's `usage` at log phase.
  const llmTokens = new Map<string, { labels: Record<string, string>; prompt: number; completion: number }>();
  const countTokens = (labels: Record<string, string>, usage: Record<string, number> | undefined) => {
    if (!at(options.version, "3.14") || !usage) return;
    const key = JSON.stringify(labels);
    const t = llmTokens.get(key) ?? { labels, prompt: 0, completion: 0 };
    t.prompt += usage.prompt_tokens ?? 0;
    t.completion += usage.completion_tokens ?? 0;
    llmTokens.set(key, t);
  };
  const metrics = createServer((req, res) => {
    if (new URL(req.url ?? "/", "http://x").pathname !== "/apisix/prometheus/metrics") return send(res, 404, { error_msg: "404 Route Not Found" });
    const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
    const line = (name: string, t: { labels: Record<string, string> }, v: number) => `${name}{${Object.entries(t.labels).map(([k, x]) => `${k}="${esc(x)}"`).join(",")}} ${v}`;
    const out = [
      "# HELP apisix_node_info Info of APISIX node",
      "# TYPE apisix_node_info gauge",
      'apisix_node_info{hostname="standin",version="' + options.version + '"} 1',
    ];
    if (at(options.version, "3.14")) {
      out.push("# HELP apisix_llm_prompt_tokens LLM service consumed prompt tokens", "# TYPE apisix_llm_prompt_tokens counter");
      for (const t of llmTokens.values()) out.push(line("apisix_llm_prompt_tokens", t, t.prompt));
      out.push("# HELP apisix_llm_completion_tokens LLM service consumed completion tokens", "# TYPE apisix_llm_completion_tokens counter");
      for (const t of llmTokens.values()) out.push(line("apisix_llm_completion_tokens", t, t.completion));
    }
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end(out.join("\n") + "\n");
  });

  const proxy = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const raw = await readBody(req);
    const route = [...routes.values()].find(
      (r) => r.value.status !== 0 && (r.value.uri === url.pathname || (r.value.uris as string[] | undefined)?.includes(url.pathname)) && (!r.value.methods || (r.value.methods as string[]).includes(req.method ?? "")),
    );
    if (!route) return send(res, 404, { error_msg: "404 Route Not Found" });
    const routePlugins = (route.value.plugins ?? {}) as Obj;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k.toLowerCase()] = v;

    let consumerName: string | undefined;
    let consumerPlugins: Obj = {};
    const keyAuth = routePlugins["key-auth"] as Obj | undefined;
    if (keyAuth) {
      const header = String(keyAuth.header).toLowerCase();
      const value = headers[header] ?? url.searchParams.get(String(keyAuth.query)) ?? undefined;
      const challenge = { "WWW-Authenticate": 'apikey realm="key"' };
      if (value === undefined) return send(res, 401, { message: "Missing API key in request" }, challenge);
      const match = [...consumers.values()].find((c) => ((c.value.plugins as Obj | undefined)?.["key-auth"] as Obj | undefined)?.key === value);
      if (!match) return send(res, 401, { message: "Invalid API key in request" }, challenge);
      consumerName = String(match.value.username);
      consumerPlugins = { ...((match.value.plugins ?? {}) as Obj) };
      if (keyAuth.hide_credentials) delete headers[header];
    }
    // plugin.lua merge_consumer_route: the consumer's configuration wins.
    const plugins: Obj = { ...routePlugins, ...consumerPlugins };

    const aiProxy = plugins["ai-proxy-multi"] as Obj | undefined;
    const limit = plugins["ai-rate-limiting"] as Obj | undefined;
    let counterKey: string | undefined;
    if (aiProxy && limit && typeof limit.limit === "number") {
      // limit-count gen_limit_key: the plugin's parent (the consumer) from 3.15, the route before.
      counterKey = at(options.version, "3.15") && "ai-rate-limiting" in consumerPlugins ? `/apisix/consumers/${consumerName}` : `/apisix/routes/${String(route.value.id)}`;
      const now = Date.now();
      let c = counters.get(counterKey);
      if (!c || c.windowEnds <= now) counters.set(counterKey, (c = { used: 0, windowEnds: now + Number(limit.time_window) * 1000 }));
      if (c.used >= Number(limit.limit)) {
        const code = Number(limit.rejected_code ?? 503);
        return limit.rejected_msg ? send(res, code, { error_msg: limit.rejected_msg }) : (res.writeHead(code), res.end());
      }
    }

    let target: URL;
    let body = raw;
    const outHeaders: Record<string, string> = { ...headers };
    delete outHeaders.host;
    delete outHeaders["content-length"];
    if (aiProxy) {
      const inst = (aiProxy.instances as Obj[])[0]!;
      let request: Obj;
      try {
        request = JSON.parse(raw) as Obj;
      } catch {
        return send(res, 400, { error_msg: "could not parse JSON request body" });
      }
      Object.assign(request, (inst.options ?? {}) as Obj);
      body = JSON.stringify(request);
      const rawEndpoint = String((inst.override as Obj | undefined)?.endpoint);
      const endpoint = new URL(rawEndpoint);
      // A path given (even "/") is used as is; none: 3.17+ takes it from the protocol.
      if (rawEndpoint.replace(/^[a-z]+:\/\/[^/?#]+/i, "") === "") {
        if (!at(options.version, "3.17")) return send(res, 500, { error_msg: "openai-compatible has no default path before 3.17: override.endpoint needs one" });
        endpoint.pathname = "messages" in request ? "/v1/chat/completions" : "input" in request ? "/v1/embeddings" : "/";
      }
      target = endpoint;
      for (const [k, v] of Object.entries(((inst.auth as Obj).header ?? {}) as Record<string, string>)) outHeaders[k.toLowerCase()] = v;
      outHeaders["content-type"] = "application/json";
    } else {
      const upstream = route.value.upstream as Obj;
      const node = Object.keys(upstream.nodes as Obj)[0]!;
      target = new URL(`${String(upstream.scheme)}://${node}${url.pathname}${url.search}`);
      const rewrite = plugins["proxy-rewrite"] as Obj | undefined;
      const set = ((rewrite?.headers as Obj | undefined)?.set ?? {}) as Record<string, string>;
      for (const [k, v] of Object.entries(set)) outHeaders[k.toLowerCase()] = v;
    }

    const upstreamReq = httpRequest(
      target,
      { method: req.method, headers: { ...outHeaders, "content-length": String(Buffer.byteLength(body)) } },
      async (up) => {
        const chunks: Buffer[] = [];
        for await (const c of up) chunks.push(c as Buffer);
        const text = Buffer.concat(chunks).toString("utf8");
        if (aiProxy && (up.statusCode ?? 500) < 300) {
          const reply = safeJson(text) as { usage?: Record<string, number>; model?: string } | undefined;
          const requested = String((safeJson(body) as { model?: unknown } | undefined)?.model ?? "");
          countTokens(
            { route_id: String(route.value.id ?? ""), service_id: "", consumer: consumerName ?? "", node: target.host, request_type: "ai_chat", request_llm_model: requested, llm_model: String(reply?.model ?? requested) },
            reply?.usage,
          );
        }
        if (counterKey && (up.statusCode ?? 500) < 300) {
          const usage = (safeJson(text) as { usage?: Record<string, number> } | undefined)?.usage;
          const field = String(limit!.limit_strategy ?? "total_tokens");
          counters.get(counterKey)!.used += usage?.[field] ?? 0;
        }
        res.writeHead(up.statusCode ?? 502, { "Content-Type": String(up.headers["content-type"] ?? "application/json") });
        res.end(text);
      },
    );
    upstreamReq.on("error", (err) => send(res, 502, { error_msg: `upstream: ${err.message}` }));
    upstreamReq.end(body);
  });

  const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port)));
  const [adminPort, proxyPort, metricsPort] = await Promise.all([listen(admin), listen(proxy), listen(metrics)]);
  return {
    adminUrl: `http://127.0.0.1:${adminPort}`,
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    routes,
    consumers,
    adminLog,
    metricsUrl: `http://127.0.0.1:${metricsPort}/apisix/prometheus/metrics`,
    restart: () => {
      llmTokens.clear();
      counters.clear();
    },
    close: () =>
      Promise.all([admin, proxy, metrics].map((s) => new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve()))))).then(() => undefined),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
