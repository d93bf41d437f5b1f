// The Pulumi program (Pulumi.yaml `main`). The stack's `thon:file` setting
// names the event file; a bad file stops here, before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import { loadEvent, ThonConfigError } from "./config/load.ts";
import { defineEvent } from "./program.ts";
import { limitStackTraces } from "./stackTraces.ts";

// About 3x faster and lighter on big events (infra/stackTraces.ts); for the
// whole run: registrations go on after this module has returned.
// THON_STACK_TRACES=1 keeps the stacks.
limitStackTraces();

function load() {
  const file = new pulumi.Config("thon").get("file") ?? "thon.yaml";
  try {
    return loadEvent(file);
  } catch (err) {
    // RunError: Pulumi prints the message alone, without a stack trace.
    if (err instanceof ThonConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

const outputs = defineEvent(load());

export const event = outputs.event;
export const participants = outputs.participants;
/** The local LLM participants' tools use (base URL, gateway or direct, models); null when lemonade is off. */
export const llm = outputs.event.apply((e) => e.llm ?? null);
export const caCertUrl = outputs.caCertUrl;
export const caCertPem = outputs.caCertPem;
