// APISIX releases that changed what THON can ask of the gateway, read from
// apache/apisix's sources and CHANGELOG at each tag (see docs/llm.md,
// "The gateway"). THON writes only settings the target release honours.

/** Compares "3.15" with "3.12" numerically; true when version >= minimum. */
export function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split(".").map(Number);
  const b = minimum.split(".").map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

export const APISIX_VERSIONS = {
  /** ai-proxy-multi, ai-rate-limiting and the openai-compatible provider (CHANGELOG 3.12.0). */
  aiPlugins: "3.12",
  /** Consumer usernames may contain "-" (CHANGELOG 3.13, #12296); before: ^[a-zA-Z0-9_]+$. */
  hyphenInUsername: "3.13",
  /** A rate limit on a consumer counts per consumer (limit-count gen_limit_key, #12900); before, one counter per route. */
  perConsumerCounters: "3.15",
  /** openai-compatible takes the request path from the protocol when override.endpoint has none (ai-providers/base.lua). */
  endpointPathFromProtocol: "3.17",
  /** ai-rate-limiting honours policy: redis (#13670); 3.12-3.17 hard-wire "local" and ignore it silently. */
  redisPolicy: "3.18",
} as const;
