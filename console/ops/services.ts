// Lemonade and the gateway (APISIX), read through the console: the admin
// keys stay here, on the server. Each part answers on its own, so one server
// being down shows as `{ ok: false, error }` in its part and the rest answers.
import axios, { type AxiosInstance } from "axios";

export type Part<T = unknown> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly error: string };

export interface ServiceEndpoints {
  readonly lemonade?: { readonly url: string; readonly adminKey?: string };
  readonly gateway?: { readonly adminUrl: string; readonly adminKey?: string };
}

const TIMEOUT_MS = 3000;

function describeFailure(server: string, url: string, err: unknown): string {
  const e = err as { code?: string; response?: { status: number; data?: unknown }; message?: string };
  if (e.response) {
    const body = JSON.stringify(e.response.data ?? "").slice(0, 200);
    const hint = e.response.status === 401 ? " (the console's admin key is wrong or missing)" : "";
    return `${server} at ${url} answered HTTP ${e.response.status}${hint}: ${body}`;
  }
  return `${server} at ${url} does not answer (${e.code ?? e.message ?? "error"}); is it running?`;
}

async function part<T>(server: string, base: string, fn: () => Promise<T>): Promise<Part<T>> {
  try {
    return { ok: true, data: await fn() };
  } catch (err) {
    return { ok: false, error: describeFailure(server, base, err) };
  }
}

export class LemonadeClient {
  private readonly http: AxiosInstance;
  constructor(readonly url: string, adminKey?: string) {
    this.http = axios.create({
      baseURL: url.replace(/\/+$/, "") + "/api/v1/",
      timeout: TIMEOUT_MS,
      headers: adminKey ? { Authorization: `Bearer ${adminKey}` } : {},
    });
  }

  private get<T>(path: string): Promise<Part<T>> {
    return part("Lemonade", this.url, async () => (await this.http.get<T>(path)).data);
  }

  /** health, stats, system-stats, slots and models, each on its own. */
  async overview() {
    const [health, stats, systemStats, slots, models] = await Promise.all([
      this.get("health"),
      this.get("stats"),
      this.get("system-stats"),
      this.get("slots"),
      this.get("models?show_all=true"),
    ]);
    return { health, stats, systemStats, slots, models };
  }

  load(model: string): Promise<Part> {
    return part("Lemonade", this.url, async () => (await this.http.post("load", { model_name: model })).data);
  }

  unload(model?: string): Promise<Part> {
    return part("Lemonade", this.url, async () => (await this.http.post("unload", model ? { model_name: model } : {})).data);
  }
}

interface ApisixList {
  list?: Array<{ key: string; value: Record<string, unknown> }>;
  total?: number;
}

/** Credentials never leave the console: key-auth keys and auth headers are dropped. */
export function redactConsumer(value: Record<string, unknown>): Record<string, unknown> {
  const plugins = { ...((value.plugins as Record<string, unknown> | undefined) ?? {}) };
  if (plugins["key-auth"]) plugins["key-auth"] = { key: "(hidden)" };
  return { ...value, plugins };
}

export function redactRoute(value: Record<string, unknown>): Record<string, unknown> {
  const plugins = { ...((value.plugins as Record<string, unknown> | undefined) ?? {}) };
  for (const name of ["ai-proxy", "ai-proxy-multi"]) if (plugins[name]) plugins[name] = JSON.parse(JSON.stringify(plugins[name]), (k, v) => (k === "auth" ? "(hidden)" : v));
  return { ...value, plugins };
}

export class GatewayClient {
  private readonly http: AxiosInstance;
  constructor(readonly adminUrl: string, adminKey?: string) {
    this.http = axios.create({ baseURL: adminUrl.replace(/\/+$/, "") + "/apisix/admin/", timeout: TIMEOUT_MS, headers: adminKey ? { "X-API-KEY": adminKey } : {} });
  }

  async overview() {
    const [routes, consumers] = await Promise.all([
      part("APISIX Admin API", this.adminUrl, async () => ((await this.http.get<ApisixList>("routes")).data.list ?? []).map((r) => redactRoute(r.value))),
      part("APISIX Admin API", this.adminUrl, async () => ((await this.http.get<ApisixList>("consumers")).data.list ?? []).map((c) => redactConsumer(c.value))),
    ]);
    return { routes, consumers };
  }
}

const off = (what: string): Part => ({ ok: false, error: `${what} is not configured for this console (thon.yaml ${what.toLowerCase()}.enabled is false, or no URL given)` });
export const notConfigured = off;
