// The pure plan of the local LLM: what Lemonade gets (unit, config.json,
// models with their context and slots) and how a sandbox reaches it. No
// Pulumi here; the Lemonade and Gateway components declare from it.
import type { Event } from "../config/event.ts";
import { guaranteedCtxPerSlot, scaleModel, type ModelScale } from "./scaling.ts";
import { lemondUnitName } from "./facts.ts";
import type { LemonadeConfigOptions } from "../render/lemonadeConfig.ts";

/** The event's host as seen from inside a sandbox (Sandbox maps it to host-gateway); on a swarm, the node's address instead. */
export const SANDBOX_HOST = "host.docker.internal";

/** A swarm node the LLM's parts run on. */
export interface LlmNode {
  readonly name: string;
  readonly address: string;
}

/** target.kind swarm: where lemond and APISIX run (docs/llm.md "On a Docker Swarm"). */
export interface LlmNodes {
  /** lemonade.node, else the first node labelled gpu: "true", else target.entry (else the first node). */
  readonly lemonade: LlmNode;
  /** gateway.node, else Lemonade's node. */
  readonly gateway: LlmNode;
}

/**
 * The nodes of the LLM on a swarm; undefined on one host. The names were
 * checked against target.nodes by validation (infra/config/llm.ts); a name
 * that is not there still throws, naming the field.
 */
export function llmNodes(event: Pick<Event, "target" | "lemonade" | "gateway">): LlmNodes | undefined {
  const t = event.target;
  if (t.kind !== "swarm") return undefined;
  const byName = (name: string, field: string): LlmNode => {
    const n = t.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`${field}: ${name} is not one of target.nodes (${t.nodes.map((x) => x.name).join(", ")})`);
    return { name: n.name, address: n.address };
  };
  const gpu = t.nodes.find((n) => n.labels.gpu === "true");
  const lemonade =
    event.lemonade.node !== undefined
      ? byName(event.lemonade.node, "lemonade.node")
      : gpu
        ? byName(gpu.name, "lemonade.node")
        : byName(t.entry ?? t.nodes[0]!.name, "target.entry");
  const gateway = event.gateway.node !== undefined ? byName(event.gateway.node, "gateway.node") : lemonade;
  return { lemonade, gateway };
}

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
  /** target.kind swarm: the node lemond runs on (its shell declares the files and the activation); undefined on one host. */
  readonly node: LlmNode | undefined;
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

export function planLemonade(event: Pick<Event, "lemonade" | "gateway" | "participants" | "target">): LemonadePlan {
  const l = event.lemonade;
  const n = event.participants.length;
  const nodes = llmNodes(event);
  // With the gateway on, only APISIX (on this host, or on Lemonade's swarm
  // node) talks to lemond: loopback keeps Lemonade's single shared key off
  // the network. Without it, the sandboxes connect through the Docker bridge
  // (or from other swarm nodes), which loopback cannot serve; so does APISIX
  // on another node. Lemonade's API key guards it there.
  const apisixBeside = event.gateway.enabled && (nodes === undefined || nodes.gateway.name === nodes.lemonade.name);
  const host = l.host ?? (apisixBeside ? "127.0.0.1" : "0.0.0.0");
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
    node: nodes?.lemonade,
    sandboxBaseUrl: `http://${urlHost(nodes?.lemonade.address ?? SANDBOX_HOST)}:${l.port}/api/v1`,
    config,
    chat: { ...model(l.chatModel, false), outputTokens: l.chatModel.outputTokens },
    embedding: l.embeddingModel === false ? undefined : { ...model(l.embeddingModel, true), dimension: l.embeddingModel.dimension },
  };
}

/** A host for a URL: an IPv6 literal in brackets. */
export function urlHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
