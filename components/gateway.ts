import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Event } from "../infra/config/event.ts";
import { SANDBOX_HOST, type LemonadePlan } from "../infra/lemonade/plan.ts";
import { Consumer, Route } from "../infra/providers/apisix.ts";
import {
  chatRoute,
  consumerKeyValue,
  consumerPlugins,
  consumerTokenLimit,
  consumerUsername,
  embeddingsRoute,
  routeId,
} from "../infra/render/apisix.ts";

export interface GatewayArgs {
  readonly event: Pick<Event, "name" | "gateway" | "groups" | "participants">;
  readonly lemonade: LemonadePlan;
  /** LEMONADE_API_KEY (secret): APISIX sends it upstream in place of the participant's key. */
  readonly lemonadeApiKey: pulumi.Input<string>;
  /** The Admin API key (secret); undefined: APISIX_ADMIN_KEY in the environment of `pulumi up`. */
  readonly adminKey?: pulumi.Input<string> | undefined;
}

/**
 * The APISIX AI gateway in front of Lemonade: two routes (chat through
 * ai-proxy-multi, embeddings through an upstream) and one consumer with a
 * key and a token budget per participant ("per-user") or per group
 * ("per-group"). Consumers are named from the user (or group) name alone, so
 * adding someone adds one consumer and changes no other; in per-group mode it
 * updates the group's budget (per-user tokens x group size) in place.
 *
 * Sandboxes reach the gateway's proxy port at host.docker.internal; the
 * Admin API stays where APISIX's allow_admin keeps it (127.0.0.0/24 by
 * default) and is only used from the machine running pulumi.
 */
export class Gateway extends pulumi.ComponentResource {
  /** The OpenAI-compatible base URL as seen from inside a sandbox. */
  public readonly sandboxBaseUrl: string;
  private readonly keys = new Map<string, pulumi.Output<string>>();
  private readonly mode: "per-user" | "per-group";
  private readonly groupOf: ReadonlyMap<string, string>;

  constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("thon:gateway:Gateway", name, {}, opts);
    const { event, lemonade } = args;
    const gw = event.gateway;
    const conn = { adminUrl: gw.adminUrl, adminKey: args.adminKey === undefined ? undefined : pulumi.secret(args.adminKey) };
    const lemonadeUrl = (gw.lemonadeUrl ?? `http://127.0.0.1:${lemonade.port}`).replace(/\/+$/, "");

    const routeBody = (render: typeof chatRoute) =>
      pulumi.secret(
        pulumi.output(args.lemonadeApiKey).apply((key) =>
          render({ event: event.name, apisixVersion: gw.apisixVersion, lemonadeUrl, lemonadeApiKey: key, chatModel: lemonade.chat.id }),
        ),
      );
    new Route(`${name}-chat`, { ...conn, routeId: routeId(event.name, "chat"), body: routeBody(chatRoute) }, { parent: this });
    if (lemonade.embedding) {
      new Route(`${name}-embeddings`, { ...conn, routeId: routeId(event.name, "embeddings"), body: routeBody(embeddingsRoute) }, { parent: this });
    }

    const consumer = (kind: "user" | "group", who: string, size: number) => {
      const suffix = kind === "user" ? who : `group-${who}`;
      const key = new random.RandomPassword(`thon-llm-key-${suffix}`, { length: 40, special: false }, { parent: this });
      const apiKey = pulumi.secret(pulumi.interpolate`sk-thon-${key.result}`);
      new Consumer(
        `thon-consumer-${suffix}`,
        {
          ...conn,
          username: consumerUsername(event.name, kind, who),
          key: apiKey.apply(consumerKeyValue),
          plugins: consumerPlugins(
            gw.limit === false
              ? false
              : { apisixVersion: gw.apisixVersion, tokens: consumerTokenLimit(gw.mode, gw.limit.tokens, size), windowSeconds: gw.limit.windowSeconds, redis: gw.redis },
          ),
          desc: kind === "user" ? `THON ${event.name}: participant ${who}` : `THON ${event.name}: group ${who} (${size} participants)`,
          labels: { "managed-by": "thon", "thon-event": event.name },
        },
        { parent: this },
      );
      return apiKey;
    };

    this.mode = gw.mode;
    this.groupOf = new Map(event.participants.map((p) => [p.name, p.group]));
    if (gw.mode === "per-user") {
      for (const p of event.participants) this.keys.set(p.name, consumer("user", p.name, 1));
    } else {
      for (const g of event.groups) if (g.users.length > 0) this.keys.set(g.name, consumer("group", g.name, g.users.length));
    }

    this.sandboxBaseUrl = `http://${SANDBOX_HOST}:${gw.port}/v1`;
    this.registerOutputs({ sandboxBaseUrl: this.sandboxBaseUrl });
  }

  /** The key a participant's tools send (their own, or their group's in per-group mode). Secret. */
  keyFor(participant: string): pulumi.Output<string> {
    const owner = this.mode === "per-user" ? participant : this.groupOf.get(participant);
    const key = owner === undefined ? undefined : this.keys.get(owner);
    if (!key) throw new pulumi.ResourceError(`no gateway key for participant "${participant}"`, this);
    return key;
  }
}
