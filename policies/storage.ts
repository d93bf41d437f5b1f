// Participants' work: workspace volumes outlive the stack.
import type { EnforcementLevel, PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { LABELS, labelMap, nameOf, ofType, settle, TYPES, UNKNOWN } from "./lib";

interface WorkspaceInput {
  kind?: string;
  name?: string;
  retainOnDelete?: boolean;
}

/** Whether the volume's parent is a Sandbox whose typed `workspace` input keeps this very volume. */
function retainedBySandbox(volume: PolicyResource, volumeName: string): boolean {
  const parent = volume.parent;
  if (parent?.type !== TYPES.sandbox) return false;
  const p = settle(parent.props as { workspace?: WorkspaceInput });
  if (p === UNKNOWN || p.workspace === undefined || p.workspace === UNKNOWN) return false;
  const w = p.workspace;
  return w.kind === "volume" && w.name === volumeName && w.retainOnDelete === true;
}

/**
 * thon-workspace-retained: a workspace volume is protected, or kept when it
 * leaves the stack.
 *
 * The engine tells an analyzer a resource's `protect` option but not its
 * `retainOnDelete` (AnalyzerResourceOptions has no such field), so the
 * Sandbox component (components/sandbox.ts) declares its workspace as a typed
 * input, `workspace: { kind, name, retainOnDelete }`, and gives the volume
 * that same retainOnDelete. Workspace volumes are those labelled
 * `org.thon.purpose: workspace` or named `thon-workspace-*`.
 */
export function workspaceRetained(enforcementLevel: EnforcementLevel = "mandatory"): StackValidationPolicy {
  return {
    name: "thon-workspace-retained",
    description:
      "Workspace volumes survive `pulumi destroy` and a participant's removal: protect, or retainOnDelete (declared by their Sandbox's workspace input). Fix: declare workspace volumes through the Sandbox component (components/sandbox.ts), which keeps them; delete old workspaces with `thon purge <user> --yes`.",
    enforcementLevel,
    validateStack: (args, report) => {
      for (const r of ofType(args.resources, TYPES.volume)) {
        const v = settle(r.props as { name?: string; labels?: { label: string; value: string }[] });
        if (v === UNKNOWN) {
          report(`${r.name}: its settings are unknown at preview`, r.urn);
          continue;
        }
        const labels = labelMap(v.labels);
        const name = typeof v.name === "string" ? v.name : r.name;
        const isWorkspace = labels === UNKNOWN || labels.get(LABELS.purpose) === "workspace" || name.startsWith("thon-workspace-");
        if (!isWorkspace || r.opts.protect || retainedBySandbox(r, name)) continue;
        report(
          `${nameOf(r.name, v)} holds a participant's workspace but is neither protected nor kept by its Sandbox (workspace.retainOnDelete): \`pulumi destroy\` or removing the participant would delete their work`,
          r.urn,
        );
      }
    },
  };
}
