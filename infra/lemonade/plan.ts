// The pure plan of the local LLM: what Lemonade gets (unit, config.json,
// models with their context and slots) and how a sandbox reaches it. No
// Pulumi here; the Lemonade and Gateway components declare from it.
import type { Event } from "../config/event.ts";
import { guaranteedCtxPerSlot, scaleModel, type ModelScale } from "./scaling.ts";
import { lemondUnitName } from "./facts.ts";
import type { LemonadeConfigOptions } from "../render/lemonadeConfig.ts";

/** The event's host as seen from inside a sandbox (Sandbox maps it to host-gateway). */
export const SANDBOX_HOST = "host.docker.internal";

export interface ModelPlan {
  /** "user.<name>": what Lemonade registers and clients ask for. */
  readonly id: string;
  readonly displayName: string;
  readonly checkpoint: string;
  readonly recipe: string;
  readonly embedding: boolean;
  readonly scale: ModelScale;
  /** The context a client can count on at any event size (Kilo's limit.context). */
  readonly guaranteedCtx: number;
  /** Load options: scale with the participant count. */
  readonly load: { readonly ctx_size: number; readonly llamacpp_args: string };
}

export interface LemonadePlan {
  readonly unitName: string;
  readonly host: string;
  readonly port: number;
  /** Lemonade from the machine running pulumi (model pull/load). */
  readonly apiUrl: string;
  /** Lemonade's OpenAI-compatible base URL from inside a sandbox (used when the gateway is off). */
  readonly sandboxBaseUrl: string;
  /** lemond's config.json (infra/render/lemonadeConfig.ts). */
  readonly config: LemonadeConfigOptions;
  readonly chat: ModelPlan & { readonly outputTokens: number };
  readonly embedding: (ModelPlan & { readonly dimension: number }) | undefined;
}

export function planLemonade(event: Pick<Event, "lemonade" | "gateway" | "participants">): LemonadePlan {
  const l = event.lemonade;
  const n = event.participants.length;
  // With the gateway on, only APISIX (on this host) talks to lemond: loopback
  // keeps Lemonade's single shared key off the network. Without it, the
  // sandboxes connect through the Docker bridge, which loopback cannot serve.
  const host = l.host ?? (event.gateway.enabled ? "127.0.0.1" : "0.0.0.0");
  const model = (m: { name: string; checkpoint: string; recipe: string; ctxPerUser: number; maxCtxSize?: number | undefined }, embedding: boolean): ModelPlan => {
    const scale = scaleModel(m, n, l.maxParallel);
    return {
      id: `user.${m.name}`,
      displayName: m.name,
      checkpoint: m.checkpoint,
      recipe: m.recipe,
      embedding,
      scale,
      guaranteedCtx: guaranteedCtxPerSlot(m, l.maxParallel),
      load: { ctx_size: scale.ctxSize, llamacpp_args: `-np ${scale.parallel}` },
    };
  };
  const config: LemonadeConfigOptions = {
    host,
    port: l.port,
    // One chat and one embedding model resident together (Lemonade >= 11 counts
    // per model type, where 2 also allows a second chat model; older releases
    // count all models).
    maxLoadedModels: l.embeddingModel === false ? 1 : 2,
    llamacppArgs: l.llamacppArgs,
    backend: l.backend,
  };
  return {
    unitName: lemondUnitName(l.version),
    host,
    port: l.port,
    apiUrl: (l.apiUrl ?? `http://127.0.0.1:${l.port}`).replace(/\/+$/, ""),
    sandboxBaseUrl: `http://${SANDBOX_HOST}:${l.port}/api/v1`,
    config,
    chat: { ...model(l.chatModel, false), outputTokens: l.chatModel.outputTokens },
    embedding: l.embeddingModel === false ? undefined : { ...model(l.embeddingModel, true), dimension: l.embeddingModel.dimension },
  };
}
