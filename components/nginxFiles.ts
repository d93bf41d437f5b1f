// The mechanism every nginx THON configures shares (components/proxy.ts on
// one host; nodeProxy.ts and edgeProxy.ts on a swarm): each file a command
// resource that writes it staged beside the live file, a manifest of their
// hashes, the private key kept out of it (its hash would make the manifest
// secret) but still put in place, and one transactional reload
// (infra/render/nginx/reload.sh) that depends on every file. Not a
// component: the files and the reload are children of the component using it,
// under the names it gives, so the local Proxy's resources stay as they were.
import * as pulumi from "@pulumi/pulumi";
import type { Event } from "../infra/config/event.ts";
import { renderManifest, renderReloadScript, stagedPath, type ManifestEntry, type NginxLayout } from "../infra/render/nginx.ts";
import { removeFileScript, shellQuote } from "../infra/render/shell.ts";
import type { ShellCommand, Target } from "../infra/target.ts";
import { HostFile } from "./hostFile.ts";
import { rendered } from "./rendered.ts";
import type { Tls } from "./tls.ts";

/** Where the files are written and the reload runs: the target, or one node's shell. */
export type Shell = Pick<Target, "command">;

export interface WriteOptions {
  /** false for the private key: put in place by the reload, but not hashed into its stdin. */
  readonly inManifest?: boolean;
  readonly delete?: string;
  readonly dependsOn?: pulumi.Resource[];
  /** See HostFileArgs.triggers. */
  readonly triggers?: readonly string[];
}

export class NginxFiles {
  private readonly manifest: pulumi.Output<ManifestEntry>[] = [];
  // Staged files kept out of the manifest: the reload must still put them in place.
  private readonly unlisted: string[] = [];

  constructor(
    private readonly parent: pulumi.Resource,
    private readonly shell: Shell,
  ) {}

  /** One file, written staged (`<path>.thon-staged`); the reload puts it in place. */
  write(resourceName: string, path: string, content: pulumi.Input<string>, mode: string, options: WriteOptions = {}): HostFile {
    const file = new HostFile(
      resourceName,
      {
        target: this.shell,
        path,
        writePath: stagedPath(path),
        mode,
        content,
        ...(options.delete !== undefined ? { delete: options.delete } : {}),
        ...(options.triggers !== undefined ? { triggers: options.triggers } : {}),
      },
      { parent: this.parent, ...(options.dependsOn ? { dependsOn: options.dependsOn } : {}) },
    );
    if (options.inManifest !== false) this.manifest.push(file.sha256.apply((sha256) => ({ path, sha256 })));
    else this.unlisted.push(path);
    return file;
  }

  /**
   * The certificate files of `layout`, when the program makes them
   * (`provided` files stay where the ACME client keeps them): the server
   * certificate, its key (mode 0600, out of the manifest) and, where the
   * layout serves one, the CA. Returns what nginx's files must wait for.
   */
  certificates(name: string, layout: NginxLayout, tls: Tls): pulumi.Resource[] {
    const files: pulumi.Resource[] = [...tls.ready];
    if (tls.certPem !== undefined && tls.keyPem !== undefined) {
      files.push(this.write(`${name}-server-cert`, layout.certFile, tls.certPem, "0644").command);
      // Read by nginx's master (root) only; a hash of it would make the manifest secret.
      files.push(this.write(`${name}-server-key`, layout.keyFile, tls.keyPem, "0600", { inManifest: false }).command);
    }
    if (tls.caCertPem !== undefined && layout.caCertFile !== undefined && layout.caCertFile !== layout.certFile) {
      files.push(this.write(`${name}-ca-cert`, layout.caCertFile, tls.caCertPem, "0644").command);
    }
    return files;
  }

  /**
   * The reload: promote the staged files, prune participant files not in
   * the manifest, check the hashes, `nginx -t`, graceful reload; on a failed
   * check every step is undone (reload.sh). Its stdin is the manifest, so
   * any changed file reruns it.
   */
  reload(name: string, nginx: string, layout: NginxLayout, dependsOn: pulumi.Input<pulumi.Resource>[]): ShellCommand {
    return this.shell.command(
      name,
      {
        create: rendered(this.parent, "the nginx reload", () =>
          renderReloadScript({ nginx, participantsDir: layout.participantsDir, upstreamsDir: layout.upstreamsDir, unlistedFiles: this.unlisted }),
        ),
        stdin: pulumi.all(this.manifest).apply(renderManifest),
      },
      { parent: this.parent, dependsOn },
    );
  }
}

/**
 * The server file's delete script (`pulumi destroy`): the server file, its
 * staged copy and the participants' folders go, and nginx reloads without them.
 */
export function serverDeleteScript(layout: NginxLayout, proxy: Pick<Event["proxy"], "nginx">): string {
  return [
    removeFileScript(layout.serverFile).trimEnd(),
    removeFileScript(stagedPath(layout.serverFile)).trimEnd(),
    `rm -rf -- ${shellQuote(layout.participantsDir)} ${shellQuote(layout.upstreamsDir)}`,
    `{ ${proxy.nginx} -t -q && ${proxy.nginx} -s reload; } || echo "thon: nginx was not reloaded after removing the event; reload it by hand" >&2`,
    "",
  ].join("\n");
}
