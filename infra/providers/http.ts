// Helpers the dynamic providers call from inside their methods. They are
// serialized into the stack's state with the providers (Pulumi copies local
// functions by value), so they import nothing and use only their arguments.

/** The most useful text of an error reply: APISIX's error_msg, Lemonade's error, or the body. */
export function replyText(data: unknown): string {
  if (data === undefined || data === null || data === "") return "(empty body)";
  if (typeof data === "string") return data.trim().slice(0, 500);
  if (typeof data === "object") {
    const d = data as Record<string, unknown>;
    if (typeof d.error_msg === "string") return typeof d.description === "string" ? `${d.error_msg} (${d.description})` : d.error_msg;
    if (typeof d.message === "string") return d.message;
    if (typeof d.error === "string") return d.error;
    if (d.error !== null && typeof d.error === "object" && typeof (d.error as Record<string, unknown>).message === "string") {
      return (d.error as Record<string, string>).message!;
    }
  }
  return JSON.stringify(data).slice(0, 500);
}

/** Why a request got no HTTP answer at all, in words, from Node's error codes. */
export function connectionProblem(err: unknown): string {
  const e = err as { code?: string; message?: string } | null;
  switch (e?.code) {
    case "ECONNREFUSED":
      return "connection refused (nothing listens there)";
    case "ECONNRESET":
      return "the connection was reset";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the host name does not resolve";
    case "ETIMEDOUT":
    case "ECONNABORTED":
    case "ERR_CANCELED":
      return "no answer in time";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "the host is unreachable";
    default:
      return e?.code ? `${e.code}: ${e.message ?? ""}`.trim() : (e?.message ?? String(err));
  }
}

/** Structural equality of JSON values (key order ignored, undefined members ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
    const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => jsonEqual(ra[k], rb[k]));
  }
  return false;
}

/**
 * `server` cut down to the shape of `wanted`: the keys THON set, with the
 * server's values. The Admin API stores plugin defaults next to what was
 * sent, so comparing whole objects would always show drift.
 */
export function projectOnto(wanted: unknown, server: unknown): unknown {
  if (Array.isArray(wanted)) {
    if (!Array.isArray(server)) return server;
    return server.map((s, i) => (i < wanted.length ? projectOnto(wanted[i], s) : s));
  }
  if (wanted !== null && typeof wanted === "object") {
    if (server === null || typeof server !== "object" || Array.isArray(server)) return server;
    const w = wanted as Record<string, unknown>;
    const s = server as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(w)) if (k in s) out[k] = projectOnto(w[k], s[k]);
    return out;
  }
  return server;
}
