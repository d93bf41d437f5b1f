// The objects THON keeps in APISIX, as Admin API v3 bodies: the two routes
// and each consumer's plugins. Pure, version-aware renderers: a setting the
// target release would ignore is never written (infra/apisix/versions.ts).
import { APISIX_VERSIONS, versionAtLeast } from "../apisix/versions.ts";
import { routeId } from "../resourceNames.ts";

export type RouteBody = Record<string, unknown> & { readonly uri: string };

export interface RoutesOptions {
  readonly event: string;
  readonly apisixVersion: string;
  /** Lemonade as APISIX reaches it, e.g. http://127.0.0.1:13305 (no path). */
  readonly lemonadeUrl: string;
  /** LEMONADE_API_KEY: what APISIX sends upstream in place of the participant's key. */
  readonly lemonadeApiKey: string;
  /** The chat model every request is pinned to ("user.<name>"). */
  readonly chatModel: string;
}

/** Labels on every APISIX object of the event. */
export function apisixLabels(event: string): Readonly<Record<string, string>> {
  return { "managed-by": "thon", "thon-event": event };
}

/**
 * key-auth reads the whole Authorization header and looks it up verbatim
 * (apisix/plugins/key-auth.lua; no "Bearer " stripping), so consumers store
 * "Bearer <key>" (consumerKeyValue) and OpenAI-style clients match as they
 * are. hide_credentials drops the participant's header before proxying.
 */
const KEY_AUTH_ROUTE = { header: "Authorization", hide_credentials: true } as const;

/**
 * override.endpoint: a full URL up to 3.16; from 3.17 without a path, which APISIX then takes from the request's protocol.
 * @internal exported for tests; the program renders it through chatRoute.
 */
export function chatEndpoint(lemonadeUrl: string, apisixVersion: string): string {
  const base = lemonadeUrl.replace(/\/+$/, "");
  // A trailing "/" would be a path of "/" on 3.17+, which breaks the protocol lookup: the base has none.
  return versionAtLeast(apisixVersion, APISIX_VERSIONS.endpointPathFromProtocol) ? base : `${base}/api/v1/chat/completions`;
}

export function chatRoute(o: RoutesOptions): RouteBody {
  return {
    uri: "/v1/chat/completions",
    methods: ["POST"],
    name: routeId(o.event, "chat"),
    desc: `THON ${o.event}: chat completions to Lemonade, per-key token limits`,
    labels: apisixLabels(o.event),
    plugins: {
      "key-auth": { ...KEY_AUTH_ROUTE },
      "ai-proxy-multi": {
        instances: [
          {
            name: "lemonade",
            provider: "openai-compatible",
            weight: 1,
            auth: { header: { Authorization: `Bearer ${o.lemonadeApiKey}` } },
            // Overwrites the client's "model": participants reach only the event's model.
            options: { model: o.chatModel },
            override: { endpoint: chatEndpoint(o.lemonadeUrl, o.apisixVersion) },
          },
        ],
        // A long answer from a large local model takes minutes; the default is 30 s.
        // 600000 ms is the maximum 3.17+ accept (earlier releases have no maximum).
        timeout: 600000,
      },
    },
  };
}

/**
 * /v1/embeddings through a plain upstream on every release (ai-proxy-multi
 * counts embeddings only from 3.17): key-auth still applies, token budgets do
 * not (ai-rate-limiting needs an ai-proxy instance to count against).
 */
export function embeddingsRoute(o: RoutesOptions): RouteBody {
  const url = new URL(o.lemonadeUrl);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return {
    uri: "/v1/embeddings",
    methods: ["POST"],
    name: routeId(o.event, "embeddings"),
    desc: `THON ${o.event}: embeddings (codebase indexing) to Lemonade`,
    labels: apisixLabels(o.event),
    plugins: {
      "key-auth": { ...KEY_AUTH_ROUTE },
      "proxy-rewrite": { headers: { set: { Authorization: `Bearer ${o.lemonadeApiKey}` } } },
    },
    upstream: {
      type: "roundrobin",
      scheme: url.protocol === "https:" ? "https" : "http",
      pass_host: "pass",
      nodes: { [`${url.hostname}:${port}`]: 1 },
      timeout: { connect: 10, send: 600, read: 600 },
    },
  };
}

export interface LimitOptions {
  readonly apisixVersion: string;
  readonly tokens: number;
  readonly windowSeconds: number;
  readonly redis?: { readonly host: string; readonly port: number; readonly database: number } | undefined;
}

/** Per-group mode: one budget for the group, sized for its members. */
export function consumerTokenLimit(mode: "per-user" | "per-group", perUserTokens: number, groupSize: number): number {
  if (mode === "per-user") return perUserTokens;
  return perUserTokens * Math.max(1, groupSize);
}

/**
 * A consumer's plugins other than key-auth: its token budget. On a consumer,
 * ai-rate-limiting counts per consumer from 3.15 (refine.ts refuses limits
 * below), and rejects with 429, which OpenAI clients and Kilo retry with
 * backoff (the default, 503, reads as an outage).
 */
export function consumerPlugins(o: LimitOptions | false): Record<string, unknown> {
  if (o === false) return {};
  const redis =
    o.redis && versionAtLeast(o.apisixVersion, APISIX_VERSIONS.redisPolicy)
      ? { policy: "redis", redis_host: o.redis.host, redis_port: o.redis.port, redis_database: o.redis.database }
      : {};
  return {
    "ai-rate-limiting": {
      limit: o.tokens,
      time_window: o.windowSeconds,
      limit_strategy: "total_tokens",
      rejected_code: 429,
      rejected_msg: `token budget of ${o.tokens} per ${o.windowSeconds} s used up; it refills as the window moves on`,
      ...redis,
    },
  };
}

/** The value key-auth compares against the request's whole Authorization header. */
export function consumerKeyValue(apiKey: string): string {
  return `Bearer ${apiKey}`;
}
