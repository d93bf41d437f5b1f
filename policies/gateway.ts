// The APISIX AI gateway (components/gateway.ts, infra/providers/apisix.ts,
// bodies from infra/render/apisix.ts).
//
// What the program declares, each a dynamic resource with these inputs:
// - pulumi-nodejs:dynamic/apisix:Route (thon-gateway-chat,
//   thon-gateway-embeddings): adminUrl, adminKey, routeId, body. The body is
//   the Admin API route object; `body.plugins["key-auth"]` makes the route
//   demand a consumer's key. It holds Lemonade's key, so on a first preview
//   (the key not made yet) the whole body is unknown.
// - pulumi-nodejs:dynamic/apisix:Consumer (thon-consumer-<user> per
//   participant, or thon-consumer-group-<group> per group): adminUrl,
//   adminKey, username, key (the key-auth value, "Bearer sk-thon-…", from a
//   random.RandomPassword: unknown at a first preview), plugins (its
//   ai-rate-limiting budget: limit tokens per time_window seconds; `{}` with
//   gateway.limit: false), desc, labels. The provider adds
//   plugins["key-auth"] = { key } itself and refuses one in `plugins`.
// The Admin API's address is the adminUrl input of every route and consumer
// (thon.yaml gateway.adminUrl); its key is adminKey or APISIX_ADMIN_KEY in
// the environment of `pulumi up`, and never reaches the pack.
import type { EnforcementLevel, PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configOf, eventFacts, hostOf, isIpAddress, isLoopback, isPrivateAddress, ofType, settle, show, UNKNOWN, type Unknown } from "./lib";

const APISIX_TYPE_PREFIX = "pulumi-nodejs:dynamic/apisix:";
export const APISIX_TYPES = {
  consumer: `${APISIX_TYPE_PREFIX}Consumer`,
  route: `${APISIX_TYPE_PREFIX}Route`,
} as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const positiveInteger = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v > 0;
const hasUnknown = (v: unknown): boolean => v === UNKNOWN || (Array.isArray(v) ? v.some(hasUnknown) : isObj(v) && Object.values(v).some(hasUnknown));

/** What is wrong with a consumer's `key` input; undefined when it is a key (or made at deploy). */
function consumerKeyProblem(key: unknown): string | undefined {
  // Made from a random.RandomPassword: unknown at a first preview, and there at deploy.
  if (key === UNKNOWN) return undefined;
  if (key === undefined) return "has no key (the key input the provider turns into key-auth)";
  if (typeof key !== "string") return `has a key that is not a string (${show(key)})`;
  // key-auth compares the whole Authorization header: "Bearer " alone would match any client sending an empty bearer token.
  if (key.replace(/^bearer\s*/i, "").trim() === "") return `has an empty key (${show(key)})`;
  return undefined;
}

/** What is wrong with a consumer's token budget (plugins["ai-rate-limiting"]); undefined when it has one. */
function rateLimitProblem(plugins: unknown): string | undefined {
  if (plugins === UNKNOWN) return "has plugins (its rate limit) unknown at preview; they come from thon.yaml and must be literal";
  const limit = isObj(plugins) ? plugins["ai-rate-limiting"] : undefined;
  if (limit === undefined) return "has no rate limit (plugins[\"ai-rate-limiting\"]), so one key can use up the LLM for everyone";
  if (hasUnknown(limit)) return "has a rate limit unknown at preview; it comes from thon.yaml and must be literal";
  if (!isObj(limit)) return `has plugins["ai-rate-limiting"] = ${show(limit)}, not a limit`;
  if (isObj(limit._meta) && limit._meta.disable === true) return "has its rate limit switched off (_meta.disable)";
  if (!positiveInteger(limit.limit) || !positiveInteger(limit.time_window)) {
    return `has a rate limit without a positive limit and time_window (${JSON.stringify({ limit: limit.limit, time_window: limit.time_window })})`;
  }
  return undefined;
}

/**
 * thon-gateway-consumer-key-and-limit: every APISIX consumer (a participant
 * in per-user mode, a group in per-group mode) has a key and a token budget.
 * A resource policy, so it also runs on each consumer's inputs right before
 * `pulumi up` creates or updates it.
 */
export function gatewayConsumerKeyAndLimit(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
  return {
    name: "thon-gateway-consumer-key-and-limit",
    description:
      "Every gateway consumer (a participant, or a group in per-group mode) has a key and a token budget (ai-rate-limiting with a positive limit and time_window), so nobody can use up the LLM for the others. Fix: give gateway.limit (tokens, windowSeconds) in thon.yaml instead of limit: false, and let the Gateway component declare the consumers.",
    enforcementLevel,
    validateResource: (args, report) => {
      if (args.type !== APISIX_TYPES.consumer) return;
      const c = settle(args.props as { key?: unknown; plugins?: unknown });
      if (c === UNKNOWN) return report(`consumer ${args.name}: its inputs are unknown at preview`);
      const key = consumerKeyProblem(c.key);
      if (key) report(`consumer ${args.name} ${key}`);
      const limit = rateLimitProblem(c.plugins);
      if (limit) report(`consumer ${args.name} ${limit}`);
    },
  };
}

/**
 * thon-gateway-route-key-auth: every APISIX route of the event demands a
 * consumer's key (key-auth): a route without it would hand Lemonade, with
 * Lemonade's own key attached, to anyone who reaches the gateway. The body is
 * unknown at a first preview (it holds Lemonade's key, made in the same
 * run): then the policy says it did not apply, and it runs on the route's
 * inputs, which are known by then, right before `pulumi up` creates it.
 */
export function gatewayRouteKeyAuth(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
  return {
    name: "thon-gateway-route-key-auth",
    description:
      "Every gateway route demands a consumer's key (plugins[\"key-auth\"] in the route body), so only participants with a key reach the LLM. Fix: declare routes through the Gateway component (infra/render/apisix.ts chatRoute/embeddingsRoute), which sets key-auth; do not disable it.",
    enforcementLevel,
    validateResource: (args, report) => {
      if (args.type !== APISIX_TYPES.route) return;
      const r = settle(args.props as { body?: unknown });
      const body = r === UNKNOWN ? UNKNOWN : r.body;
      const plugins = body === UNKNOWN ? UNKNOWN : isObj(body) ? body.plugins : undefined;
      const keyAuth = plugins === UNKNOWN ? UNKNOWN : isObj(plugins) ? plugins["key-auth"] : undefined;
      if (keyAuth === UNKNOWN) {
        return args.notApplicable(`the body of route ${args.name} is unknown at preview (it holds Lemonade's new key); it is checked when pulumi up sends the route`);
      }
      if (keyAuth === undefined) return report(`route ${args.name} has no key-auth: anyone who reaches the gateway can use the LLM`);
      if (!isObj(keyAuth)) return report(`route ${args.name} has plugins["key-auth"] = ${show(keyAuth)}, not a plugin configuration`);
      if (isObj(keyAuth._meta) && keyAuth._meta.disable === true) report(`route ${args.name} has key-auth switched off (_meta.disable): anyone who reaches the gateway can use the LLM`);
    },
  };
}

interface AdminConfig {
  allowedAdminHosts: string[];
}

/**
 * thon-gateway-admin-not-public: the Admin API every route and consumer is
 * written through (their adminUrl input) is on loopback or a private
 * address: not on a public address and not on a name or address participants
 * reach the event under. One finding per Admin API URL, on the first
 * resource that uses it. The pack sees where THON talks to the Admin API,
 * not where APISIX listens: keep APISIX's admin_listen and allow_admin
 * (127.0.0.0/24 by default) to match.
 */
export function gatewayAdminNotPublic(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-gateway-admin-not-public",
    description:
      "The APISIX Admin API THON writes routes and consumers through (gateway.adminUrl) is on loopback or a private address, not on a public address or the event's host. Fix: set gateway.adminUrl in thon.yaml to http://127.0.0.1:9180 (run pulumi on the gateway's host) or a private address, and keep APISIX's admin_listen/allow_admin there.",
    enforcementLevel,
    configSchema: {
      properties: {
        allowedAdminHosts: { type: "array", items: { type: "string" }, default: [], description: "DNS names the Admin API may use (they are not checked otherwise)." },
      },
    },
    validateStack: (args, report) => {
      const { allowedAdminHosts } = configOf<AdminConfig>(args, { allowedAdminHosts: [] });
      const eventHosts = new Set((eventFacts(args).hosts ?? []).filter((h) => !isLoopback(h)).map((h) => h.toLowerCase()));
      const users = new Map<string | Unknown, PolicyResource[]>();
      for (const r of ofType(args.resources, APISIX_TYPES.route, APISIX_TYPES.consumer)) {
        const p = settle(r.props as { adminUrl?: unknown });
        const url = p === UNKNOWN ? UNKNOWN : p.adminUrl;
        const key = url === UNKNOWN ? UNKNOWN : typeof url === "string" ? url : show(url);
        users.set(key, [...(users.get(key) ?? []), r]);
      }
      for (const [url, resources] of users) {
        const first = resources[0]!;
        const where = `${first.name}${resources.length > 1 ? ` and ${resources.length - 1} more gateway resource${resources.length > 2 ? "s" : ""}` : ""}`;
        if (url === UNKNOWN) {
          report(`${where}: the Admin API URL is unknown at preview; gateway.adminUrl must be a literal`, first.urn);
          continue;
        }
        const host = hostOf(url);
        if (host === undefined) {
          report(`${where}: the Admin API URL ${url} is not a URL`, first.urn);
          continue;
        }
        if (isLoopback(host) || allowedAdminHosts.includes(host)) continue;
        if (eventHosts.has(host)) report(`${where}: the Admin API (${url}) is on the event's host ${host}, where participants connect`, first.urn);
        else if (!isIpAddress(host)) {
          report(`${where}: the Admin API (${url}) is on the DNS name ${host}, which the pack cannot place; use 127.0.0.1, a private address, or list it in allowedAdminHosts`, first.urn);
        } else if (!isPrivateAddress(host)) report(`${where}: the Admin API (${url}) is on the public address ${host}`, first.urn);
      }
    },
  };
}
