// Containers: what a participant's sandbox (and any other container of the
// event) may do to the host. Checked on the container's inputs, per resource,
// before anything is created.
import * as docker from "@pulumi/docker";
import { validateResourceOfType, type EnforcementLevel, type ResourceValidationPolicy } from "@pulumi/policy";
import { configOf, isSandbox, nameOf, settle, show, UNKNOWN } from "./lib";

// Capabilities that give a container power over the host or its neighbours.
const DANGEROUS_CAPABILITIES = new Set([
  "ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_RAWIO", "SYS_PTRACE", "SYS_BOOT", "SYS_TIME", "DAC_READ_SEARCH",
  "NET_ADMIN", "NET_RAW", "MAC_ADMIN", "MAC_OVERRIDE", "BPF", "PERFMON", "SYSLOG",
]);

const capName = (c: string) => c.toUpperCase().replace(/^CAP_/, "");

/**
 * thon-container-not-privileged: no container of the event is privileged,
 * adds a dangerous capability, shares the host's PID/IPC/user/cgroup
 * namespaces, gets host devices, or turns off seccomp/AppArmor; sandboxes
 * also keep `no-new-privileges`.
 */
export function containerNotPrivileged(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
  return {
    name: "thon-container-not-privileged",
    description:
      "Containers run unprivileged: no `privileged`, no dangerous added capabilities, no host PID/IPC/user/cgroup namespace, no host devices, seccomp and AppArmor on, and sandboxes keep no-new-privileges. Fix: remove the setting from the container in the program (components/sandbox.ts for sandboxes).",
    enforcementLevel,
    validateResource: validateResourceOfType(docker.Container, (props, args, report) => {
      const c = settle(props);
      if (c === UNKNOWN) return report(`${args.name}: its settings are unknown at preview, so nothing can be checked`);
      const who = nameOf(args.name, c);
      if (c.privileged === UNKNOWN) report(`${who}: privileged is unknown at preview; set it to a literal false (or leave it out)`);
      else if (c.privileged === true) report(`${who} is privileged: it can take over the host. Remove privileged: true`);

      const caps = c.capabilities;
      const adds = caps === UNKNOWN ? UNKNOWN : caps?.adds;
      if (adds === UNKNOWN) report(`${who}: added capabilities are unknown at preview`);
      else {
        for (const cap of adds ?? []) {
          if (cap === UNKNOWN) report(`${who}: an added capability is unknown at preview`);
          else if (DANGEROUS_CAPABILITIES.has(capName(cap))) report(`${who} adds capability ${cap}, which reaches beyond the container`);
        }
      }

      for (const field of ["pidMode", "ipcMode", "usernsMode", "cgroupnsMode"] as const) {
        const mode = c[field];
        if (mode === UNKNOWN) report(`${who}: ${field} is unknown at preview`);
        else if (mode === "host") report(`${who} shares the host's namespace (${field}: host)`);
      }

      const devices = c.devices;
      if (devices === UNKNOWN || (devices?.length ?? 0) > 0) report(`${who} gets host devices (devices: ${show(devices)})`);
      const rules = c.deviceCgroupRules;
      if (rules === UNKNOWN || (rules?.length ?? 0) > 0) report(`${who} has device cgroup rules (${show(rules)})`);

      const opts = c.securityOpts;
      if (opts === UNKNOWN) report(`${who}: securityOpts are unknown at preview`);
      else {
        for (const opt of opts ?? []) {
          if (opt === UNKNOWN) report(`${who}: a security option is unknown at preview`);
          else if (/^(seccomp|apparmor)[=:]unconfined$/i.test(opt) || /^label[=:]disable$/i.test(opt) || /^no-new-privileges[=:]false$/i.test(opt)) {
            report(`${who} turns a protection off (securityOpts: ${opt})`);
          }
        }
        if (isSandbox(c.labels) && !(opts ?? []).some((o) => typeof o === "string" && /^no-new-privileges([=:]true)?$/i.test(o))) {
          report(`${who} is a sandbox without no-new-privileges: a setuid binary in the image could gain root. Add securityOpts: ["no-new-privileges:true"]`);
        }
      }
    }),
  };
}

// Host paths no container may see: the container engines' sockets (root on
// the host), the host's root and system folders, the engines' state.
const SENSITIVE_PATHS = [
  "/", "/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/home", "/usr", "/bin", "/sbin", "/lib", "/lib64",
  "/var/lib/docker", "/var/lib/containerd", "/var/run/docker.sock", "/run/docker.sock",
  "/run/containerd", "/var/run/containerd", "/run/podman", "/var/run/podman",
];
const SOCKET_NAME = /(^|\/)(docker|containerd|podman|crio|dockershim)\.sock$/;

/** Removes `.`, `..`, double and trailing slashes. */
function normalizePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/**
 * Why mounting `source` is dangerous, or undefined when it is not.
 * @internal exported for tests.
 */
export function sensitiveHostPath(source: string): string | undefined {
  const path = normalizePath(source);
  if (SOCKET_NAME.test(path)) return "a container engine's socket (root on the host)";
  for (const s of SENSITIVE_PATHS) {
    if (path === s) return s === "/" ? "the host's root" : `the host's ${s}`;
    // An ancestor of a sensitive path exposes it (/var exposes /var/run/docker.sock).
    if (s.startsWith(`${path}/`)) return `${path}, which holds ${s}`;
    if (s !== "/" && path.startsWith(`${s}/`) && !["/home", "/usr"].includes(s)) return `a path inside the host's ${s}`;
  }
  return undefined;
}

/**
 * thon-container-no-host-mounts: no container bind-mounts the Docker socket,
 * the host's root or a system folder (nor a folder that holds one).
 */
export function containerNoHostMounts(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
  return {
    name: "thon-container-no-host-mounts",
    description:
      "Containers mount no container-engine socket (docker.sock), not the host's root and no system folder (/etc, /proc, /var/lib/docker, ...). Fix: mount a named volume or a folder of the participant's own (workspace.mode bind uses <hostDir>/<user>).",
    enforcementLevel,
    validateResource: validateResourceOfType(docker.Container, (props, args, report) => {
      const c = settle(props);
      if (c === UNKNOWN) return report(`${args.name}: its mounts are unknown at preview`);
      const who = nameOf(args.name, c);
      const check = (where: string, source: unknown) => {
        if (source === UNKNOWN) return report(`${who}: the host path of ${where} is unknown at preview; bind mounts must name a literal path`);
        if (typeof source !== "string") return;
        const why = sensitiveHostPath(source);
        if (why) report(`${who} mounts ${source} (${where}): ${why}`);
      };
      const mounts = c.mounts;
      if (mounts === UNKNOWN) report(`${who}: mounts are unknown at preview`);
      else {
        for (const m of mounts ?? []) {
          if (m === UNKNOWN) {
            report(`${who}: a mount is unknown at preview`);
            continue;
          }
          // Named volumes and tmpfs have no host path; a mount of unknown type might.
          if (m.type === "bind" || m.type === UNKNOWN) check(`mount at ${show(m.target)}`, m.source);
        }
      }
      const volumes = c.volumes;
      if (volumes === UNKNOWN) report(`${who}: volumes are unknown at preview`);
      else {
        for (const v of volumes ?? []) {
          if (v === UNKNOWN) report(`${who}: a volume is unknown at preview`);
          else if (v.hostPath !== undefined) check(`volume at ${show(v.containerPath)}`, v.hostPath);
        }
      }
    }),
  };
}

interface HostNetworkConfig {
  allowHostNetwork: boolean;
}

/**
 * thon-sandbox-no-host-network: sandboxes use Docker's bridge, no network or
 * a network of the event; never another container's network namespace; they
 * publish no ports (the proxy is the one entry). Host networking only when
 * the organizer allows it in the pack's config (`allowHostNetwork: true`).
 */
export function sandboxNoHostNetwork(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
  return {
    name: "thon-sandbox-no-host-network",
    description:
      "Sandboxes stay off the host's network: no network_mode host (unless this policy's config sets allowHostNetwork: true), no other container's network, no published ports. Fix: set sandbox.network in thon.yaml to bridge or none, or allow host networking in the policy config (policies/config.*.json).",
    enforcementLevel,
    configSchema: {
      properties: {
        allowHostNetwork: {
          type: "boolean",
          default: false,
          description: "Allow sandboxes on the host's network (they then see every port on the host, including other sandboxes' sockets on loopback).",
        },
      },
    },
    validateResource: validateResourceOfType(docker.Container, (props, args, report) => {
      const c = settle(props);
      if (c === UNKNOWN) return report(`${args.name}: its network settings are unknown at preview`);
      if (!isSandbox(c.labels)) return;
      const { allowHostNetwork } = configOf<HostNetworkConfig>(args, { allowHostNetwork: false });
      const who = nameOf(args.name, c);
      const mode = c.networkMode;
      if (mode === UNKNOWN) report(`${who}: networkMode is unknown at preview`);
      else if (mode === "host" && !allowHostNetwork) {
        report(`${who} uses the host's network (networkMode: host); it could reach every service on the host. Set sandbox.network to bridge or none, or allowHostNetwork in the policy config`);
      } else if (typeof mode === "string" && mode.startsWith("container:")) {
        report(`${who} joins another container's network namespace (${mode}) and can reach what listens on its loopback`);
      }
      const ports = c.ports;
      if (ports === UNKNOWN || (ports?.length ?? 0) > 0) {
        report(`${who} publishes ports (${show(ports)}), bypassing the HTTPS proxy. Remove them: sandboxes are reached through their unix socket`);
      }
      if (c.publishAllPorts === true || c.publishAllPorts === UNKNOWN) report(`${who} publishes all its ports (publishAllPorts: ${show(c.publishAllPorts)})`);
    }),
  };
}

/** thon-sandbox-resource-limits: every sandbox has a memory limit (no unlimited swap) and a CPU limit. */
export function sandboxResourceLimits(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
  return {
    name: "thon-sandbox-resource-limits",
    description:
      "Every sandbox has a memory limit, no unlimited swap and a CPU limit, so one participant's runaway build cannot starve the others. Fix: set sandbox.memory and sandbox.cpus in thon.yaml (the program passes them as memory, memorySwap and cpus).",
    enforcementLevel,
    validateResource: validateResourceOfType(docker.Container, (props, args, report) => {
      const c = settle(props);
      if (c === UNKNOWN) return report(`${args.name}: its limits are unknown at preview`);
      if (!isSandbox(c.labels)) return;
      const who = nameOf(args.name, c);
      if (c.memory === UNKNOWN) report(`${who}: memory is unknown at preview`);
      else if (typeof c.memory !== "number" || c.memory <= 0) report(`${who} has no memory limit (memory: ${show(c.memory)})`);
      if (c.memorySwap === -1) report(`${who} may swap without limit (memorySwap: -1); set memorySwap to the memory limit`);
      else if (c.memorySwap === UNKNOWN) report(`${who}: memorySwap is unknown at preview`);

      const cpus = c.cpus;
      const quota = c.cpuQuota;
      if (cpus === UNKNOWN || quota === UNKNOWN) report(`${who}: the CPU limit is unknown at preview`);
      else {
        const n = cpus === undefined ? undefined : Number(cpus);
        const hasCpus = n !== undefined && Number.isFinite(n) && n > 0;
        const hasQuota = typeof quota === "number" && quota > 0;
        if (!hasCpus && !hasQuota) report(`${who} has no CPU limit (cpus: ${show(cpus)})`);
      }
    }),
  };
}

const RESTART_POLICIES = new Set(["always", "unless-stopped", "on-failure"]);

/** thon-sandbox-restart-policy: sandboxes come back after a crash or a host reboot. */
export function sandboxRestartPolicy(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
  return {
    name: "thon-sandbox-restart-policy",
    description:
      "Every sandbox has a restart policy (unless-stopped, always or on-failure), so it comes back after a crash or a reboot of the host during the event. Fix: set sandbox.restart in thon.yaml (default unless-stopped); the Docker provider's own default is no.",
    enforcementLevel,
    validateResource: validateResourceOfType(docker.Container, (props, args, report) => {
      const c = settle(props);
      if (c === UNKNOWN) return report(`${args.name}: its restart policy is unknown at preview`);
      if (!isSandbox(c.labels)) return;
      const who = nameOf(args.name, c);
      if (c.restart === UNKNOWN) report(`${who}: restart is unknown at preview`);
      else if (c.restart === undefined || !RESTART_POLICIES.has(c.restart.replace(/:\d+$/, ""))) {
        report(`${who} would stay down after a crash or reboot (restart: ${show(c.restart)})`);
      }
    }),
  };
}

/** The user and group of a `user` setting that are root, if any. */
function rootParts(user: string): string[] {
  const [u = "", g] = user.split(":");
  const out: string[] = [];
  if (u === "0" || u === "root") out.push(`user ${u}`);
  if (g === "0" || g === "root") out.push(`group ${g}`);
  return out;
}

/** thon-sandbox-non-root: sandboxes run as a named non-root user, without root's or docker's group. */
export function sandboxNonRoot(enforcementLevel: EnforcementLevel = "mandatory"): ResourceValidationPolicy {
  return {
    name: "thon-sandbox-non-root",
    description:
      "Sandboxes run as a non-root user given explicitly (not the image's default), in no root or docker group. Fix: set sandbox.user in thon.yaml to uid:gid of an ordinary user, e.g. \"1000:1000\".",
    enforcementLevel,
    validateResource: validateResourceOfType(docker.Container, (props, args, report) => {
      const c = settle(props);
      if (c === UNKNOWN) return report(`${args.name}: its user is unknown at preview`);
      if (!isSandbox(c.labels)) return;
      const who = nameOf(args.name, c);
      const user = c.user;
      if (user === UNKNOWN) report(`${who}: user is unknown at preview`);
      else if (user === undefined || user.trim() === "") report(`${who} runs as the image's default user, which may be root; set user explicitly`);
      else for (const part of rootParts(user.trim())) report(`${who} runs with root's ${part} (user: ${JSON.stringify(user)})`);
      const groups = c.groupAdds;
      if (groups === UNKNOWN) report(`${who}: groupAdds are unknown at preview`);
      else for (const g of groups ?? []) if (g === UNKNOWN || ["0", "root", "docker"].includes(g)) report(`${who} joins group ${show(g)}`);
    }),
  };
}
