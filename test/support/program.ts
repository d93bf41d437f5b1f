// Runs the real program for an event under Pulumi's mocks, with real TLS keys and certificates.
import { evaluate, type Evaluation, type RecordedResource } from "../../infra/preview/evaluate.ts";
import { defineEvent } from "../../infra/program.ts";
import type { Event } from "../../infra/config/event.ts";
import { tlsStandIn } from "./tlsStandIn.ts";

/** Real keys and certificates (./tlsStandIn.ts), so tests can serve them with nginx. */
export function runEvent(event: Event): Promise<Evaluation> {
  return evaluate(() => defineEvent(event), { outputs: tlsStandIn });
}

export function find(e: Evaluation, type: string, name: string): RecordedResource {
  const r = e.resources.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} named ${name}; have: ${e.resources.map((x) => `${x.type}::${x.name}`).join(", ")}`);
  return r;
}

export const T = {
  sandbox: "thon:sandbox:Sandbox",
  container: "docker:index/container:Container",
  volume: "docker:index/volume:Volume",
  password: "random:index/randomPassword:RandomPassword",
  command: "command:local:Command",
  image: "docker:index/remoteImage:RemoteImage",
  file: "thon:host:File",
  directory: "thon:host:Directory",
} as const;
