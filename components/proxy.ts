import * as pulumi from "@pulumi/pulumi";
import type { Event } from "../infra/config/event.ts";
import type { ParticipantPlan } from "../infra/plan.ts";
import { nginxLayout, participantFile, renderParticipant, renderServer, renderUpstream, upstreamFile, type NginxLayout } from "../infra/render/nginx.ts";
import type { ShellCommand, Target } from "../infra/target.ts";
import { NginxFiles, serverDeleteScript } from "./nginxFiles.ts";
import { rendered } from "./rendered.ts";
import type { Tls } from "./tls.ts";

export interface ProxyArgs {
  readonly event: Pick<Event, "name" | "host" | "altNames" | "proxy" | "tls" | "console" | "idle">;
  readonly participants: readonly ParticipantPlan[];
  readonly tls: Tls;
  readonly target: Target;
}

/**
 * The event's one HTTPS entry: the host's nginx, configured by files this
 * component writes through the target's shell (local now, SSH later).
 *
 * Every file is its own command resource (the mechanism, shared with the
 * swarm's node and edge servers, is components/nginxFiles.ts) whose content arrives on stdin
 * and which writes it staged, beside the live file (`<file>.thon-staged`):
 * the certificates, the private key (mode 0600, a secret input, never on a
 * command line), the server file, and two files per participant: their
 * location (`thon-nginx-<user>`) and their upstream, the socket with
 * keepalive (`thon-upstream-<user>`). One reload resource depends on all of them; its
 * input is the manifest of their hashes, so any changed file updates it and
 * it runs again: put the staged files in place, prune files of removed
 * participants, check the hashes, `nginx -t`, graceful `nginx -s reload`;
 * if the check or `nginx -t` fails, it puts the previous files back, so what
 * nginx would load on a restart has always passed `nginx -t`. Adding a participant is two new
 * file resources plus that one update; removing one is the files' deletes
 * plus the same update.
 */
export class Proxy extends pulumi.ComponentResource {
  public readonly layout: NginxLayout;
  public readonly serverFile: string;
  /** The reload command; whatever must wait for the new configuration to be live depends on it. */
  public readonly reload: ShellCommand;

  constructor(name: string, args: ProxyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("thon:proxy:Proxy", name, {}, opts);
    const { event, target, tls } = args;
    const layout = nginxLayout(event);
    const files = new NginxFiles(this, target);

    // Certificates, when the program makes them. `provided` files stay where the ACME client keeps them.
    const tlsFiles = files.certificates(name, layout, tls);

    // The server file references the certificate files (created first, deleted
    // last). Its own delete (pulumi destroy) takes the event out of nginx.
    const server = files.write(`${name}-server`, layout.serverFile, rendered(this, "the nginx server file", () => renderServer(event)), "0644", {
      delete: serverDeleteScript(layout, event.proxy),
      dependsOn: tlsFiles,
    }).command;

    // Two files per participant, named from the user alone; they depend on the
    // server file only so that `pulumi destroy` removes them first.
    const participantFiles = args.participants.flatMap((p) => [
      files.write(p.resourceNames.proxyUpstream, upstreamFile(layout, p.name), rendered(this, `the nginx upstream of ${p.name}`, () => renderUpstream(event, p)), "0644", {
        dependsOn: [server],
      }).command,
      files.write(p.resourceNames.proxyConfig, participantFile(layout, p.name), rendered(this, `the nginx location of ${p.name}`, () => renderParticipant(event, p)), "0644", {
        dependsOn: [server],
      }).command,
    ]);

    this.reload = files.reload(`${name}-reload`, event.proxy.nginx, layout, [...tlsFiles, server, ...participantFiles]);

    this.layout = layout;
    this.serverFile = layout.serverFile;
    this.registerOutputs({ serverFile: this.serverFile });
  }
}
