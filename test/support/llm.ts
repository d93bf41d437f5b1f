// Events with Lemonade and the gateway on, evaluated by the real program
// under mocks, and the dynamic resources' records the contract tests replay.
import { join } from "node:path";
import { evaluate, type Evaluation, type RecordedResource } from "../../infra/preview/evaluate.ts";
import { defineEvent } from "../../infra/program.ts";
import { makeEvent } from "./events.ts";

export const ROOT = join(import.meta.dirname, "../..");

export const D = {
  route: "pulumi-nodejs:dynamic/apisix:Route",
  consumer: "pulumi-nodejs:dynamic/apisix:Consumer",
  model: "pulumi-nodejs:dynamic/lemonade:Model",
} as const;

export interface LlmYaml {
  readonly adminUrl?: string;
  readonly apiUrl?: string;
  readonly lemonadeUrl?: string;
  readonly apisixVersion?: string;
  readonly mode?: "per-user" | "per-group";
  readonly limit?: string;
  readonly gateway?: boolean;
  readonly more?: string;
  readonly lemonadeMore?: string;
}

export function llmYaml(o: LlmYaml = {}): string {
  const lines = [
    "lemonade:",
    "  enabled: true",
    ...(o.apiUrl ? [`  apiUrl: ${o.apiUrl}`] : []),
    "  startTimeoutSeconds: 2",
    ...(o.lemonadeMore ? [o.lemonadeMore] : []),
    "gateway:",
    `  enabled: ${o.gateway ?? true}`,
    `  apisixVersion: "${o.apisixVersion ?? "3.15"}"`,
    ...(o.adminUrl ? [`  adminUrl: ${o.adminUrl}`] : []),
    ...(o.lemonadeUrl ? [`  lemonadeUrl: ${o.lemonadeUrl}`] : []),
    `  mode: ${o.mode ?? "per-user"}`,
    ...(o.limit ? [`  limit: ${o.limit}`] : []),
  ];
  return lines.join("\n") + "\n" + (o.more ?? "");
}

export function evaluateLlm(groups: Record<string, string[]>, o: LlmYaml = {}, config: Record<string, string> = {}): Promise<Evaluation> {
  const event = makeEvent(groups, llmYaml(o));
  return evaluate(() => defineEvent(event), { config });
}

export function record(e: Evaluation, type: string, name: string): RecordedResource {
  const r = e.resources.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} named ${name}; have: ${e.resources.map((x) => `${x.type}::${x.name}`).join(", ")}`);
  return r;
}

/** The inputs as the engine holds them after Check: what Create receives. */
export const inputsOf = (r: RecordedResource) => JSON.parse(JSON.stringify(r.inputs)) as Record<string, unknown>;
