import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import type { EventSandbox } from "../infra/config/event.ts";
import { codeServerArgs, SANDBOX_PATHS, type ParticipantPlan } from "../infra/plan.ts";
import { stableJson } from "../infra/render/json.ts";
import { shellQuote } from "../infra/render/shell.ts";
import type { Target } from "../infra/target.ts";
import { HostDirectory } from "./hostDirectory.ts";

/** A file placed into the sandbox when its container is created. */
export interface SandboxFile {
  readonly path: string;
  /** Content; may be a secret (it then stays secret in state). */
  readonly content: pulumi.Input<string>;
}

export interface SandboxArgs {
  readonly plan: ParticipantPlan;
  readonly eventName: string;
  /** The participant's sandbox settings: their group's template, else the event's. */
  readonly sandbox: EventSandbox;
  /** The event's network (EventNetwork), joined unless sandbox.network names another. */
  readonly eventNetwork?: pulumi.Input<string>;
  /** Group of the proxy's workers: the only ones allowed on the socket. */
  readonly socketGroup: string;
  /** The image ID, from SandboxImage. */
  readonly image: pulumi.Input<string>;
  readonly target: Target;
  /** More files for the sandbox (e.g. the Kilo Code config). */
  readonly files?: readonly SandboxFile[];
}

/**
 * One participant's VS Code: a code-server container, its workspace and its
 * password.
 *
 * - The workspace volume outlives the container and the stack
 *   (`retainOnDelete`): replacing the container reattaches it, and dropping
 *   the participant from thon.yaml or `pulumi destroy` leaves it on the host
 *   until the organizer runs `thon purge <user>`.
 * - code-server listens on a unix socket in a folder of its own on the host
 *   (setgid to the proxy's group, mode 2770), so nginx reaches it by path,
 *   no host port is allocated, and no sandbox can see another one's socket.
 * - Nothing here depends on the participant's group: moving someone between
 *   groups changes none of these resources.
 */
export class Sandbox extends pulumi.ComponentResource {
  public readonly name: string;
  public readonly url: string;
  public readonly endpointPath: string;
  public readonly socketPath: string;
  public readonly containerName: string;
  public readonly containerId: pulumi.Output<string>;
  /** The code-server password (secret); undefined when auth is "none". */
  public readonly password: pulumi.Output<string> | undefined;
  public readonly volumeName: string | undefined;

  constructor(name: string, args: SandboxArgs, opts?: pulumi.ComponentResourceOptions) {
    // The workspace, typed, as this component's input: the engine does not tell
    // analyzers a resource's retainOnDelete, so the policy pack reads it here
    // (thon-workspace-retained, policies/storage.ts). The volume below takes the same value.
    const workspace = workspaceInput(args.plan.workspace);
    super("thon:sandbox:Sandbox", name, { workspace }, opts);
    const { plan, sandbox, target } = args;
    const names = plan.resourceNames;
    const [uid, gid = uid] = sandbox.user.split(":") as [string, string?];

    let password: random.RandomPassword | undefined;
    if (sandbox.auth === "password") {
      password = new random.RandomPassword(
        names.password,
        // Letters and digits only: participants type it from a printed card.
        { length: sandbox.passwordLength, special: false, minLower: 2, minUpper: 2, minNumeric: 2 },
        { parent: this },
      );
    }

    const mounts: docker.types.input.ContainerMount[] = [];
    const dependsOn: pulumi.Resource[] = [];
    if (plan.workspace.kind === "volume") {
      const volume = new docker.Volume(
        names.volume,
        {
          name: plan.workspace.volumeName,
          driver: "local",
          // A size quota: Docker's local driver supports it on xfs with pquota only (docs/sandbox.md).
          ...(sandbox.workspaceSize !== undefined ? { driverOpts: { size: `${sandbox.workspaceSize}m` } } : {}),
          // org.thon.on-delete stays for the stacks that have it: labels replace a
          // volume, and the pack now reads this component's `workspace` input.
          labels: labelList({ ...plan.labels, "org.thon.purpose": "workspace", "org.thon.on-delete": "retain" }),
        },
        // Never deleted by pulumi: a participant's work survives their removal and `destroy`.
        { parent: this, provider: target.docker, retainOnDelete: workspace.retainOnDelete },
      );
      mounts.push({ type: "volume", source: volume.name, target: SANDBOX_PATHS.workspace });
    } else if (plan.workspace.kind === "bind") {
      // keep: the folder, like a volume, stays when the participant leaves.
      const dir = new HostDirectory(
        names.workspaceDir,
        { target, path: plan.workspace.hostPath, mode: "0750", owner: uid, group: gid, keep: workspace.retainOnDelete },
        { parent: this },
      );
      dependsOn.push(dir.command);
      mounts.push({ type: "bind", source: plan.workspace.hostPath, target: SANDBOX_PATHS.workspace });
    }

    if (plan.home.kind === "volume") {
      // The participant's home: their own extensions, VS Code settings and state,
      // shell history. Kept like the workspace, so a new image keeps them.
      const home = new docker.Volume(
        names.homeVolume,
        {
          name: plan.home.volumeName,
          driver: "local",
          labels: labelList({ ...plan.labels, "org.thon.purpose": "home", "org.thon.on-delete": "retain" }),
        },
        { parent: this, provider: target.docker, retainOnDelete: true },
      );
      mounts.push({ type: "volume", source: home.name, target: SANDBOX_PATHS.home });
    }

    // setgid: the socket code-server creates inherits the proxy's group, so
    // with --socket-mode 660 nginx may connect and other host users may not.
    const socketDir = new HostDirectory(
      names.socketDir,
      { target, path: plan.socketHostDir, mode: "2770", owner: uid, group: args.socketGroup, keep: false, removeFiles: [plan.socketHostPath] },
      { parent: this },
    );
    dependsOn.push(socketDir.command);
    mounts.push({ type: "bind", source: plan.socketHostDir, target: SANDBOX_PATHS.socketDir });

    const files: SandboxFile[] = [
      // Not the participant's settings.json (in the home volume): the entrypoint
      // merges these over it at each start, so the organizer's keys win.
      { path: SANDBOX_PATHS.organizerSettings, content: stableJson(sandbox.settings) },
      ...(args.files ?? []),
    ].sort((a, b) => (a.path < b.path ? -1 : 1));

    const running = plan.state === "running";
    const container = new docker.Container(
      names.container,
      {
        name: plan.containerName,
        image: args.image,
        command: codeServerArgs(sandbox.auth),
        user: sandbox.user,
        envs: environment(args, password),
        labels: labelList(plan.labels),
        mounts,
        uploads: files.map((f) => ({ file: f.path, content: f.content, owner: uid, group: gid, permissions: "0600" })),
        memory: sandbox.memory,
        // No swap beyond the limit: a runaway build gets OOM-killed in its own sandbox.
        memorySwap: sandbox.memory,
        cpus: String(sandbox.cpus),
        restart: sandbox.restart,
        networkMode: sandbox.network ?? args.eventNetwork,
        // The host (Lemonade, the gateway) as seen from the sandbox; not possible without a network.
        ...(sandbox.network === "none" ? {} : { hosts: [{ host: "host.docker.internal", ip: "host-gateway" }] }),
        ulimits: [{ name: "nofile", soft: sandbox.nofile, hard: sandbox.nofile }],
        init: true,
        securityOpts: ["no-new-privileges:true"],
        capabilities: { drops: ["ALL"] },
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3" },
        stopTimeout: 30,
        // `state: stopped` declares the container without running it; `start`
        // changes in place, so pausing a participant restarts nobody.
        start: running,
        // Never true: with mustRun the provider's refresh turns a stopped
        // container into a diff that the next `up` "fixes" by starting it,
        // which would undo idle parking (docs/idle.md). The restart policy keeps
        // running sandboxes running; the stop command below does the transitions.
        mustRun: false,
        wait: false,
      },
      {
        parent: this,
        provider: target.docker,
        dependsOn,
        // The name is fixed (thon-<user>), so a replacement must remove the old one first.
        deleteBeforeReplace: true,
      },
    );

    // The pids limit: the Docker provider has no field for it (terraform-provider-docker
    // lacks pids_limit), so `docker update` sets it on the container, once per
    // container (a replacement reruns it) and again when the limit changes.
    // Docker keeps it in the container's config, across restarts.
    target.command(
      names.pidsLimit,
      {
        create: `docker update --pids-limit ${sandbox.pidsLimit} ${shellQuote(plan.containerName)} >/dev/null`,
        triggers: [container.id, sandbox.pidsLimit],
      },
      { parent: this, dependsOn: [container] },
    );

    if (!running) {
      // The Docker provider neither stops a container when `start` turns false
      // nor starts one when it turns true (only on create, or when mustRun turns
      // true). This command does both: created, it stops the container once;
      // deleted (the organizer resumes the participant), it starts it. The
      // delete tolerates a container that is gone (the participant removed).
      // Deleted before its replacement is created, so a replaced container ends
      // stopped, not started by the old command's delete.
      target.command(
        names.stop,
        {
          create: `docker stop --time 30 ${shellQuote(plan.containerName)} >/dev/null`,
          delete: `docker start ${shellQuote(plan.containerName)} >/dev/null 2>&1 || ! docker inspect ${shellQuote(plan.containerName)} >/dev/null 2>&1`,
          triggers: [container.id],
        },
        { parent: this, dependsOn: [container], deleteBeforeReplace: true },
      );
    }

    this.name = plan.name;
    this.url = plan.url;
    this.endpointPath = plan.endpointPath;
    this.socketPath = plan.socketHostPath;
    this.containerName = plan.containerName;
    this.containerId = container.id;
    this.password = password?.result;
    this.volumeName = plan.workspace.kind === "volume" ? plan.workspace.volumeName : undefined;
    this.registerOutputs({
      url: this.url,
      containerId: this.containerId,
      password: this.password,
    });
  }
}

/** What a Sandbox tells the policy pack about its workspace; retainOnDelete also goes to the volume itself. */
function workspaceInput(w: ParticipantPlan["workspace"]): { kind: string; name?: string; retainOnDelete: boolean } {
  // Never deleted by pulumi: a participant's work survives their removal and `destroy`.
  if (w.kind === "volume") return { kind: "volume", name: w.volumeName, retainOnDelete: true };
  // A bind folder has no delete at all (a thon:host:Directory with keep).
  if (w.kind === "bind") return { kind: "bind", name: w.hostPath, retainOnDelete: true };
  return { kind: w.kind, retainOnDelete: false };
}

function labelList(labels: Readonly<Record<string, string>>): docker.types.input.ContainerLabel[] {
  return Object.keys(labels)
    .sort()
    .map((label) => ({ label, value: labels[label]! }));
}

/** The container's environment, sorted; the password makes it secret as a whole. */
function environment(args: SandboxArgs, password: random.RandomPassword | undefined): pulumi.Output<string[]> {
  const plain: Record<string, string> = {
    ...args.sandbox.env,
    THON_EVENT: args.eventName,
    THON_USER: args.plan.name,
    ...(args.sandbox.extensions.length > 0 ? { THON_EXTENSIONS: args.sandbox.extensions.join(",") } : {}),
  };
  const list = Object.keys(plain)
    .sort()
    .map((k) => `${k}=${plain[k]}`);
  if (!password) return pulumi.output(list);
  return pulumi.secret(password.result.apply((pw) => [`PASSWORD=${pw}`, ...list]));
}
