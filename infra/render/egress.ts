// The host firewall around the event's network, as two shell scripts (apply,
// remove) that the program runs as one host command with its own delete, so
// `pulumi destroy` leaves the host's iptables as they were.
//
// Two chains of THON's own, each reached by one jump rule, so removal is
// exact and never touches rules that Docker or the organizer wrote:
//
// - THON-<tag>-FWD, jumped to from DOCKER-USER (Docker's documented place for
//   user rules, evaluated before its own) for traffic *leaving* the bridge:
//   the egress policy (internet without metadata and private ranges, none,
//   or an allow-list).
// - THON-<tag>-IN, jumped to from INPUT for traffic from the bridge to the
//   host itself (which never passes DOCKER-USER): only the gateway's port.
//   Lemonade and both Admin APIs listen on the host and stay out of reach.
//
// Inter-container traffic on the bridge is off in Docker itself
// (com.docker.network.bridge.enable_icc=false on the network).
//
// IPv4 only: the event network has no IPv6. Rules do not survive a reboot of
// the host unless saved (docs/sandbox.md).
import type { EventSandbox } from "../config/event.ts";
import type { NetworkPlan } from "../plan.ts";
import { shellQuote as shq } from "./shell.ts";

/** The cloud instance metadata address (AWS, GCP, Azure, OpenStack...). */
export const METADATA_ADDRESS = "169.254.169.254";

/**
 * What "internet" blocks: link-local (metadata), the private ranges (RFC 1918),
 * carrier-grade NAT (often a provider's internal network) and this-network.
 */
export const BLOCKED_FOR_INTERNET = ["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "0.0.0.0/8"] as const;

export interface EgressSpec {
  readonly network: NetworkPlan;
  readonly egress: EventSandbox["egress"];
}

export function chainNames(network: NetworkPlan): { fwd: string; input: string } {
  return { fwd: `THON-${network.chainTag}-FWD`, input: `THON-${network.chainTag}-IN` };
}

// iptables as root, or through sudo without a prompt for an organizer who is not.
const PRELUDE = [
  'if [ "$(id -u)" = 0 ]; then ipt() { iptables -w "$@"; }; else ipt() { sudo -n iptables -w "$@"; }; fi',
  'command -v iptables >/dev/null 2>&1 || { echo "thon: iptables not found on the host; install it (Debian: apt-get install iptables)" >&2; exit 1; }',
];

function removeLines(spec: EgressSpec): string[] {
  const { fwd, input } = chainNames(spec.network);
  const br = shq(spec.network.bridge);
  return [
    // Each jump is deleted until none is left (an interrupted apply may have added two).
    `while ipt -D DOCKER-USER -i ${br} -j ${fwd} 2>/dev/null; do :; done`,
    `while ipt -D INPUT -i ${br} -j ${input} 2>/dev/null; do :; done`,
    `for c in ${fwd} ${input}; do ipt -F "$c" 2>/dev/null || true; ipt -X "$c" 2>/dev/null || true; done`,
  ];
}

/** Applies the rules; idempotent (removes its own chains first), so it also serves as the update. */
export function egressApplyScript(spec: EgressSpec): string {
  const { fwd, input } = chainNames(spec.network);
  const br = shq(spec.network.bridge);
  const lines = [...PRELUDE, ...removeLines(spec)];
  // dockerd creates DOCKER-USER with its first network; create it if this runs first.
  lines.push("ipt -N DOCKER-USER 2>/dev/null || true", `ipt -N ${fwd}`, `ipt -N ${input}`);
  lines.push(`ipt -A ${fwd} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`);
  const egress = spec.egress;
  if (egress === "none") {
    lines.push(`ipt -A ${fwd} -j DROP`);
  } else if (egress === "internet") {
    lines.push(`ipt -A ${fwd} -d ${METADATA_ADDRESS}/32 -j DROP`);
    // Name resolution: the host's resolver may sit in a private range (a cloud VPC's).
    lines.push(`ipt -A ${fwd} -p udp --dport 53 -j RETURN`, `ipt -A ${fwd} -p tcp --dport 53 -j RETURN`);
    for (const cidr of BLOCKED_FOR_INTERNET) lines.push(`ipt -A ${fwd} -d ${cidr} -j DROP`);
    lines.push(`ipt -A ${fwd} -j RETURN`);
  } else {
    for (const cidr of [...egress].sort()) lines.push(`ipt -A ${fwd} -d ${shq(cidr)} -j RETURN`);
    lines.push(`ipt -A ${fwd} -j DROP`);
  }
  for (const port of spec.network.hostPorts) lines.push(`ipt -A ${input} -p tcp --dport ${port} -j ACCEPT`);
  lines.push(`ipt -A ${input} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`, `ipt -A ${input} -j DROP`);
  lines.push(`ipt -I DOCKER-USER -i ${br} -j ${fwd}`, `ipt -I INPUT -i ${br} -j ${input}`, "");
  return lines.join("\n");
}

/** Removes exactly what egressApplyScript added. */
export function egressRemoveScript(spec: EgressSpec): string {
  return [...PRELUDE.slice(0, 1), "command -v iptables >/dev/null 2>&1 || exit 0", ...removeLines(spec), ""].join("\n");
}
