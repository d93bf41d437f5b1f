// Everything that touches the event's host goes through a Target: the Docker
// engine the sandboxes run on and the shell that writes files and runs
// systemctl or nginx. "local" is this machine; "ssh" is one remote host,
// reached by the Docker provider over ssh:// and by command.remote; "swarm"
// is a Docker Swarm: the manager's engine plus a shell on each node. A
// Kubernetes backend can become another kind.
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as command from "@pulumi/command";
import type { Event } from "./config/event.ts";

export interface ShellCommandArgs {
  /** Runs when the resource is created (and, with `update` unset, when it changes). */
  readonly create: pulumi.Input<string>;
  readonly update?: pulumi.Input<string>;
  readonly delete?: pulumi.Input<string>;
  /** Data fed to the command on stdin; keeps file contents out of the command line. */
  readonly stdin?: pulumi.Input<string>;
  /** Changing any of these reruns the command (replace). */
  readonly triggers?: pulumi.Input<unknown[]>;
  /** Values passed to the command as environment variables. */
  readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export type ShellCommand = command.local.Command | command.remote.Command;

/** One swarm node's shell: commands run on that node over target.ssh (command.remote). */
export interface NodeShell {
  /** The node's name (its Swarm hostname). */
  readonly node: string;
  readonly address: string;
  /** A shell command run on this node. */
  command(name: string, args: ShellCommandArgs, opts?: pulumi.CustomResourceOptions): ShellCommand;
}

export interface Target {
  readonly kind: "local" | "ssh" | "swarm";
  /** The Docker provider every container, volume and image of this target uses. */
  readonly docker: docker.Provider;
  /** Environment a `docker` CLI call in a command needs to reach the same engine. */
  readonly dockerEnv: Readonly<Record<string, string>>;
  /** Declares a shell command run on the target host. */
  command(name: string, args: ShellCommandArgs, opts?: pulumi.CustomResourceOptions): ShellCommand;
  /** Swarm only: a shell per node, by node name (the manager's commands stay on `command`). */
  readonly nodes?: ReadonlyMap<string, NodeShell>;
}

/** Default program options, shared by every target: run commands with sh, fail on errors. */
const SHELL_PREFIX = "set -eu\n";

// Plain text stays plain: an Output per script (and per environment) would
// cost each command several promises for a value known from the start.
function withShell(script: pulumi.Input<string>): pulumi.Input<string>;
function withShell(script: pulumi.Input<string> | undefined): pulumi.Input<string> | undefined;
function withShell(script: pulumi.Input<string> | undefined): pulumi.Input<string> | undefined {
  if (script === undefined) return undefined;
  return typeof script === "string" ? SHELL_PREFIX + script : pulumi.output(script).apply((s) => SHELL_PREFIX + s);
}

/** A command.local with the given environment under every command's (e.g. DOCKER_HOST). */
function localCommand(baseEnv: Readonly<Record<string, string>>, name: string, args: ShellCommandArgs, opts?: pulumi.CustomResourceOptions): ShellCommand {
  const cmd: command.local.CommandArgs = {
    create: withShell(args.create),
    interpreter: ["/bin/sh", "-c"],
    environment:
      args.environment === undefined
        ? { ...baseEnv }
        : pulumi.output(args.environment).apply((env) => ({ ...baseEnv, ...env })),
  };
  return new command.local.Command(
    name,
    {
      ...cmd,
      ...(args.update !== undefined ? { update: withShell(args.update) } : {}),
      ...(args.delete !== undefined ? { delete: withShell(args.delete) } : {}),
      ...(args.stdin !== undefined ? { stdin: args.stdin } : {}),
      ...(args.triggers !== undefined ? { triggers: args.triggers } : {}),
    },
    opts,
  );
}

class LocalTarget implements Target {
  readonly kind = "local" as const;
  readonly docker: docker.Provider;
  readonly dockerEnv: Readonly<Record<string, string>>;

  constructor(dockerHost: string) {
    this.docker = new docker.Provider("thon-docker", { host: dockerHost });
    this.dockerEnv = { DOCKER_HOST: dockerHost };
  }

  command(name: string, args: ShellCommandArgs, opts?: pulumi.CustomResourceOptions): ShellCommand {
    return localCommand(this.dockerEnv, name, args, opts);
  }
}

interface SshLogin {
  readonly user: string;
  readonly port: number;
  readonly privateKeyFile: string;
}

/** Reads the SSH key once; `field` is where thon.yaml names it (for the error). */
function readPrivateKey(login: SshLogin, field: string, where: string): pulumi.Output<string> {
  try {
    return pulumi.secret(readFileSync(login.privateKeyFile, "utf8"));
  } catch (err) {
    throw new pulumi.RunError(
      `${field}: cannot read ${login.privateKeyFile} (${(err as NodeJS.ErrnoException).code ?? String(err)}). Fix: point it at the SSH key that logs in to ${login.user}@${where}`,
    );
  }
}

/** A command.remote over one SSH connection: the ssh target's host, or one swarm node. */
function remoteCommand(connection: command.types.input.remote.ConnectionArgs, name: string, args: ShellCommandArgs, opts?: pulumi.CustomResourceOptions): ShellCommand {
  return new command.remote.Command(
    name,
    {
      connection,
      create: withShell(args.create),
      ...(args.update !== undefined ? { update: withShell(args.update) } : {}),
      ...(args.delete !== undefined ? { delete: withShell(args.delete) } : {}),
      ...(args.stdin !== undefined ? { stdin: args.stdin } : {}),
      ...(args.triggers !== undefined ? { triggers: args.triggers } : {}),
      ...(args.environment !== undefined ? { environment: args.environment } : {}),
    },
    opts,
  );
}

class SshTarget implements Target {
  readonly kind = "ssh" as const;
  readonly docker: docker.Provider;
  readonly dockerEnv: Readonly<Record<string, string>> = {};
  private readonly connection: command.types.input.remote.ConnectionArgs;

  constructor(target: Extract<Event["target"], { kind: "ssh" }>) {
    const privateKey = readPrivateKey(target, "target.privateKeyFile", target.host);
    this.connection = {
      host: target.host,
      user: target.user,
      port: target.port,
      privateKey,
    };
    this.docker = new docker.Provider("thon-docker", {
      host: `ssh://${target.user}@${target.host}:${target.port}`,
      sshOpts: ["-i", target.privateKeyFile, "-o", "BatchMode=yes"],
    });
  }

  command(name: string, args: ShellCommandArgs, opts?: pulumi.CustomResourceOptions): ShellCommand {
    return remoteCommand(this.connection, name, args, opts);
  }
}

class SwarmNodeShell implements NodeShell {
  constructor(
    readonly node: string,
    readonly address: string,
    private readonly connection: command.types.input.remote.ConnectionArgs,
  ) {}

  command(name: string, args: ShellCommandArgs, opts?: pulumi.CustomResourceOptions): ShellCommand {
    return remoteCommand(this.connection, name, args, opts);
  }
}

/**
 * A Docker Swarm (SWARM.md): services, secrets, configs and networks go to
 * the manager's engine; `command()` runs the docker CLI here against the
 * manager (`docker node update`); what must happen on a node's own disk
 * (socket folders, the node's nginx) goes through that node's shell.
 */
class SwarmTarget implements Target {
  readonly kind = "swarm" as const;
  readonly docker: docker.Provider;
  readonly dockerEnv: Readonly<Record<string, string>>;
  readonly nodes: ReadonlyMap<string, NodeShell>;

  constructor(target: Extract<Event["target"], { kind: "swarm" }>) {
    // The key first: an unreadable key stops the program before it declares anything.
    const privateKey = readPrivateKey(target.ssh, "target.ssh.privateKeyFile", "each node");
    this.docker = new docker.Provider("thon-docker", { host: target.dockerHost });
    this.dockerEnv = { DOCKER_HOST: target.dockerHost };
    this.nodes = new Map(
      target.nodes.map((n) => [n.name, new SwarmNodeShell(n.name, n.address, { host: n.address, user: target.ssh.user, port: target.ssh.port, privateKey })]),
    );
  }

  command(name: string, args: ShellCommandArgs, opts?: pulumi.CustomResourceOptions): ShellCommand {
    return localCommand(this.dockerEnv, name, args, opts);
  }
}

export function createTarget(target: Event["target"]): Target {
  switch (target.kind) {
    case "local":
      return new LocalTarget(target.dockerHost);
    case "ssh":
      return new SshTarget(target);
    case "swarm":
      return new SwarmTarget(target);
    default: {
      const never: never = target;
      throw new Error(`unknown target ${JSON.stringify(never)}`);
    }
  }
}
