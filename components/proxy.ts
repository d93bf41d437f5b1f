import * as pulumi from "@pulumi/pulumi";
import type { Event } from "../infra/config/event.ts";
import type { ParticipantPlan } from "../infra/plan.ts";
import {
  nginxLayout,
  participantFile,
  renderManifest,
  renderParticipant,
  renderReloadScript,
  renderServer,
  renderUpstream,
  stagedPath,
  upstreamFile,
  type ManifestEntry,
  type NginxLayout,
} from "../infra/render/nginx.ts";
import { removeFileScript, shellQuote } from "../infra/render/shell.ts";
import type { ShellCommand, Target } from "../infra/target.ts";
import { HostFile } from "./hostFile.ts";
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
 * Every file is its own command resource whose content arrives on stdin
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
    const manifest: pulumi.Output<ManifestEntry>[] = [];
    // Staged files kept out of the manifest: the reload must still put them in place.
    const unlisted: string[] = [];

    const writeFile = (
      resourceName: string,
      path: string,
      content: pulumi.Input<string>,
      mode: string,
      options: { inManifest?: boolean; delete?: string; dependsOn?: pulumi.Resource[] } = {},
    ): HostFile => {
      const file = new HostFile(
        resourceName,
        { target, path, writePath: stagedPath(path), mode, content, ...(options.delete !== undefined ? { delete: options.delete } : {}) },
        { parent: this, ...(options.dependsOn ? { dependsOn: options.dependsOn } : {}) },
      );
      if (options.inManifest !== false) manifest.push(file.sha256.apply((sha256) => ({ path, sha256 })));
      else unlisted.push(path);
      return file;
    };

    // Certificates, when the program makes them. `provided` files stay where the ACME client keeps them.
    const tlsFiles: pulumi.Resource[] = [...tls.ready];
    if (tls.certPem !== undefined && tls.keyPem !== undefined) {
      tlsFiles.push(writeFile(`${name}-server-cert`, layout.certFile, tls.certPem, "0644").command);
      // Read by nginx's master (root) only; a hash of it would make the manifest secret.
      tlsFiles.push(writeFile(`${name}-server-key`, layout.keyFile, tls.keyPem, "0600", { inManifest: false }).command);
    }
    if (tls.caCertPem !== undefined && layout.caCertFile !== undefined && layout.caCertFile !== layout.certFile) {
      tlsFiles.push(writeFile(`${name}-ca-cert`, layout.caCertFile, tls.caCertPem, "0644").command);
    }

    // The server file references the certificate files (created first, deleted
    // last). Its own delete (pulumi destroy) takes the event out of nginx.
    const server = writeFile(`${name}-server`, layout.serverFile, rendered(this, "the nginx server file", () => renderServer(event)), "0644", {
      delete: [
        removeFileScript(layout.serverFile).trimEnd(),
        removeFileScript(stagedPath(layout.serverFile)).trimEnd(),
        `rm -rf -- ${shellQuote(layout.participantsDir)} ${shellQuote(layout.upstreamsDir)}`,
        `{ ${event.proxy.nginx} -t -q && ${event.proxy.nginx} -s reload; } || echo "thon: nginx was not reloaded after removing the event; reload it by hand" >&2`,
        "",
      ].join("\n"),
      dependsOn: tlsFiles,
    }).command;

    // Two files per participant, named from the user alone; they depend on the
    // server file only so that `pulumi destroy` removes them first.
    const participantFiles = args.participants.flatMap((p) => [
      writeFile(p.resourceNames.proxyUpstream, upstreamFile(layout, p.name), rendered(this, `the nginx upstream of ${p.name}`, () => renderUpstream(event, p)), "0644", {
        dependsOn: [server],
      }).command,
      writeFile(p.resourceNames.proxyConfig, participantFile(layout, p.name), rendered(this, `the nginx location of ${p.name}`, () => renderParticipant(event, p)), "0644", {
        dependsOn: [server],
      }).command,
    ]);

    this.reload = target.command(
      `${name}-reload`,
      {
        create: rendered(this, "the nginx reload", () => renderReloadScript({
          nginx: event.proxy.nginx,
          participantsDir: layout.participantsDir,
          upstreamsDir: layout.upstreamsDir,
          unlistedFiles: unlisted,
        })),
        stdin: pulumi.all(manifest).apply(renderManifest),
      },
      { parent: this, dependsOn: [...tlsFiles, server, ...participantFiles] },
    );

    this.layout = layout;
    this.serverFile = layout.serverFile;
    this.registerOutputs({ serverFile: this.serverFile });
  }
}
