// The pack's program: `pulumi preview --policy-pack policies` runs this file
// (through @pulumi/pulumi/cmd/run-policy-pack, compiled with ts-node).
// `new PolicyPack` starts the gRPC Analyzer server and prints its port for
// the engine; nothing else may print to stdout here.
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, thonPolicies } from "./pack";

new PolicyPack(PACK_NAME, {
  description: "Guard rails for a THON hackathon event: sandboxes, access, workspaces, TLS, gateway, capacity.",
  enforcementLevel: "mandatory",
  policies: thonPolicies(),
});
