// Events with every feature the program has (TLS modes, Lemonade, the APISIX
// gateway per user or per group), written as thon.yaml text and evaluated by
// the real program under mocks: what the policy tests feed the pack.
import { parseThonFile } from "../../infra/config/load.ts";
import { toEvent, type Event } from "../../infra/config/event.ts";
import { evaluate, type Evaluation } from "../../infra/preview/evaluate.ts";
import { defineEvent } from "../../infra/program.ts";
import { llmYaml, type LlmYaml } from "./llm.ts";
import { tlsStandIn } from "./tlsStandIn.ts";

export interface Features {
  readonly tls?: "ca" | "selfsigned" | "provided";
  /** Key algorithm lines under tls:, e.g. "algorithm: RSA\n  rsaBits: 3072". */
  readonly tlsMore?: string;
  /** Lemonade on (default); false: no LLM at all. */
  readonly lemonade?: boolean;
  /** The gateway (default per-user); false: Lemonade without the gateway. */
  readonly gateway?: "per-user" | "per-group" | false;
  readonly llm?: Omit<LlmYaml, "mode" | "gateway">;
  readonly host?: string;
}

/** A public-looking host (TEST-NET-3), so the rules for events reachable beyond loopback apply. */
export const FEATURES_HOST = "203.0.113.10";

export function featuresYaml(f: Features = {}): string {
  const tls = f.tls ?? "ca";
  const lines = [
    "event:",
    "  name: feat",
    `  host: ${f.host ?? FEATURES_HOST}`,
    "  altNames: [thon.example.org]",
    "  hostMemory: 64GiB",
    "groups:",
    "  alpha:",
    "    users: [alice, bob]",
    "  beta:",
    "    users: [carol, { name: dave, state: stopped }]",
    "  empty:",
    "    users: []",
    "tls:",
    `  mode: ${tls}`,
    ...(tls === "provided"
      ? ["  certFile: /etc/letsencrypt/live/thon.example.org/fullchain.pem", "  keyFile: /etc/letsencrypt/live/thon.example.org/privkey.pem"]
      : []),
    ...(f.tlsMore ? [`  ${f.tlsMore}`] : []),
  ];
  const llm =
    f.lemonade === false
      ? ""
      : llmYaml({ ...f.llm, gateway: f.gateway !== false, ...(f.gateway ? { mode: f.gateway } : {}) });
  return `${lines.join("\n")}\n${llm}`;
}

export function featuresEvent(f: Features = {}): Event {
  return toEvent(parseThonFile(featuresYaml(f)));
}

/** With real keys and certificates (./tlsStandIn.ts): the policy tests check that no key leaks into a message. */
export function evaluateFeatures(f: Features = {}): Promise<Evaluation> {
  const event = featuresEvent(f);
  return evaluate(() => defineEvent(event), { outputs: tlsStandIn });
}

/** Every combination the pack must pass: each TLS mode, each gateway mode, Lemonade alone, no LLM. */
export const ALL_FEATURES: readonly (Features & { readonly label: string })[] = [
  { label: "tls ca, gateway per-user", tls: "ca", gateway: "per-user" },
  { label: "tls ca (RSA 3072), gateway per-group", tls: "ca", gateway: "per-group", tlsMore: "algorithm: RSA\n  rsaBits: 3072" },
  { label: "tls selfsigned, gateway per-group", tls: "selfsigned", gateway: "per-group" },
  { label: "tls provided, gateway per-user", tls: "provided", gateway: "per-user" },
  { label: "tls selfsigned, Lemonade without the gateway", tls: "selfsigned", gateway: false },
  { label: "tls provided, no LLM", tls: "provided", lemonade: false },
];
