// The Pulumi program (Pulumi.yaml `main`). The stack's `thon:file` setting
// names the event file; a bad file stops here, before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import { loadEvent, ThonConfigError } from "./config/load.ts";
import { defineEvent } from "./program.ts";

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
export const caCertUrl = outputs.caCertUrl;
export const caCertPem = outputs.caCertPem;
