// The THON policy pack's policies, assembled from one file per area. Each
// factory takes the enforcement level as a parameter; the organizer may
// override any of them per policy in the pack's config
// (`pulumi preview --policy-pack policies --policy-pack-config <file>`,
// e.g. { "thon-host-memory": "mandatory" } or { "thon-x": { "enforcementLevel": "disabled" } }).
import type { Policies } from "@pulumi/policy";
import { codeServerAuth, passwordStrength, sandboxPasswordFromRandom } from "./access";
import { gatewayAdminNotPublic, gatewayConsumerKeyAndLimit, gatewayRouteKeyAuth } from "./gateway";
import { secretFileMode } from "./secrets";
import {
  containerNoHostMounts,
  containerNotPrivileged,
  sandboxEgressNoMetadata,
  sandboxNoHostNetwork,
  sandboxNonRoot,
  sandboxPidsLimit,
  sandboxResourceLimits,
  sandboxRestartPolicy,
} from "./sandbox";
import { groupMemory, hostMemory, participantCount, uniqueNames } from "./stack";
import { workspaceRetained } from "./storage";
import { swarmNodeMemory, swarmNoVip, swarmServicePinned } from "./swarm";
import { tlsCertValidity, tlsKeyFileMode, tlsKeyStrength } from "./tls";

export const PACK_NAME = "thon";

export function thonPolicies(): Policies {
  return [
    // Containers (sandbox.ts)
    containerNotPrivileged(),
    containerNoHostMounts(),
    sandboxNoHostNetwork(),
    sandboxResourceLimits(),
    sandboxRestartPolicy(),
    sandboxNonRoot(),
    sandboxPidsLimit(),
    sandboxEgressNoMetadata(),
    // Access (access.ts)
    codeServerAuth(),
    passwordStrength(),
    sandboxPasswordFromRandom(),
    // Workspaces (storage.ts)
    workspaceRetained(),
    // TLS (tls.ts)
    tlsKeyStrength(),
    tlsCertValidity(),
    tlsKeyFileMode(),
    // Key and password files (secrets.ts)
    secretFileMode(),
    // Gateway (gateway.ts)
    gatewayConsumerKeyAndLimit(),
    gatewayRouteKeyAuth(),
    gatewayAdminNotPublic(),
    // Whole stack (stack.ts)
    uniqueNames(),
    hostMemory(),
    groupMemory(),
    participantCount(),
    // Docker Swarm (swarm.ts)
    swarmNoVip(),
    swarmServicePinned(),
    swarmNodeMemory(),
  ];
}
