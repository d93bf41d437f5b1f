// The folder an e2e test works in and the test nginx behind it, written once
// for the e2e files: a temp dir nginx's workers (www-data, the socket group)
// can walk down to the sockets, Debian's nginx with its own prefix under it,
// and the proxy section of the event spec pointing at both on loopback.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startNginx, type TestNginx } from "../../support/nginx.ts";
import type { E2eEventSpec, E2eUser } from "./event.ts";
import { dockerHost, requiredImage } from "./run.ts";

export interface E2eWorkdir {
  readonly dir: string;
  /** dir/sockets: the event's socketDir. */
  readonly socketDir: string;
  /** dir/nginx: the test nginx's prefix; conf.d under it is the proxy's includeDir. */
  readonly prefix: string;
  readonly nginx: TestNginx;
  readonly httpsPort: number;
  /** The event spec's proxy section (E2eEventSpec.proxy). */
  readonly proxy: Readonly<Record<string, string | number>>;
}

/** Makes the temp dir (`tmpdir()/<dirPrefix>XXXXXX`) and starts its nginx; the dir is removed again if nginx does not start. */
export async function e2eWorkdir(dirPrefix: string): Promise<E2eWorkdir> {
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  try {
    chmodSync(dir, 0o755);
    const socketDir = join(dir, "sockets");
    mkdirSync(socketDir, { mode: 0o755 });
    const prefix = join(dir, "nginx");
    mkdirSync(join(prefix, "conf.d"), { recursive: true, mode: 0o755 });
    const httpsPort = await freePort();
    const nginx = await startNginx(prefix, { includeGlob: join(prefix, "conf.d", "*.conf"), user: "www-data www-data" });
    const proxy = { httpsPort, httpPort: 0, listenAddress: "127.0.0.1", configDir: join(prefix, "thon"), includeDir: join(prefix, "conf.d"), socketGroup: "www-data", nginx: nginx.command };
    return { dir, socketDir, prefix, nginx, httpsPort, proxy };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Pulumi.yaml and Pulumi.dev.yaml for the console's Project (stack "dev", thon.yaml as its file). */
export function writePulumiProject(dir: string): void {
  writeFileSync(join(dir, "Pulumi.yaml"), "name: thon\nruntime: nodejs\nmain: infra/index.ts\n");
  writeFileSync(join(dir, "Pulumi.dev.yaml"), "config:\n  thon:file: thon.yaml\n");
}

/** The event spec for `users` in this workdir: the required image, its sockets and its nginx, on this test's Docker. */
export function workdirSpec(work: E2eWorkdir, name: string, users: readonly E2eUser[]): E2eEventSpec {
  return { name, image: requiredImage(), socketDir: work.socketDir, dockerHost, users, proxy: work.proxy };
}
