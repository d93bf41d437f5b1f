// Runs the shell commands a mock run declares, the way pulumi-command's local
// provider runs them: the interpreter with the script as its last argument,
// the `environment` input on top of the process environment, the `stdin`
// input on stdin. Steps are ordered as the Pulumi engine orders them: creates
// and updates along dependencies, then deletes in reverse dependency order.
// This is what lets the real-nginx tests deploy exactly what the program
// declares, and apply exactly the diff of an edit.
import { spawnSync } from "node:child_process";
import { diffEvaluations } from "../../infra/preview/diff.ts";
import type { Evaluation, RecordedResource } from "../../infra/preview/evaluate.ts";

export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export type Operation = "create" | "update" | "delete";

export function runCommand(r: RecordedResource, op: Operation): CommandResult {
  if (r.type !== "command:local:Command") throw new Error(`${r.name} is a ${r.type}, not a local command`);
  const i = r.inputs as {
    create: string;
    update?: string;
    delete?: string;
    stdin?: string;
    interpreter?: string[];
    environment?: Record<string, string>;
  };
  // pulumi-command: without `update`, an update runs `create` again.
  const script = op === "create" ? i.create : op === "update" ? (i.update ?? i.create) : i.delete;
  if (script === undefined) return { status: 0, stdout: "", stderr: "" };
  const [shell, ...args] = i.interpreter ?? ["/bin/sh", "-c"];
  const res = spawnSync(shell!, [...args, script], {
    input: i.stdin ?? "",
    env: { ...process.env, ...(i.environment ?? {}) },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Runs a command and throws with its stderr when it fails. */
export function mustRun(r: RecordedResource, op: Operation): CommandResult {
  const res = runCommand(r, op);
  if (res.status !== 0) throw new Error(`${op} ${r.name} exited ${res.status}: ${res.stderr}`);
  return res;
}

export interface Step {
  readonly op: Operation;
  readonly resource: RecordedResource;
}

function topological(resources: readonly RecordedResource[]): RecordedResource[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const done = new Set<string>();
  const out: RecordedResource[] = [];
  const visit = (r: RecordedResource) => {
    if (done.has(r.urn)) return;
    done.add(r.urn);
    for (const d of r.options.dependencies) {
      const dep = byUrn.get(d);
      if (dep) visit(dep);
    }
    out.push(r);
  };
  [...resources].sort((a, b) => (a.name < b.name ? -1 : 1)).forEach(visit);
  return out;
}

/**
 * The steps `pulumi up` would run for the local commands selected by
 * `include`, going from `before` (undefined: a new stack) to `after`. A
 * replaced command is created anew and its old self deleted, like the
 * engine's default create-before-delete.
 */
export function commandSteps(
  before: Evaluation | undefined,
  after: Evaluation,
  include: (r: RecordedResource) => boolean = () => true,
): Step[] {
  const isCommand = (r: RecordedResource) => r.type === "command:local:Command" && include(r);
  const empty: Evaluation = { resources: [], outputs: {}, secretOutputs: [] };
  const diff = diffEvaluations(before ?? empty, after);
  const kind = new Map(diff.changes.map((c) => [c.urn, c.kind]));
  const steps: Step[] = [];
  for (const r of topological(after.resources.filter(isCommand))) {
    const k = kind.get(r.urn);
    if (k === "create" || k === "replace") steps.push({ op: "create", resource: r });
    else if (k === "update") steps.push({ op: "update", resource: r });
  }
  const old = (before ?? empty).resources.filter(isCommand);
  const deleted = old.filter((r) => kind.get(r.urn) === "delete" || kind.get(r.urn) === "replace");
  for (const r of topological(old).reverse()) {
    if (deleted.includes(r)) steps.push({ op: "delete", resource: r });
  }
  return steps;
}

export const stepNames = (steps: readonly Step[]) => steps.map((s) => `${s.op} ${s.resource.name}`);
