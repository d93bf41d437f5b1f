// The e2e event: a thon.yaml in a temp folder, evaluated by the real program
// (infra/index.ts, as `thon plan` runs it), and what a test needs from the
// evaluation, read from the recorded resources rather than re-derived.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { evaluateEventFile } from "../../../infra/cli/plan.ts";
import type { Evaluation, RecordedResource } from "../../../infra/preview/evaluate.ts";
import { tlsStandIn } from "../../support/tlsStandIn.ts";
import { TYPES } from "./engine.ts";

export interface E2eUser {
  readonly name: string;
  readonly group: string;
  readonly state?: "running" | "stopped";
}

export interface E2eEventSpec {
  readonly name: string;
  readonly image: string;
  readonly socketDir: string;
  readonly dockerHost: string;
  readonly users: readonly E2eUser[];
  /** More settings of the proxy section (paths under a temp prefix, loopback port, the test's nginx). */
  readonly proxy?: Readonly<Record<string, string | number>>;
  /** Idle parking on (the unavailable page then carries the wake form). */
  readonly idle?: boolean;
}

export function renderEventYaml(spec: E2eEventSpec): string {
  const groups = new Map<string, E2eUser[]>();
  for (const u of spec.users) groups.set(u.group, [...(groups.get(u.group) ?? []), u]);
  const groupYaml = [...groups]
    .map(([g, users]) => `  ${g}:\n    users:\n${users.map((u) => (u.state ? `      - { name: ${u.name}, state: ${u.state} }` : `      - ${u.name}`)).join("\n")}`)
    .join("\n");
  return `# Written by the e2e suite (test/e2e/support/event.ts).
event:
  name: ${spec.name}
  host: 127.0.0.1
sandbox:
  image: ${JSON.stringify(spec.image)}
  # No network at all: nothing in a sandbox can reach a private-range address.
  network: none
  memory: 1GiB
  auth: password
  # Offline here: the entrypoint tries, logs the failure and starts anyway.
  extensions: [ms-python.python]
  settings:
    # Seen in the browser's title: proves code-server reads the injected file.
    window.title: "THON e2e \${rootName}"
proxy:
  socketDir: ${JSON.stringify(spec.socketDir)}
${Object.entries(spec.proxy ?? {})
  .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
  .join("\n")}
target:
  kind: local
  dockerHost: ${JSON.stringify(spec.dockerHost)}
${spec.idle ? "idle:\n  enabled: true\n" : ""}groups:
${groupYaml}
`;
}

/** Writes the event into `dir` as `file` and evaluates the real program on it, with real certificates (nginx serves them). */
export async function evaluateSpec(dir: string, file: string, spec: E2eEventSpec): Promise<Evaluation> {
  const path = join(dir, file);
  writeFileSync(path, renderEventYaml(spec));
  return evaluateEventFile(path, "dev", tlsStandIn);
}

export function containerOf(e: Evaluation, user: string): RecordedResource {
  const r = e.resources.find((x) => x.type === TYPES.container && x.name === `thon-${user}`);
  if (!r) throw new Error(`no container for ${user} in the evaluation`);
  return r;
}

/**
 * The host path of a participant's code-server socket, from the container's
 * own spec: the `--socket` argument, mapped through the bind mount holding it.
 */
export function socketOf(e: Evaluation, user: string): string {
  const c = containerOf(e, user).inputs as { command: string[]; mounts: { type: string; source: string; target: string }[] };
  const i = c.command.indexOf("--socket");
  const inside = c.command[i + 1];
  if (i < 0 || !inside) throw new Error(`container of ${user} has no --socket argument`);
  const mount = c.mounts.find((m) => m.type === "bind" && inside.startsWith(m.target + "/"));
  if (!mount) throw new Error(`no bind mount holds ${inside} for ${user}`);
  return mount.source + inside.slice(mount.target.length);
}

/** A participant's password from the stack outputs. */
export function passwordOf(e: Evaluation, user: string): string {
  const p = (e.outputs.participants as Record<string, { password?: string }> | undefined)?.[user]?.password;
  if (!p) throw new Error(`no password output for ${user}`);
  return p;
}
