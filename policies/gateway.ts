// The APISIX AI gateway (issue "Lemonade and the AI gateway").
//
// Written before the gateway's dynamic providers are on main, against the
// type tokens they are to have (`pulumi-nodejs:dynamic/apisix:Consumer`,
// `...:Route`, `...:ConsumerGroup`) and the shapes APISIX's Admin API uses,
// so the matching is deliberately tolerant:
// - a consumer's key: plugins["key-auth"].key, else key, apiKey, keyAuth.key;
// - a rate limit: plugins["ai-rate-limiting"] (limit + time_window,
//   instances or rules), plugins["limit-count"] (count + time_window or
//   rules), plugins["limit-req"] (rate); or a top-level limit/rateLimit
//   { tokens|limit|count, windowSeconds|time_window }; or the limit of the
//   consumer group it names (group_id, groupId or group); or a route whose
//   ai-rate-limiting rules count per consumer ($consumer_name);
// - the Admin API URL: adminUrl / adminURL / admin_url / adminApiUrl /
//   adminEndpoint on any apisix resource, at the top level or under
//   admin / connection / apisix / provider; and the stack output
//   event.gateway.adminUrl.
// The lead adapts these once the providers land; test/policies/gateway.test.ts
// holds the shapes assumed.
import type { EnforcementLevel, PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { configOf, eventFacts, hostOf, isIpAddress, isLoopback, isPrivateAddress, ofType, settle, show, TYPES, UNKNOWN, type Unknown } from "./lib";

export const APISIX_TYPE_PREFIX = "pulumi-nodejs:dynamic/apisix:";
export const APISIX_TYPES = {
  consumer: `${APISIX_TYPE_PREFIX}Consumer`,
  consumerGroup: `${APISIX_TYPE_PREFIX}ConsumerGroup`,
  route: `${APISIX_TYPE_PREFIX}Route`,
} as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const get = (v: unknown, ...path: string[]): unknown => {
  let cur = v;
  for (const key of path) {
    if (cur === UNKNOWN) return UNKNOWN;
    if (!isObj(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
};

type Found = { readonly state: "set" } | { readonly state: "unknown" } | { readonly state: "missing" } | { readonly state: "bad"; readonly why: string };

/** The consumer's API key: present (or computed at deploy), missing or empty. */
export function consumerKey(props: unknown): Found {
  for (const path of [["plugins", "key-auth", "key"], ["key"], ["apiKey"], ["keyAuth", "key"]]) {
    const v = get(props, ...path);
    if (v === UNKNOWN) return { state: "unknown" };
    if (typeof v === "string") return v.trim() === "" || /^bearer\s*$/i.test(v.trim()) ? { state: "bad", why: `${path.join(".")} is empty` } : { state: "set" };
  }
  return { state: "missing" };
}

const positive = (v: unknown) => typeof v === "number" && v > 0;
const numberOrVar = (v: unknown) => positive(v) || (typeof v === "string" && v.length > 0);

/** A rate limit in an APISIX plugins object, or a THON-style top-level limit. */
export function limitIn(props: unknown): Found {
  const plugins = get(props, "plugins");
  if (plugins === UNKNOWN) return { state: "unknown" };
  const checks: [string, (p: Obj) => boolean][] = [
    ["ai-rate-limiting", (p) => (numberOrVar(p.limit) && numberOrVar(p.time_window)) || (Array.isArray(p.instances) && p.instances.length > 0) || (Array.isArray(p.rules) && p.rules.length > 0)],
    ["limit-count", (p) => (numberOrVar(p.count) && numberOrVar(p.time_window)) || (Array.isArray(p.rules) && p.rules.length > 0)],
    ["limit-req", (p) => positive(p.rate)],
  ];
  for (const [name, ok] of checks) {
    const conf = get(plugins, name);
    if (conf === UNKNOWN) return { state: "unknown" };
    if (conf === undefined) continue;
    if (!isObj(conf)) return { state: "bad", why: `plugins.${name} is ${show(conf)}` };
    if (Object.values(conf).includes(UNKNOWN)) return { state: "unknown" };
    return ok(conf) ? { state: "set" } : { state: "bad", why: `plugins.${name} has no positive limit and window (${JSON.stringify(conf)})` };
  }
  for (const key of ["limit", "rateLimit"]) {
    const l = get(props, key);
    if (l === UNKNOWN) return { state: "unknown" };
    if (l === undefined) continue;
    if (!isObj(l)) return { state: "bad", why: `${key} is ${show(l)}` };
    if (Object.values(l).includes(UNKNOWN)) return { state: "unknown" };
    const amount = l.tokens ?? l.limit ?? l.count;
    const window = l.windowSeconds ?? l.time_window ?? l.window;
    return positive(amount) && positive(window) ? { state: "set" } : { state: "bad", why: `${key} needs a positive amount and window (${JSON.stringify(l)})` };
  }
  return { state: "missing" };
}

function groupOf(props: unknown): string | Unknown | undefined {
  for (const key of ["group_id", "groupId", "group"]) {
    const v = get(props, key);
    if (v === UNKNOWN || typeof v === "string") return v;
  }
  return undefined;
}

function groupIds(r: PolicyResource, props: unknown): string[] {
  const ids = [r.name];
  for (const key of ["id", "name", "groupId", "group_id"]) {
    const v = get(props, key);
    if (typeof v === "string") ids.push(v);
  }
  return ids;
}

/** A route whose ai-rate-limiting rules key on the consumer gives every consumer its own budget (APISIX 3.16+). */
function perConsumerRouteLimit(routes: readonly PolicyResource[]): boolean {
  return routes.some((r) => {
    const rules = get(settle(r.props), "plugins", "ai-rate-limiting", "rules");
    return Array.isArray(rules) && rules.some((rule) => typeof get(rule, "key") === "string" && /consumer/.test(get(rule, "key") as string));
  });
}

/**
 * thon-gateway-consumer-key-and-limit: every APISIX consumer has an API key
 * and a rate limit (its own, its group's, or per-consumer route rules).
 */
export function gatewayConsumerKeyAndLimit(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-gateway-consumer-key-and-limit",
    description:
      "Every gateway consumer (participant or group) has an API key (key-auth) and a rate limit (ai-rate-limiting or limit-count on the consumer or its consumer group), so no one can use the LLM anonymously or exhaust it for the others. Fix: set gateway.limit in thon.yaml and let the gateway component declare the consumers.",
    enforcementLevel,
    validateStack: (args, report) => {
      const consumers = ofType(args.resources, APISIX_TYPES.consumer);
      if (consumers.length === 0) return;
      const groups = ofType(args.resources, APISIX_TYPES.consumerGroup).map((r) => ({ r, props: settle(r.props) }));
      const routeLimit = perConsumerRouteLimit(ofType(args.resources, APISIX_TYPES.route));
      for (const r of consumers) {
        const props = settle(r.props);
        const key = consumerKey(props);
        // A key computed at deploy (from random) is unknown at preview; that is fine, it will exist.
        if (key.state === "missing") report(`consumer ${r.name} has no API key (plugins["key-auth"].key)`, r.urn);
        else if (key.state === "bad") report(`consumer ${r.name}: ${key.why}`, r.urn);

        let limit = limitIn(props);
        const group = groupOf(props);
        if (limit.state === "missing" && group !== undefined) {
          if (group === UNKNOWN) limit = { state: "unknown" };
          else {
            const g = groups.find((x) => groupIds(x.r, x.props).includes(group));
            limit = g ? limitIn(g.props) : { state: "bad", why: `its consumer group ${JSON.stringify(group)} is not in the stack` };
          }
        }
        if (limit.state === "missing" && routeLimit) continue;
        if (limit.state === "missing") report(`consumer ${r.name} has no rate limit (ai-rate-limiting on the consumer or its group)`, r.urn);
        else if (limit.state === "bad") report(`consumer ${r.name}: ${limit.why}`, r.urn);
        else if (limit.state === "unknown") report(`consumer ${r.name}: its rate limit is unknown at preview; limits come from thon.yaml and must be literal`, r.urn);
      }
    },
  };
}

const ADMIN_URL_KEYS = ["adminUrl", "adminURL", "admin_url", "adminApiUrl", "adminEndpoint"];
const ADMIN_URL_PARENTS = [[], ["admin"], ["connection"], ["apisix"], ["provider"]];

function adminUrls(props: unknown): (string | Unknown)[] {
  const out: (string | Unknown)[] = [];
  for (const parent of ADMIN_URL_PARENTS) {
    for (const key of ADMIN_URL_KEYS) {
      const v = get(props, ...parent, key);
      if (v === UNKNOWN || typeof v === "string") out.push(v);
    }
    const url = parent.length > 0 ? get(props, ...parent, "url") : undefined;
    if (url === UNKNOWN || typeof url === "string") out.push(url);
  }
  return out;
}

interface AdminConfig {
  adminPorts: number[];
  allowedAdminHosts: string[];
}

/**
 * thon-gateway-admin-not-public: the APISIX Admin API listens on loopback or
 * a private address, never where participants connect nor on a public
 * address, and no container publishes the admin port beyond loopback.
 */
export function gatewayAdminNotPublic(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-gateway-admin-not-public",
    description:
      "The APISIX Admin API (port 9180) is reachable on loopback or a private address only: not on the event's public host, not on a public address, not published by a container beyond 127.0.0.1. Fix: set gateway.adminUrl in thon.yaml to http://127.0.0.1:9180 (APISIX's allow_admin default is 127.0.0.0/24).",
    enforcementLevel,
    configSchema: {
      properties: {
        adminPorts: { type: "array", items: { type: "integer" }, default: [9180], description: "Container ports that serve the Admin API." },
        allowedAdminHosts: { type: "array", items: { type: "string" }, default: [], description: "DNS names the Admin API may use (they are not checked otherwise)." },
      },
    },
    validateStack: (args, report) => {
      const { adminPorts, allowedAdminHosts } = configOf<AdminConfig>(args, { adminPorts: [9180], allowedAdminHosts: [] });
      const facts = eventFacts(args);
      const eventHosts = new Set((facts.hosts ?? []).filter((h) => !isLoopback(h)).map((h) => h.toLowerCase()));
      const check = (url: string | Unknown, where: string, urn?: string) => {
        if (url === UNKNOWN) return report(`${where}: the Admin API URL is unknown at preview`, urn);
        const host = hostOf(url);
        if (host === undefined) return report(`${where}: the Admin API URL ${JSON.stringify(url)} is not a URL`, urn);
        if (isLoopback(host) || allowedAdminHosts.includes(host)) return;
        if (eventHosts.has(host)) return report(`${where}: the Admin API (${url}) is on the event's host ${host}, where participants connect`, urn);
        if (!isIpAddress(host)) return report(`${where}: the Admin API (${url}) is on the DNS name ${host}, which the pack cannot place; use 127.0.0.1, a private address, or list it in allowedAdminHosts`, urn);
        if (!isPrivateAddress(host)) report(`${where}: the Admin API (${url}) is on the public address ${host}`, urn);
      };
      for (const r of args.resources.filter((x) => x.type.startsWith(APISIX_TYPE_PREFIX))) {
        for (const url of adminUrls(settle(r.props))) check(url, r.name, r.urn);
      }
      if (facts.gatewayAdminUrl !== undefined) check(facts.gatewayAdminUrl, "event.gateway.adminUrl");

      for (const r of ofType(args.resources, TYPES.container)) {
        const ports = get(settle(r.props), "ports");
        if (ports === UNKNOWN || !Array.isArray(ports)) continue;
        for (const p of ports) {
          const internal = get(p, "internal");
          if (typeof internal !== "number" || !adminPorts.includes(internal)) continue;
          const ip = get(p, "ip");
          if (ip === UNKNOWN || ip === undefined || ip === "" || !isLoopback(String(ip))) {
            report(`${r.name} publishes the Admin API port ${internal} on ${ip === undefined || ip === "" ? "0.0.0.0 (every address)" : show(ip)}; publish it on 127.0.0.1 only`, r.urn);
          }
        }
      }
    },
  };
}
