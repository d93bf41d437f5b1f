// Participants' work: workspace volumes outlive the stack.
import * as docker from "@pulumi/docker";
import { validateResourceOfType, type EnforcementLevel, type ResourceValidationPolicy } from "@pulumi/policy";
import { LABELS, labelMap, nameOf, settle, UNKNOWN } from "./lib";

/**
 * thon-workspace-retained: a workspace volume is protected, or kept when it
 * leaves the stack.
 *
 * The engine tells an analyzer a resource's `protect` option but not its
 * `retainOnDelete` (AnalyzerResourceOptions has no such field), so the Sandbox
 * component, which sets retainOnDelete on every workspace volume, also labels
 * it `org.thon.on-delete: retain`, and a program test keeps label and option
 * together. Workspace volumes are those labelled `org.thon.purpose: workspace`
 * or named `thon-workspace-*`.
 */
export function workspaceRetained(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
  return {
    name: "thon-workspace-retained",
    description:
      "Workspace volumes survive `pulumi destroy` and a participant's removal: protect, or retainOnDelete (labelled org.thon.on-delete=retain). Fix: declare the volume with { retainOnDelete: true } and that label, as components/sandbox.ts does; delete old workspaces with `thon purge <user> --yes`.",
    enforcementLevel,
    validateResource: validateResourceOfType(docker.Volume, (props, args, report) => {
      const v = settle(props);
      if (v === UNKNOWN) return report(`${args.name}: its settings are unknown at preview`);
      const labels = labelMap(v.labels);
      const name = typeof v.name === "string" ? v.name : args.name;
      const isWorkspace = labels === UNKNOWN || labels.get(LABELS.purpose) === "workspace" || name.startsWith("thon-workspace-");
      if (!isWorkspace) return;
      if (args.opts.protect) return;
      if (labels !== UNKNOWN && labels.get(LABELS.onDelete) === "retain") return;
      report(
        `${nameOf(args.name, v)} holds a participant's workspace but is neither protected nor marked ${LABELS.onDelete}=retain: \`pulumi destroy\` or removing the participant would delete their work`,
      );
    }),
  };
}
