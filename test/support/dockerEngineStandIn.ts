// A stand-in for the Docker Engine API on a unix socket, named as such: the
// few read endpoints `thon doctor` asks (GET /_ping, /version, /info,
// /images/{name}/json, and for a swarm manager /nodes), in the shapes of
// Engine API 1.41 (docs.docker.com/engine/api/v1.41). Tests that mean to
// fake the host's engine use it, so they do not depend on a dockerd or on
// images present on the machine running them. Unknown paths answer 404 with
// the engine's {"message"} body, so a test that needs more fails loudly.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface EngineStandInOptions {
  /** Image references present ("name:tag"), with their size in bytes. */
  readonly images?: Readonly<Record<string, number>>;
  readonly version?: string;
  readonly apiVersion?: string;
  readonly driver?: string;
  /** DockerRootDir in /info (default: a temp folder, so `statfs` reads this machine's disk). */
  readonly rootDir?: string;
  /** Swarm nodes for GET /nodes (a manager); absent: the engine is not in a swarm (503 as dockerd answers). */
  readonly nodes?: readonly unknown[];
}

export interface EngineStandIn {
  /** unix:///…/docker.sock, for target.dockerHost. */
  readonly dockerHost: string;
  readonly socketPath: string;
  /** Every request's method and path, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startEngineStandIn(options: EngineStandInOptions = {}): Promise<EngineStandIn> {
  const dir = mkdtempSync(join(tmpdir(), "thon-engine-"));
  const socketPath = join(dir, "docker.sock");
  const images = options.images ?? {};
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://engine");
    // dockerode may prefix a version (/v1.41/…); the engine accepts both.
    const path = decodeURIComponent(url.pathname.replace(/^\/v1\.\d+(?=\/)/, ""));
    requests.push(`${req.method} ${path}`);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json", "Api-Version": options.apiVersion ?? "1.41" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "GET" && req.method !== "HEAD") return json(404, { message: `page not found (stand-in has no ${req.method} ${path})` });
    if (path === "/_ping") return json(200, "OK");
    if (path === "/version") return json(200, { Version: options.version ?? "20.10.24", ApiVersion: options.apiVersion ?? "1.41", MinAPIVersion: "1.12", Os: "linux", Arch: "amd64" });
    if (path === "/info") return json(200, { Driver: options.driver ?? "overlay2", DockerRootDir: options.rootDir ?? dir, Swarm: { LocalNodeState: options.nodes ? "active" : "inactive", ControlAvailable: options.nodes !== undefined } });
    if (path === "/nodes") {
      if (!options.nodes) return json(503, { message: "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again." });
      return json(200, options.nodes);
    }
    const image = /^\/images\/(.+)\/json$/.exec(path)?.[1];
    if (image !== undefined) {
      const ref = image.includes(":") ? image : `${image}:latest`;
      if (!(ref in images)) return json(404, { message: `No such image: ${ref}` });
      return json(200, { Id: `sha256:${"0".repeat(64)}`, RepoTags: [ref], Size: images[ref] });
    }
    return json(404, { message: `page not found (stand-in has no GET ${path})` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    dockerHost: `unix://${socketPath}`,
    socketPath,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
