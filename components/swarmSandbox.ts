import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import type { EventSandbox } from "../infra/config/event.ts";
import { codeServerArgs, SANDBOX_PATHS, type ParticipantPlan } from "../infra/plan.ts";
import { stableJson } from "../infra/render/json.ts";
import { LABELS } from "../infra/resourceNames.ts";
import type { NodeShell, Target } from "../infra/target.ts";
import { HostDirectory } from "./hostDirectory.ts";
import type { SandboxFile } from "./sandbox.ts";

/** Where the password secret appears in the task (the entrypoint reads it from PASSWORD_FILE). */
export const PASSWORD_SECRET_PATH = "/run/secrets/thon-password";

/** A file with secret content (the Kilo config and its API key): a docker.Secret named `thon-files-<user>-<key>`. */
export interface SwarmSecretFile extends SandboxFile {
  /** A short name for the file (at most 12 characters: Swarm names are at most 64). */
  readonly key: string;
  /** An environment variable the task gets with the file's path (the entrypoint reads it), e.g. THON_KILO_CONFIG_FILE. */
  readonly env?: string;
}

export interface SwarmSandboxArgs {
  readonly plan: ParticipantPlan;
  readonly eventName: string;
  readonly sandbox: EventSandbox;
  /** The event's overlay network (its id), joined unless sandbox.network is "none". */
  readonly network?: pulumi.Input<string>;
  /** Group of the node nginx's workers: the only ones allowed on the socket. */
  readonly socketGroup: string;
  /** The image reference (name:tag) present on every node: a swarm here has no registry. */
  readonly image: pulumi.Input<string>;
  /** The manager: services, secrets and configs are declared there. */
  readonly target: Target;
  /** The participant's node: its socket folder (and a bind workspace) are made there. */
  readonly node: NodeShell;
  /** What must exist before the service: its node's labels (the constraint names one). */
  readonly after?: readonly pulumi.Resource[];
  /** Files with secret content, mounted as Swarm secrets. */
  readonly secretFiles?: readonly SwarmSecretFile[];
}

/**
 * One participant on a Docker Swarm (issue 18, SWARM.md): a service with one
 * replica, pinned to the participant's node by its label.
 *
 * - Home and workspace are `volume` mounts of the service, not docker.Volume
 *   resources: a docker.Volume would be made on the manager, while a mount's
 *   volumeOptions make Docker create the volume on the node the task runs on.
 *   Deleting the service leaves the volume there (Swarm never removes named
 *   volumes), which is the retain-on-delete of the single-host Sandbox.
 * - The socket folder is made on the node over SSH and bind-mounted, so the
 *   node's nginx reaches code-server by path as on one host.
 * - The password is a Swarm secret mounted as a file; the service's env has
 *   only PASSWORD_FILE, so `docker service inspect` never shows the password
 *   (the image's entrypoint exports it for code-server).
 * - Secrets and configs are immutable in Swarm: they are autonamed (the
 *   logical name plus a random suffix, by the provider) and replaced, not
 *   updated, when their content changes. Pulumi creates the replacement
 *   first, moves the service to it, then deletes the old one, which Swarm
 *   only allows once no service uses it. Autonaming rather than a content
 *   hash in the name: a digest of a password does not belong in
 *   `docker secret ls`.
 * - Stopped (state: stopped, parking) is replicas 0; resuming is 1. The
 *   task's container goes, its volumes stay.
 */
export class SwarmSandbox extends pulumi.ComponentResource {
  public readonly name: string;
  public readonly url: string;
  public readonly endpointPath: string;
  public readonly socketPath: string;
  public readonly serviceName: string;
  public readonly serviceId: pulumi.Output<string>;
  public readonly node: string;
  /** The code-server password (secret); undefined when auth is "none". */
  public readonly password: pulumi.Output<string> | undefined;

  constructor(name: string, args: SwarmSandboxArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan, sandbox, target, node } = args;
    if (plan.node !== node.node) throw new Error(`${name}: planned on node ${String(plan.node)}, given the shell of ${node.node}`);
    // Same typed workspace input as Sandbox (the policy pack's thon-workspace-retained).
    const workspace = { kind: plan.workspace.kind, ...(plan.workspace.kind === "volume" ? { name: plan.workspace.volumeName } : plan.workspace.kind === "bind" ? { name: plan.workspace.hostPath } : {}), retainOnDelete: plan.workspace.kind !== "ephemeral" };
    super("thon:sandbox:SwarmSandbox", name, { workspace, node: node.node }, opts);
    const names = plan.resourceNames;
    const [uid, gid = uid] = sandbox.user.split(":") as [string, string?];
    const child = { parent: this, provider: target.docker };
    const secretLabels = labelList({ ...plan.labels, [LABELS.purpose]: "sandbox-file" });

    const mounts: docker.types.input.ServiceTaskSpecContainerSpecMount[] = [];
    const dependsOn: pulumi.Resource[] = [...(args.after ?? [])];
    if (plan.workspace.kind === "volume") {
      mounts.push({
        type: "volume",
        source: plan.workspace.volumeName,
        target: SANDBOX_PATHS.workspace,
        volumeOptions: {
          driverName: "local",
          // A size quota: Docker's local driver supports it on xfs with pquota only (docs/sandbox.md).
          ...(sandbox.workspaceSize !== undefined ? { driverOptions: { size: `${sandbox.workspaceSize}m` } } : {}),
          labels: labelList({ ...plan.labels, [LABELS.purpose]: "workspace" }),
        },
      });
    } else if (plan.workspace.kind === "bind") {
      const dir = new HostDirectory(
        names.workspaceDir,
        { target: node, path: plan.workspace.hostPath, mode: "0750", owner: uid, group: gid, keep: true },
        { parent: this },
      );
      dependsOn.push(dir.command);
      mounts.push({ type: "bind", source: plan.workspace.hostPath, target: SANDBOX_PATHS.workspace });
    }
    if (plan.home.kind === "volume") {
      mounts.push({
        type: "volume",
        source: plan.home.volumeName,
        target: SANDBOX_PATHS.home,
        volumeOptions: { driverName: "local", labels: labelList({ ...plan.labels, [LABELS.purpose]: "home" }) },
      });
    }
    // setgid to the nginx group, as on one host (Sandbox): only nginx may connect.
    const socketDir = new HostDirectory(
      names.socketDir,
      { target: node, path: plan.socketHostDir, mode: "2770", owner: uid, group: args.socketGroup, keep: false, removeFiles: [plan.socketHostPath] },
      { parent: this },
    );
    dependsOn.push(socketDir.command);
    mounts.push({ type: "bind", source: plan.socketHostDir, target: SANDBOX_PATHS.socketDir });

    const secrets: pulumi.Input<docker.types.input.ServiceTaskSpecContainerSpecSecret>[] = [];
    let password: random.RandomPassword | undefined;
    if (sandbox.auth === "password") {
      password = new random.RandomPassword(
        names.password,
        // Letters and digits only: participants type it from a printed card.
        { length: sandbox.passwordLength, special: false, minLower: 2, minUpper: 2, minNumeric: 2 },
        { parent: this },
      );
      const secret = new docker.Secret(
        names.passwordSecret,
        { data: pulumi.secret(password.result.apply(base64)), labels: secretLabels },
        { ...child, additionalSecretOutputs: ["data"] },
      );
      secrets.push({ secretId: secret.id, secretName: secret.name, fileName: PASSWORD_SECRET_PATH, fileUid: uid, fileGid: gid, fileMode: 0o400 });
    }
    for (const f of args.secretFiles ?? []) {
      if (!/^[a-z0-9-]{1,12}$/.test(f.key)) throw new Error(`${name}: secret file key ${f.key} must be 1-12 of a-z, 0-9, '-'`);
      const secret = new docker.Secret(
        `${names.configFiles}-${f.key}`,
        { data: pulumi.secret(pulumi.output(f.content).apply(base64)), labels: secretLabels },
        { ...child, additionalSecretOutputs: ["data"] },
      );
      secrets.push({ secretId: secret.id, secretName: secret.name, fileName: f.path, fileUid: uid, fileGid: gid, fileMode: 0o400 });
    }

    // Not the participant's settings.json (in the home volume): the entrypoint
    // merges these over it at each start, so the organizer's keys win.
    const settings = new docker.ServiceConfig(
      `${names.configFiles}-settings`,
      { data: base64(stableJson(sandbox.settings)), labels: labelList({ ...plan.labels, [LABELS.purpose]: "sandbox-file" }) },
      child,
    );

    const running = plan.state === "running";
    const service = new docker.Service(
      names.service,
      {
        name: plan.containerName,
        labels: labelList(plan.labels),
        // One replica, or none while stopped or parked; never global.
        mode: { replicated: { replicas: running ? 1 : 0 } },
        // DNS round-robin: no virtual IP, no published port (no IPVS needed; nginx reaches the socket).
        endpointSpec: { mode: "dnsrr" },
        taskSpec: {
          containerSpec: {
            image: args.image,
            // `args` is the image's CMD; `commands` would replace its entrypoint (tini, then ours).
            args: codeServerArgs(sandbox.auth),
            user: sandbox.user,
            env: environment(args, password !== undefined),
            labels: labelList(plan.labels),
            mounts,
            secrets,
            configs: [{ configId: settings.id, configName: settings.name, fileName: SANDBOX_PATHS.organizerSettings, fileUid: uid, fileGid: gid, fileMode: 0o400 }],
            init: true,
            capDrops: ["ALL"],
            stopGracePeriod: "30s",
          },
          placement: { constraints: [`node.labels.${LABELS.node}==${node.node}`] },
          resources: {
            limits: { memoryBytes: sandbox.memory * 1024 * 1024, nanoCpus: Math.round(sandbox.cpus * 1e9) },
          },
          restartPolicy: { condition: restartCondition(sandbox.restart) },
          ...(sandbox.network === "none" ? {} : { networksAdvanceds: [{ id: sandbox.network ?? args.network! }] }),
          logDriver: { name: "json-file", options: { "max-size": "10m", "max-file": "3" } },
        },
        // One replica on one node-local volume: the old task must stop before the new one starts.
        updateConfig: { order: "stop-first", parallelism: 1 },
        rollbackConfig: { order: "stop-first", parallelism: 1 },
      },
      // The name is fixed (thon-<user>), so a replacement removes the old service first.
      { ...child, dependsOn, deleteBeforeReplace: true },
    );

    this.name = plan.name;
    this.url = plan.url;
    this.endpointPath = plan.endpointPath;
    this.socketPath = plan.socketHostPath;
    this.serviceName = plan.containerName;
    this.serviceId = service.id;
    this.node = node.node;
    this.password = password?.result;
    this.registerOutputs({ url: this.url, serviceId: this.serviceId, node: this.node, password: this.password });
  }
}

/** Swarm secrets and configs carry their content base64-encoded (the provider decodes it). */
function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/** sandbox.restart in Swarm's terms: Swarm has no "unless-stopped" (replicas 0 is the stop). */
export function restartCondition(restart: EventSandbox["restart"]): "none" | "on-failure" | "any" {
  return restart === "no" ? "none" : restart === "on-failure" ? "on-failure" : "any";
}

function labelList(labels: Readonly<Record<string, string>>): { label: string; value: string }[] {
  return Object.keys(labels)
    .sort()
    .map((label) => ({ label, value: labels[label]! }));
}

/** The task's environment: no password in it, only where its file is. */
function environment(args: SwarmSandboxArgs, withPassword: boolean): Record<string, string> {
  return {
    ...args.sandbox.env,
    THON_EVENT: args.eventName,
    THON_USER: args.plan.name,
    ...(args.sandbox.extensions.length > 0 ? { THON_EXTENSIONS: args.sandbox.extensions.join(",") } : {}),
    ...(withPassword ? { PASSWORD_FILE: PASSWORD_SECRET_PATH } : {}),
    // Paths only: the files' contents stay in their secrets.
    ...Object.fromEntries((args.secretFiles ?? []).filter((f) => f.env !== undefined).map((f) => [f.env!, f.path])),
  };
}
