// The Pulumi program (Pulumi.yaml `main`). The stack's `thon:file` setting
// names the event file; a bad file stops here, before any resource exists.
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { loadEvent, ThonConfigError } from "./config/load.ts";
import { recordPlacement } from "./config/placementLock.ts";
import { PlacementError } from "./placement.ts";
import { planSwarm } from "./plan.ts";
import { defineEvent } from "./program.ts";
import { limitStackTraces } from "./stackTraces.ts";

// About 3x faster and lighter on big events (infra/stackTraces.ts); for the
// whole run: registrations go on after this module has returned.
// THON_STACK_TRACES=1 keeps the stacks.
limitStackTraces();

// The folder of Pulumi.yaml. `thon:file` is relative to it (as Pulumi.yaml and
// `thon` say), not to the working directory: Pulumi's language host runs the
// program in main's folder, infra/ (pkg/engine/project.go getPwdMain).
const PROJECT_ROOT = resolve(import.meta.dirname, "..");

const config = new pulumi.Config("thon");

function load() {
  const file = config.get("file");
  if (file === undefined) {
    const stack = pulumi.getStack();
    throw new pulumi.RunError(
      `thon:file is not set for stack ${stack}: it names the event's thon.yaml. ` +
        `Fix: pulumi config set thon:file <path of thon.yaml, relative to the folder of Pulumi.yaml> --stack ${stack}, or run "thon init --stack ${stack}"`,
    );
  }
  const path = resolve(PROJECT_ROOT, file);
  try {
    const event = loadEvent(path);
    // Placement first, so a refusal stops the run before any resource is declared.
    return { path, event, swarm: planSwarm(event) };
  } catch (err) {
    // RunError: Pulumi prints the message alone, without a stack trace.
    if (err instanceof ThonConfigError) throw new pulumi.RunError(err.message);
    if (err instanceof PlacementError) throw new pulumi.RunError(`${path}: ${err.message}`);
    throw err;
  }
}

const loaded = load();
const outputs = defineEvent(loaded.event);
// thon.placement.yaml gains whoever was placed now, on a real update only
// (see recordPlacement for why now). `thon plan` evaluates this program as an
// update under mocks, so it turns writing off with thon:writePlacementLock false.
recordPlacement(loaded.path, loaded.swarm, !pulumi.runtime.isDryRun() && config.getBoolean("writePlacementLock") !== false);

export const event = outputs.event;
export const participants = outputs.participants;
/** The local LLM participants' tools use (base URL, gateway or direct, models); null when lemonade is off. */
export const llm = outputs.event.apply((e) => e.llm ?? null);
export const caCertUrl = outputs.caCertUrl;
export const caCertPem = outputs.caCertPem;
