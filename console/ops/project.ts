// The event the console works on: the Pulumi project folder, the stack and
// its thon.yaml. Every read goes to the file again (an organizer may edit it
// by hand between two requests); writes are atomic (temp file, rename).
import { swarmTargetOf } from "../../infra/config/swarmTarget.ts";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { loadEvent, parseThonFile, ThonConfigError } from "../../infra/config/load.ts";
import type { Event } from "../../infra/config/event.ts";
import { planEvent, type EventPlan, type ParticipantPlan } from "../../infra/plan.ts";
import { OpError } from "./errors.ts";

export interface ProjectOptions {
  /** Folder of Pulumi.yaml. */
  readonly projectDir: string;
  readonly stack: string;
  /** The event file; default: the stack's thon:file. */
  readonly eventFile?: string;
}

export type ChangesMode = "apply" | "propose";

export class Project {
  readonly projectDir: string;
  readonly stack: string;
  readonly eventFile: string;
  readonly projectName: string;

  constructor(options: ProjectOptions) {
    this.projectDir = options.projectDir;
    this.stack = options.stack;
    this.projectName = readProjectName(options.projectDir);
    this.eventFile = options.eventFile ?? stackEventFile(options.projectDir, options.stack);
  }

  readText(): string {
    return readFileSync(this.eventFile, "utf8");
  }

  /** Writes thon.yaml atomically: a reader sees the old file or the new one, never half. */
  writeText(text: string): void {
    const tmp = join(dirname(this.eventFile), `.${basename(this.eventFile)}.thon-tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, this.eventFile);
  }

  event(): Event {
    try {
      return loadEvent(this.eventFile);
    } catch (err) {
      if (err instanceof ThonConfigError) throw configError(err);
      throw err;
    }
  }

  plan(): EventPlan {
    return planEvent(this.event());
  }

  participant(name: string): ParticipantPlan {
    const p = this.plan().participants.find((x) => x.name === name);
    if (!p) throw new OpError("not_found", `there is no participant "${name}" in ${basename(this.eventFile)}`, "check the name with GET /api/v1/participants (thon users list)", "name");
    return p;
  }

  /** `console.changes` in thon.yaml: apply (default) or propose. */
  changesMode(): ChangesMode {
    return parseThonFile(this.readText(), this.eventFile).console?.changes ?? "apply";
  }

  /** The engine URNs of a participant's password and container (for targeted replaces). */
  urns(p: ParticipantPlan): { readonly password: string; readonly container: string } {
    // On a swarm the participant is a thon:sandbox:SwarmSandbox whose docker.Service is named as the container would be.
    const swarm = swarmTargetOf(this.event()) !== undefined;
    const sandbox = engineUrn(this.stack, this.projectName, "", swarm ? "thon:sandbox:SwarmSandbox" : "thon:sandbox:Sandbox", p.resourceNames.sandbox);
    return {
      password: engineUrn(this.stack, this.projectName, sandbox, "random:index/randomPassword:RandomPassword", p.resourceNames.password),
      container: engineUrn(this.stack, this.projectName, sandbox, swarm ? "docker:index/service:Service" : "docker:index/container:Container", p.resourceNames.container),
    };
  }
}

/**
 * The URN the engine gives a resource, as infra/preview/evaluate.ts engineUrn
 * (written out here: that module loads @pulumi/pulumi, ~100 MiB the console
 * does not otherwise need). test/console/api.test.ts checks both agree.
 */
function engineUrn(stack: string, project: string, parent: string, type: string, name: string): string {
  const parentType = parent === "" ? "" : (parent.split("::")[2] ?? "");
  const qualified = parentType !== "" && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** A config problem as an operation error: 422, each problem with its thon.yaml path. */
export function configError(err: ThonConfigError): OpError {
  return new OpError(
    "invalid_config",
    err.message,
    "the change would leave thon.yaml invalid; nothing was written. Fix the input (or thon.yaml) as each problem says",
    err.problems[0]?.path,
    err.problems.map((p) => ({ field: p.path, message: p.message })),
  );
}

function readProjectName(dir: string): string {
  try {
    const doc = parseYaml(readFileSync(join(dir, "Pulumi.yaml"), "utf8")) as { name?: unknown };
    return typeof doc.name === "string" ? doc.name : "thon";
  } catch {
    return "thon";
  }
}

function stackEventFile(dir: string, stack: string): string {
  let named: unknown;
  try {
    const doc = parseYaml(readFileSync(join(dir, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
    named = doc.config?.["thon:file"];
  } catch {
    named = undefined;
  }
  return join(dir, typeof named === "string" ? named : "thon.yaml");
}
