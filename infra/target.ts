// Everything that touches the event's host goes through a Target: the Docker
// engine the sandboxes run on and the shell that writes files and runs
// systemctl or nginx. "local" is this machine; "ssh" is one remote host,
// reached by the Docker provider over ssh:// and by command.remote. A large
// event can later shard participants over several targets, and a Kubernetes
// backend can become another kind, without the components changing.
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

export interface Target {
  readonly kind: "local" | "ssh";
  /** The Docker provider every container, volume and image of this target uses. */
  readonly docker: docker.Provider;
  /** Environment a `docker` CLI call in a command needs to reach the same engine. */
  readonly dockerEnv: Readonly<Record<string, string>>;
  /** Declares a shell command run on the target host. */
  command(name: string, args: ShellCommandArgs, opts?: pulumi.CustomResourceOptions): ShellCommand;
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

class LocalTarget implements Target {
  readonly kind = "local" as const;
  readonly docker: docker.Provider;
  readonly dockerEnv: Readonly<Record<string, string>>;

  constructor(dockerHost: string) {
    this.docker = new docker.Provider("thon-docker", { host: dockerHost });
    this.dockerEnv = { DOCKER_HOST: dockerHost };
  }

  command(name: string, args: ShellCommandArgs, opts?: pulumi.CustomResourceOptions): ShellCommand {
    const cmd: command.local.CommandArgs = {
      create: withShell(args.create),
      interpreter: ["/bin/sh", "-c"],
      environment:
        args.environment === undefined
          ? { ...this.dockerEnv }
          : pulumi.output(args.environment).apply((env) => ({ ...this.dockerEnv, ...env })),
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
}

class SshTarget implements Target {
  readonly kind = "ssh" as const;
  readonly docker: docker.Provider;
  readonly dockerEnv: Readonly<Record<string, string>> = {};
  private readonly connection: command.types.input.remote.ConnectionArgs;

  constructor(target: Extract<Event["target"], { kind: "ssh" }>) {
    let privateKey: string;
    try {
      privateKey = readFileSync(target.privateKeyFile, "utf8");
    } catch (err) {
      throw new pulumi.RunError(
        `target.privateKeyFile: cannot read ${target.privateKeyFile} (${(err as NodeJS.ErrnoException).code ?? String(err)}). Fix: point it at the SSH key that logs in to ${target.user}@${target.host}`,
      );
    }
    this.connection = {
      host: target.host,
      user: target.user,
      port: target.port,
      privateKey: pulumi.secret(privateKey),
    };
    this.docker = new docker.Provider("thon-docker", {
      host: `ssh://${target.user}@${target.host}:${target.port}`,
      sshOpts: ["-i", target.privateKeyFile, "-o", "BatchMode=yes"],
    });
  }

  command(name: string, args: ShellCommandArgs, opts?: pulumi.CustomResourceOptions): ShellCommand {
    return new command.remote.Command(
      name,
      {
        connection: this.connection,
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
}

export function createTarget(target: Event["target"]): Target {
  switch (target.kind) {
    case "local":
      return new LocalTarget(target.dockerHost);
    case "ssh":
      return new SshTarget(target);
    case "swarm":
      // Declared by the swarm target (issue 18, infra/target.ts on its own branch).
      throw new pulumi.RunError("target.kind swarm: this build has no swarm target yet");
    default: {
      const never: never = target;
      throw new Error(`unknown target ${JSON.stringify(never)}`);
    }
  }
}
