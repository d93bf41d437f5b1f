// Dynamic providers for APISIX Admin API v3 objects: Route and Consumer.
//
// Pulumi serializes each provider object into the stack's state (the
// `__provider` input) and runs that text in its dynamic-provider host, a
// plain Node process. So the methods below:
// - import nothing at module level: `require("axios")` inside each call
//   (a top-level import does not serialize under vitest 4 / Pulumi 3.248);
// - capture no client, no key and no config: the Admin API key comes from
//   the resource's own (secret) inputs or from APISIX_ADMIN_KEY in the
//   environment of `pulumi up`, read at call time;
// - throw errors that name the server, the object, the HTTP status, APISIX's
//   error_msg and what to do; they never exit the process.
//
// Admin API facts (apisix/admin/*.lua, 3.8 to 3.18): PUT answers 201 when it
// created and 200 when it replaced; GET answers {key, value, createdIndex,
// modifiedIndex}; DELETE {"deleted":"1","key":…}; a missing object
// 404 {"message":"Key not found"}. PUT replies carry encrypted fields (the
// key-auth key, ai-proxy auth headers) as ciphertext, so nothing is compared
// against a PUT reply; `read` uses GET, which decrypts. create_time and
// update_time are never sent (400 "the property is forbidden").
import * as pulumi from "@pulumi/pulumi";
import { connectionProblem, jsonEqual, projectOnto, replyText } from "./http.ts";

/** Where the Admin API is and its key (undefined: APISIX_ADMIN_KEY from the environment at call time). */
interface AdminConnection {
  readonly adminUrl: string;
  readonly adminKey?: string | undefined;
}

export interface RouteInputs extends AdminConnection {
  readonly routeId: string;
  readonly body: Record<string, unknown>;
}

export interface ConsumerInputs extends AdminConnection {
  readonly username: string;
  /** The whole value key-auth compares against the request header, e.g. "Bearer sk-…". */
  readonly key: string;
  /** The consumer's other plugins (its token budget); key-auth is added from `key`. */
  readonly plugins: Record<string, unknown>;
  readonly desc?: string | undefined;
  readonly labels?: Record<string, string> | undefined;
}

interface AdminReply {
  readonly status: number;
  readonly data: unknown;
}

/** One Admin API call. Any HTTP status comes back; no answer at all becomes an error naming the URL. */
async function adminCall(conn: AdminConnection, method: "GET" | "PUT" | "DELETE", path: string, what: string, body?: unknown): Promise<AdminReply> {
  const axios: typeof import("axios") = require("axios");
  const base = conn.adminUrl.replace(/\/+$/, "");
  const key = conn.adminKey || process.env.APISIX_ADMIN_KEY || "";
  try {
    const res = await axios.default.request({
      method,
      url: `${base}${path}`,
      data: body,
      headers: { "Content-Type": "application/json", ...(key ? { "X-API-KEY": key } : {}) },
      validateStatus: () => true,
      timeout: 30_000,
    });
    return { status: res.status, data: res.data };
  } catch (err) {
    throw new Error(
      `cannot reach the APISIX Admin API at ${base} to ${what}: ${connectionProblem(err)}. ` +
        `Fix: start APISIX (and etcd), or set gateway.adminUrl in thon.yaml to where the Admin API listens (deployment.admin.admin_listen, port 9180 by default)`,
    );
  }
}

/** The next step for an Admin API error, by status. */
function adminFix(status: number): string {
  if (status === 401) {
    return "Fix: give the Admin API key (deployment.admin.admin_key in APISIX's conf/config.yaml) as the Pulumi secret thon:apisixAdminKey (pulumi config set --secret thon:apisixAdminKey …) or in APISIX_ADMIN_KEY";
  }
  if (status === 403) return "Fix: APISIX refuses this client's address; add it to deployment.admin.allow_admin, or run pulumi on the gateway's host";
  if (status === 400) return "Fix: APISIX rejected the object; check the gateway section of thon.yaml, and that gateway.apisixVersion is the APISIX release you run";
  if (status === 404 || status === 405) return "Fix: is gateway.adminUrl the Admin API (v3) of APISIX 3.x, not its proxy port?";
  return "Fix: check APISIX and etcd (APISIX's logs/error.log), then run pulumi up again";
}

function adminError(conn: AdminConnection, what: string, reply: AdminReply): Error {
  return new Error(`APISIX Admin API at ${conn.adminUrl.replace(/\/+$/, "")}: ${what} failed with HTTP ${reply.status}: ${replyText(reply.data)}. ${adminFix(reply.status)}`);
}

/** Fields the server owns: never sent back (PUT with create_time is a 400). */
function withoutServerFields(value: Record<string, unknown>): Record<string, unknown> {
  const { create_time: _c, update_time: _u, id: _i, ...rest } = value;
  return rest;
}

function checkConnection(inputs: Record<string, unknown>, failures: pulumi.dynamic.CheckFailure[]): void {
  const url = inputs.adminUrl;
  if (typeof url !== "string" || !/^https?:\/\/[^/\s]+/.test(url)) {
    failures.push({ property: "adminUrl", reason: `adminUrl must be the Admin API's http(s) URL, such as http://127.0.0.1:9180; got ${JSON.stringify(url)}` });
  }
}

/** A value the engine does not know yet (preview): not checked. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

// ---------------------------------------------------------------------------
// Route

export const routeProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: RouteInputs, news: RouteInputs) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    checkConnection(news as unknown as Record<string, unknown>, failures);
    if (news.routeId !== UNKNOWN && !(typeof news.routeId === "string" && /^[a-zA-Z0-9_.-]{1,64}$/.test(news.routeId))) {
      failures.push({ property: "routeId", reason: `a route id is 1 to 64 of letters, digits, '-', '_' and '.'; got ${JSON.stringify(news.routeId)}` });
    }
    const body = news.body as unknown;
    if (body !== UNKNOWN) {
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        failures.push({ property: "body", reason: "body must be the route object (uri, plugins, upstream, …)" });
      } else {
        const b = body as Record<string, unknown>;
        if (b.uri === undefined && b.uris === undefined) failures.push({ property: "body", reason: "a route needs uri or uris" });
        if (b.plugins === undefined && b.upstream === undefined && b.upstream_id === undefined && b.service_id === undefined) {
          failures.push({ property: "body", reason: "a route needs plugins, upstream, upstream_id or service_id" });
        }
        for (const f of ["id", "create_time", "update_time"]) {
          if (f in b) failures.push({ property: "body", reason: `body must not set ${f}: the route id is routeId, and APISIX owns the timestamps` });
        }
      }
    }
    return { inputs: news, failures };
  },

  async diff(_id: string, olds: RouteInputs, news: RouteInputs) {
    // Another Admin API or another id is another object; everything else is a PUT in place.
    const replaces = (["adminUrl", "routeId"] as const).filter((k) => olds[k] !== news[k]);
    const changes = replaces.length > 0 || !jsonEqual(olds.body, news.body) || (olds.adminKey ?? "") !== (news.adminKey ?? "");
    return { changes, replaces };
  },

  async create(inputs: RouteInputs) {
    const what = `PUT route "${inputs.routeId}"`;
    const reply = await adminCall(inputs, "PUT", `/apisix/admin/routes/${encodeURIComponent(inputs.routeId)}`, what, withoutServerFields(inputs.body));
    // 201 created, 200 replaced an existing route of that id: both leave the route as declared.
    if (reply.status !== 200 && reply.status !== 201) throw adminError(inputs, what, reply);
    return { id: inputs.routeId, outs: { ...inputs } };
  },

  async read(id: string, props: RouteInputs) {
    const what = `GET route "${id}"`;
    const reply = await adminCall(props, "GET", `/apisix/admin/routes/${encodeURIComponent(id)}`, what);
    if (reply.status === 404) return { id: "", props: {} }; // gone: the engine drops it from state
    if (reply.status !== 200) throw adminError(props, what, reply);
    const value = withoutServerFields(((reply.data as { value?: Record<string, unknown> }).value ?? {}) as Record<string, unknown>);
    const body = props.body ? (projectOnto(props.body, value) as Record<string, unknown>) : value;
    const state = { ...props, routeId: id, body };
    return { id, props: state, inputs: state };
  },

  async update(id: string, _olds: RouteInputs, news: RouteInputs) {
    const what = `PUT route "${id}"`;
    const reply = await adminCall(news, "PUT", `/apisix/admin/routes/${encodeURIComponent(id)}`, what, withoutServerFields(news.body));
    if (reply.status !== 200 && reply.status !== 201) throw adminError(news, what, reply);
    return { outs: { ...news } };
  },

  async delete(id: string, props: RouteInputs) {
    const what = `DELETE route "${id}"`;
    const reply = await adminCall(props, "DELETE", `/apisix/admin/routes/${encodeURIComponent(id)}`, what);
    if (reply.status === 200 || reply.status === 404) return; // 404: already gone, which is what delete wants
    throw adminError(props, what, reply);
  },
};

export interface RouteArgs {
  readonly adminUrl: pulumi.Input<string>;
  /** Omit to use APISIX_ADMIN_KEY from the environment of `pulumi up`. */
  readonly adminKey?: pulumi.Input<string> | undefined;
  readonly routeId: pulumi.Input<string>;
  /** The route object; secret when it carries the upstream key. */
  readonly body: pulumi.Input<Record<string, unknown>>;
}

/** An APISIX route (`pulumi-nodejs:dynamic/apisix:Route`). */
export class Route extends pulumi.dynamic.Resource {
  declare public readonly routeId: pulumi.Output<string>;
  declare public readonly body: pulumi.Output<Record<string, unknown>>;

  constructor(name: string, args: RouteArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      routeProvider,
      name,
      { adminKey: undefined, ...args },
      // The body holds Lemonade's key (ai-proxy auth, proxy-rewrite): secret in state too.
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["adminKey", "body"] }),
      "apisix",
      "Route",
    );
  }
}

// ---------------------------------------------------------------------------
// Consumer

function consumerBody(inputs: ConsumerInputs): Record<string, unknown> {
  return {
    username: inputs.username,
    ...(inputs.desc !== undefined ? { desc: inputs.desc } : {}),
    ...(inputs.labels !== undefined ? { labels: inputs.labels } : {}),
    plugins: { ...inputs.plugins, "key-auth": { key: inputs.key } },
  };
}

export const consumerProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: ConsumerInputs, news: ConsumerInputs) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    checkConnection(news as unknown as Record<string, unknown>, failures);
    // The 3.13+ pattern; the config check refuses "-" for older releases before anything runs.
    if (news.username !== UNKNOWN && !(typeof news.username === "string" && /^[a-zA-Z0-9_-]{1,256}$/.test(news.username))) {
      failures.push({ property: "username", reason: `a consumer username is 1 to 256 of letters, digits, '_' and '-'; got ${JSON.stringify(news.username)}` });
    }
    if (news.key !== UNKNOWN && !(typeof news.key === "string" && news.key.length > 0)) {
      failures.push({ property: "key", reason: "key must be a non-empty string (the key-auth value)" });
    }
    const plugins = news.plugins as unknown;
    if (plugins !== UNKNOWN && plugins !== undefined && (plugins === null || typeof plugins !== "object" || Array.isArray(plugins))) {
      failures.push({ property: "plugins", reason: "plugins must be an object of plugin name to configuration" });
    } else if (plugins && typeof plugins === "object" && "key-auth" in plugins) {
      failures.push({ property: "plugins", reason: "give the key-auth key as `key`, not in plugins (it is kept secret on its own)" });
    }
    return { inputs: { ...news, plugins: news.plugins ?? {} }, failures };
  },

  async diff(_id: string, olds: ConsumerInputs, news: ConsumerInputs) {
    const replaces = (["adminUrl", "username"] as const).filter((k) => olds[k] !== news[k]);
    const changes =
      replaces.length > 0 ||
      olds.key !== news.key ||
      !jsonEqual(olds.plugins ?? {}, news.plugins ?? {}) ||
      olds.desc !== news.desc ||
      !jsonEqual(olds.labels, news.labels) ||
      (olds.adminKey ?? "") !== (news.adminKey ?? "");
    return { changes, replaces };
  },

  async create(inputs: ConsumerInputs) {
    const what = `PUT consumer "${inputs.username}"`;
    const reply = await adminCall(inputs, "PUT", `/apisix/admin/consumers/${encodeURIComponent(inputs.username)}`, what, consumerBody(inputs));
    if (reply.status !== 200 && reply.status !== 201) throw adminError(inputs, what, reply);
    return { id: inputs.username, outs: { ...inputs } };
  },

  async read(id: string, props: ConsumerInputs) {
    const what = `GET consumer "${id}"`;
    const reply = await adminCall(props, "GET", `/apisix/admin/consumers/${encodeURIComponent(id)}`, what);
    if (reply.status === 404) return { id: "", props: {} };
    if (reply.status !== 200) throw adminError(props, what, reply);
    const value = ((reply.data as { value?: Record<string, unknown> }).value ?? {}) as Record<string, unknown>;
    const serverPlugins = { ...((value.plugins ?? {}) as Record<string, unknown>) };
    const keyAuth = serverPlugins["key-auth"] as { key?: string } | undefined;
    delete serverPlugins["key-auth"];
    const state: ConsumerInputs = {
      ...props,
      username: id,
      key: keyAuth?.key ?? "",
      plugins: props.plugins ? (projectOnto(props.plugins, serverPlugins) as Record<string, unknown>) : serverPlugins,
      desc: value.desc as string | undefined,
      labels: value.labels as Record<string, string> | undefined,
    };
    return { id, props: state, inputs: state };
  },

  async update(id: string, _olds: ConsumerInputs, news: ConsumerInputs) {
    const what = `PUT consumer "${id}"`;
    const reply = await adminCall(news, "PUT", `/apisix/admin/consumers/${encodeURIComponent(id)}`, what, consumerBody(news));
    if (reply.status !== 200 && reply.status !== 201) throw adminError(news, what, reply);
    return { outs: { ...news } };
  },

  async delete(id: string, props: ConsumerInputs) {
    const what = `DELETE consumer "${id}"`;
    const reply = await adminCall(props, "DELETE", `/apisix/admin/consumers/${encodeURIComponent(id)}`, what);
    if (reply.status === 200 || reply.status === 404) return;
    throw adminError(props, what, reply);
  },
};

export interface ConsumerArgs {
  readonly adminUrl: pulumi.Input<string>;
  readonly adminKey?: pulumi.Input<string> | undefined;
  readonly username: pulumi.Input<string>;
  /** The key-auth value ("Bearer <participant key>"); made secret here whatever the caller passes. */
  readonly key: pulumi.Input<string>;
  readonly plugins?: pulumi.Input<Record<string, unknown>> | undefined;
  readonly desc?: pulumi.Input<string> | undefined;
  readonly labels?: pulumi.Input<Record<string, pulumi.Input<string>>> | undefined;
}

/** An APISIX consumer with a key-auth key (`pulumi-nodejs:dynamic/apisix:Consumer`). */
export class Consumer extends pulumi.dynamic.Resource {
  declare public readonly username: pulumi.Output<string>;
  declare public readonly key: pulumi.Output<string>;
  declare public readonly plugins: pulumi.Output<Record<string, unknown>>;

  constructor(name: string, args: ConsumerArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      consumerProvider,
      name,
      { adminKey: undefined, plugins: {}, desc: undefined, labels: undefined, ...args, key: pulumi.secret(args.key) },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["adminKey", "key"] }),
      "apisix",
      "Consumer",
    );
  }
}

/** Inputs that make the engine replace (not update) each type; the mock diff uses them too. */
export const APISIX_REPLACE_KEYS = {
  "pulumi-nodejs:dynamic/apisix:Route": ["adminUrl", "routeId"],
  "pulumi-nodejs:dynamic/apisix:Consumer": ["adminUrl", "username"],
} as const;
