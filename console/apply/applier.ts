// Applying goes through this one small interface: the Automation API adapter
// in production (automation.ts), the e2e engine stand-in in the e2e suite.
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";

export type { EngineEvent };

export interface ApplyOptions {
  /** A candidate thon.yaml to preview instead of the stack's thon:file (preview only). */
  readonly eventFile?: string;
  /** URNs to replace (reset password, recreate sandbox). */
  readonly replace?: readonly string[];
  readonly onEvent: (event: EngineEvent) => void;
  readonly signal?: AbortSignal;
}

/** Resource operations counted by kind ("create", "update", "replace", "delete", "same"). */
export type ChangeCounts = Readonly<Record<string, number>>;

export interface PreviewResult {
  readonly changes: ChangeCounts;
}

export interface UpResult {
  readonly changes: ChangeCounts;
  readonly durationSeconds?: number;
}

export interface Applier {
  preview(options: ApplyOptions): Promise<PreviewResult>;
  up(options: ApplyOptions): Promise<UpResult>;
}

/** The Pulumi CLI is not installed where the console runs: nothing can be previewed or applied for real. */
export class PulumiMissingError extends Error {
  override name = "PulumiMissingError";
}

/** Another update holds the stack (from outside this console). */
export class StackBusyError extends Error {
  override name = "StackBusyError";
}
