import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { GatewayPlan } from "../infra/plan.ts";
import { Consumer, Route } from "../infra/providers/apisix.ts";
import { chatRoute, consumerKeyValue, consumerPlugins, embeddingsRoute } from "../infra/render/apisix.ts";

export interface GatewayArgs {
  /** Routes and consumers, named by the planner (infra/plan.ts planLlm). */
  readonly plan: GatewayPlan;
  /** LEMONADE_API_KEY (secret): APISIX sends it upstream in place of the participant's key. */
  readonly lemonadeApiKey: pulumi.Input<string>;
  /** The Admin API key (secret); undefined: APISIX_ADMIN_KEY in the environment of `pulumi up`. */
  readonly adminKey?: pulumi.Input<string> | undefined;
}

/**
 * The APISIX AI gateway in front of Lemonade: two routes (chat through
 * ai-proxy-multi, embeddings through an upstream) and one consumer with a
 * key and a token budget per participant ("per-user") or per group
 * ("per-group"). The planner names consumers from the user (or group) name
 * alone, so adding someone adds one consumer and changes no other; in
 * per-group mode it updates the group's budget (per-user tokens x group
 * size) in place.
 *
 * Sandboxes reach the gateway's proxy port at host.docker.internal (on a
 * swarm, at the address of APISIX's node: GatewayPlan.node); the
 * Admin API stays where APISIX's allow_admin keeps it (127.0.0.0/24 by
 * default) and is only used from the machine running pulumi.
 */
export class Gateway extends pulumi.ComponentResource {
  /** The OpenAI-compatible base URL as seen from inside a sandbox. */
  public readonly sandboxBaseUrl: string;
  /** Each consumer's key (secret), by the consumer's resource name (ConsumerPlan.resourceNames.consumer). */
  private readonly keys = new Map<string, pulumi.Output<string>>();

  constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("thon:gateway:Gateway", name, {}, opts);
    const { plan } = args;
    const conn = { adminUrl: plan.adminUrl, adminKey: args.adminKey === undefined ? undefined : pulumi.secret(args.adminKey) };

    for (const route of plan.routes) {
      const render = route.which === "chat" ? chatRoute : embeddingsRoute;
      const body = pulumi.secret(
        pulumi.output(args.lemonadeApiKey).apply((key) =>
          render({ event: plan.event, apisixVersion: plan.apisixVersion, lemonadeUrl: plan.lemonadeUrl, lemonadeApiKey: key, chatModel: plan.chatModel }),
        ),
      );
      new Route(route.resourceName, { ...conn, routeId: route.routeId, body }, { parent: this });
    }

    for (const c of plan.consumers) {
      const key = new random.RandomPassword(c.resourceNames.key, { length: 40, special: false }, { parent: this });
      const apiKey = pulumi.secret(pulumi.interpolate`sk-thon-${key.result}`);
      new Consumer(
        c.resourceNames.consumer,
        {
          ...conn,
          username: c.username,
          key: apiKey.apply(consumerKeyValue),
          plugins: consumerPlugins(c.limit),
          desc: c.desc,
          labels: { ...c.labels },
        },
        { parent: this },
      );
      this.keys.set(c.resourceNames.consumer, apiKey);
    }

    this.sandboxBaseUrl = plan.sandboxBaseUrl;
    this.registerOutputs({ sandboxBaseUrl: this.sandboxBaseUrl });
  }

  /** The key of a consumer the plan declared (secret). */
  keyOf(consumer: string): pulumi.Output<string> {
    const key = this.keys.get(consumer);
    if (!key) throw new pulumi.ResourceError(`no gateway consumer ${consumer} in the plan`, this);
    return key;
  }
}
