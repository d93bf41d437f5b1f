// With the LLM on: Lemonade and the APISIX Admin API answer, in the versions
// thon.yaml says (the program writes settings for those versions).
import { versionAtLeast } from "../apisix/versions.ts";
import { LEMONADE_MIN_VERSION } from "../lemonade/facts.ts";
import { fail, ok, reason, warn, type Check, type DoctorContext } from "./check.ts";

async function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { headers, signal: AbortSignal.timeout(5000) });
}

const sameRelease = (found: string, declared: string) => versionAtLeast(found, declared) && !versionAtLeast(found, bumpMinor(declared));
const bumpMinor = (v: string) => {
  const [major, minor] = v.split(".").map(Number);
  return `${major}.${(minor ?? 0) + 1}`;
};

export async function checkLemonade(ctx: DoctorContext): Promise<Check> {
  const name = "Lemonade";
  const { lemonade } = ctx.event;
  const base = (lemonade.apiUrl ?? `http://127.0.0.1:${lemonade.port}`).replace(/\/+$/, "");
  try {
    const live = await get(`${base}/live`);
    if (!live.ok) return fail(name, `${base}/live answers HTTP ${live.status}`, "wait for lemond to finish starting, or look at `journalctl -u lemond`");
  } catch (err) {
    return fail(name, `nothing answers at ${base} (${reason(err)})`, "install and start Lemonade Server (https://lemonade-server.ai), or set lemonade.apiUrl/port in thon.yaml");
  }
  const key = ctx.env.LEMONADE_ADMIN_API_KEY ?? ctx.env.LEMONADE_API_KEY;
  const health = await get(`${base}/api/v1/health`, key ? { Authorization: `Bearer ${key}` } : {}).catch(() => undefined);
  if (!health?.ok) {
    return warn(name, `answers at ${base}, but its version is behind its API key (HTTP ${health?.status ?? "error"})`, "export LEMONADE_API_KEY to let doctor read the version");
  }
  const version = ((await health.json()) as { version?: string }).version ?? "unknown";
  if (!versionAtLeast(version, LEMONADE_MIN_VERSION)) return fail(name, `Lemonade ${version} at ${base}; THON needs ${LEMONADE_MIN_VERSION} or later`, "upgrade Lemonade Server");
  if (!sameRelease(version, lemonade.version)) {
    return warn(name, `Lemonade ${version} at ${base}, but thon.yaml says lemonade.version ${lemonade.version} (the unit name and reserved flags follow it)`, `set lemonade.version: "${version.split(".").slice(0, 2).join(".")}"`);
  }
  return ok(name, `Lemonade ${version} at ${base}`);
}

export async function checkApisix(ctx: DoctorContext): Promise<Check> {
  const name = "APISIX Admin API";
  const { gateway } = ctx.event;
  const base = gateway.adminUrl.replace(/\/+$/, "");
  const key = ctx.env.APISIX_ADMIN_KEY;
  let res: Response;
  try {
    res = await get(`${base}/apisix/admin/routes`, key ? { "X-API-KEY": key } : {});
  } catch (err) {
    return fail(name, `nothing answers at ${base} (${reason(err)})`, "start APISIX, or set gateway.adminUrl in thon.yaml");
  }
  if (res.status === 401) {
    return warn(name, `answers at ${base}, but refuses the admin key${key ? "" : " (none given)"}`, "set the key: `pulumi config set --secret thon:apisixAdminKey <admin_key>` and export APISIX_ADMIN_KEY for doctor");
  }
  if (!res.ok) return fail(name, `${base}/apisix/admin/routes answers HTTP ${res.status}`, "check gateway.adminUrl: it must be APISIX's Admin API (port 9180 by default)");
  // APISIX names itself in the Server header ("APISIX/3.15.0") unless server_tokens is off.
  const version = /APISIX\/(\d+\.\d+(?:\.\d+)?)/.exec(res.headers.get("server") ?? "")?.[1];
  if (version === undefined) {
    return warn(name, `answers at ${base} (Admin API ${res.headers.get("x-api-version") ?? "v3"}), but does not say its version; thon.yaml says ${gateway.apisixVersion}`, "make sure gateway.apisixVersion is the release running (the routes are written for it)");
  }
  if (!sameRelease(version, gateway.apisixVersion)) {
    return fail(name, `APISIX ${version} at ${base}, but thon.yaml says gateway.apisixVersion ${gateway.apisixVersion}: the routes would use settings ${version} ${versionAtLeast(version, gateway.apisixVersion) ? "handles differently" : "does not have"}`, `set gateway.apisixVersion: "${version.split(".").slice(0, 2).join(".")}"`);
  }
  return ok(name, `APISIX ${version} at ${base}`);
}
