// The Automation API adapter: a LocalWorkspace on this project's folder and
// stack (the program in Pulumi.yaml, state where Pulumi.yaml says), the
// policy pack on preview and up, `replace` targets for reset/recreate.
// A candidate thon.yaml is previewed through a copy of the stack's config
// file naming it (`configFile`), so thon.yaml itself changes only on apply.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { parseDocument } from "yaml";
import type { Applier, ApplyOptions, PreviewResult, UpResult } from "./applier.ts";
import { PulumiMissingError, StackBusyError } from "./applier.ts";

export interface AutomationOptions {
  readonly projectDir: string;
  readonly stack: string;
  /** The CrossGuard pack folder; default <project>/policies. */
  readonly policyPack?: string;
  /** Extra environment for the Pulumi CLI (e.g. PULUMI_CONFIG_PASSPHRASE from the console's own environment). */
  readonly envVars?: Record<string, string>;
  /** Folder holding bin/pulumi; default: pulumi on PATH. */
  readonly pulumiRoot?: string;
}

type Automation = typeof import("@pulumi/pulumi/automation/index.js");

export class AutomationApplier implements Applier {
  constructor(private readonly options: AutomationOptions) {}

  private async stack() {
    const auto: Automation = await import("@pulumi/pulumi/automation/index.js");
    let pulumiCommand;
    try {
      pulumiCommand = await auto.PulumiCommand.get(this.options.pulumiRoot ? { root: this.options.pulumiRoot } : {});
    } catch (err) {
      throw new PulumiMissingError(
        `the Pulumi CLI cannot run here (${(err as Error).message.split("\n")[0]}). Fix: install it (https://www.pulumi.com/docs/install/) on the machine running the console, or use console.changes: propose and apply from CI`,
      );
    }
    const stack = await auto.LocalWorkspace.selectStack(
      { stackName: this.options.stack, workDir: this.options.projectDir },
      { pulumiCommand, ...(this.options.envVars ? { envVars: this.options.envVars } : {}) },
    );
    return { auto, stack };
  }

  private get packs(): string[] {
    return [this.options.policyPack ?? join(this.options.projectDir, "policies")];
  }

  async preview(o: ApplyOptions): Promise<PreviewResult> {
    const { auto, stack } = await this.stack();
    const configFile = o.eventFile ? this.candidateConfig(o.eventFile) : undefined;
    try {
      const r = await stack.preview({
        onEvent: o.onEvent,
        policyPacks: this.packs,
        ...(o.replace?.length ? { replace: [...o.replace] } : {}),
        ...(configFile ? { configFile } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
      return { changes: { ...r.changeSummary } };
    } catch (err) {
      throw mapError(auto, err, this.options.stack);
    } finally {
      if (configFile) rmSync(configFile, { force: true });
    }
  }

  async up(o: ApplyOptions): Promise<UpResult> {
    const { auto, stack } = await this.stack();
    try {
      const r = await stack.up({
        onEvent: o.onEvent,
        policyPacks: this.packs,
        ...(o.replace?.length ? { replace: [...o.replace] } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
      return { changes: { ...(r.summary.resourceChanges ?? {}) } };
    } catch (err) {
      throw mapError(auto, err, this.options.stack);
    }
  }

  /** A copy of Pulumi.<stack>.yaml (secrets salt included) whose thon:file names the candidate. */
  private candidateConfig(eventFile: string): string {
    const source = join(this.options.projectDir, `Pulumi.${this.options.stack}.yaml`);
    const doc = parseDocument(readFileSync(source, "utf8"));
    doc.setIn(["config", "thon:file"], relative(this.options.projectDir, eventFile));
    const out = join(dirname(eventFile), `.${basename(eventFile)}.stack-config.yaml`);
    writeFileSync(out, doc.toString());
    return out;
  }
}

function mapError(auto: Automation, err: unknown, stack: string): Error {
  if (err instanceof auto.ConcurrentUpdateError) {
    return new StackBusyError(
      `stack ${stack} is being updated from outside this console (Pulumi: another update is in progress, or the stack is locked). Fix: wait for it to finish; if a crashed run left the lock, run "pulumi cancel --stack ${stack}"`,
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}
