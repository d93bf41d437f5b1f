// The local LLM as the program declares it: Lemonade, optionally the APISIX
// gateway, and what each sandbox gets from them (its Kilo Code config and its
// API key). With `lemonade.enabled: false` nothing here declares anything.
import * as pulumi from "@pulumi/pulumi";
import type { Event } from "./config/event.ts";
import { SANDBOX_PATHS, type ParticipantPlan } from "./plan.ts";
import { planLemonade, type LemonadePlan } from "./lemonade/plan.ts";
import { renderKiloConfig } from "./render/kilo.ts";
import type { Target } from "./target.ts";
import type { SandboxFile } from "../components/sandbox.ts";
import { Lemonade } from "../components/lemonade.ts";
import { Gateway } from "../components/gateway.ts";

export interface LlmOutputs {
  /** What participants' tools use, from inside a sandbox. */
  readonly baseUrl: string;
  readonly via: "gateway" | "lemonade";
  readonly gatewayMode?: "per-user" | "per-group";
  readonly chatModel: string;
  readonly embeddingModel?: string;
  readonly lemondUnit: string;
}

export interface Llm {
  readonly plan: LemonadePlan;
  readonly lemonade: Lemonade;
  readonly gateway: Gateway | undefined;
  readonly outputs: LlmOutputs;
  /** The participant's API key (secret). */
  apiKeyFor(participant: string): pulumi.Output<string>;
  /** Files for the participant's sandbox: the Kilo Code config. */
  filesFor(participant: ParticipantPlan): SandboxFile[];
}

export function defineLlm(event: Event, target: Target): Llm | undefined {
  if (!event.lemonade.enabled) return undefined;
  const plan = planLemonade(event);
  const lemonade = new Lemonade("thon-lemonade", { lemonade: event.lemonade, plan, target });
  const gateway = event.gateway.enabled
    ? new Gateway("thon-gateway", {
        event,
        lemonade: plan,
        lemonadeApiKey: lemonade.apiKey,
        adminKey: new pulumi.Config("thon").getSecret("apisixAdminKey"),
      })
    : undefined;
  const baseUrl = gateway ? gateway.sandboxBaseUrl : plan.sandboxBaseUrl;
  // Without the gateway every participant shares Lemonade's one API key.
  const apiKeyFor = (participant: string) => (gateway ? gateway.keyFor(participant) : lemonade.apiKey);
  const kilo = event.lemonade.kilo;

  return {
    plan,
    lemonade,
    gateway,
    outputs: {
      baseUrl,
      via: gateway ? "gateway" : "lemonade",
      ...(gateway ? { gatewayMode: event.gateway.mode } : {}),
      chatModel: plan.chat.id,
      ...(plan.embedding ? { embeddingModel: plan.embedding.id } : {}),
      lemondUnit: plan.unitName,
    },
    apiKeyFor,
    filesFor(p) {
      // Only this participant's key goes in: a new key changes only their file.
      const content = pulumi.secret(
        apiKeyFor(p.name).apply((apiKey) =>
          renderKiloConfig({
            providerName: `THON ${event.name}`,
            baseURL: baseUrl,
            apiKey,
            chat: { id: plan.chat.id, displayName: plan.chat.displayName, context: plan.chat.guaranteedCtx, output: plan.chat.outputTokens },
            indexing: plan.embedding && kilo.indexing ? { model: plan.embedding.id, dimension: plan.embedding.dimension } : undefined,
            bash: kilo.bash,
          }),
        ),
      );
      return [{ path: SANDBOX_PATHS.kiloConfig, content }];
    },
  };
}
