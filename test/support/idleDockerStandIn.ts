// Stand-ins for the idle tests, named as such:
//  - StandInDocker: the IdleDocker contract (inspect/stop/start/cpuPercent,
//    stop and start idempotent as dockerd's 304s are). A started container
//    becomes "ready" after `readyAfterMs`: then its stand-in code-server
//    listens on the participant's unix socket, as the real one does once up.
//  - the stand-in code-server answers GET /healthz with code-server's shape
//    ({status, lastHeartbeat}) and any other path with a page titled
//    "Workbench (stand-in)" naming the participant.
import { randomBytes } from "node:crypto";
import { chmodSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { ContainerRunState, IdleDocker } from "../../console/idle/docker.ts";

interface Box {
  id: string;
  running: boolean;
  startedAt?: Date;
  user: string;
  socket: string;
  server?: Server;
  timer?: NodeJS.Timeout;
}

export class StandInDocker implements IdleDocker {
  private readonly boxes = new Map<string, Box>();
  readonly calls: string[] = [];

  constructor(
    private readonly readyAfterMs = 0,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Adds a container; `running` ones serve their socket at once. */
  async add(name: string, user: string, socket: string, running: boolean): Promise<void> {
    const box: Box = { id: randomBytes(8).toString("hex"), running, user, socket };
    this.boxes.set(name, box);
    if (running) {
      box.startedAt = this.clock();
      await this.listen(box);
    }
  }

  async inspect(name: string): Promise<ContainerRunState | undefined> {
    const b = this.boxes.get(name);
    if (!b) return undefined;
    return { id: b.id, running: b.running, ...(b.running && b.startedAt ? { startedAt: b.startedAt } : {}) };
  }

  async stop(name: string): Promise<void> {
    this.calls.push(`stop ${name}`);
    const b = this.boxes.get(name);
    if (!b) throw Object.assign(new Error(`no such container: ${name}`), { statusCode: 404 });
    if (!b.running) return;
    b.running = false;
    clearTimeout(b.timer);
    await this.close(b);
  }

  async start(name: string): Promise<void> {
    this.calls.push(`start ${name}`);
    const b = this.boxes.get(name);
    if (!b) throw Object.assign(new Error(`no such container: ${name}`), { statusCode: 404 });
    if (b.running) return;
    b.running = true;
    b.startedAt = this.clock();
    b.timer = setTimeout(() => void this.listen(b), this.readyAfterMs);
  }

  async cpuPercent(): Promise<number> {
    return 0;
  }

  async closeAll(): Promise<void> {
    for (const b of this.boxes.values()) {
      clearTimeout(b.timer);
      await this.close(b);
    }
  }

  private listen(b: Box): Promise<void> {
    if (b.server || !b.running) return Promise.resolve();
    rmSync(b.socket, { force: true });
    const server = createServer((req, res) => {
      if (req.url === "/healthz") {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ status: "expired", lastHeartbeat: 0 }));
        return;
      }
      res.setHeader("content-type", "text/html");
      res.end(`<!doctype html><title>Workbench (stand-in)</title><h1 id=workbench>Workbench of ${b.user} (stand-in)</h1>`);
    });
    b.server = server;
    // nginx's workers (another user) connect to it, as they do to code-server's group-writable socket.
    return new Promise((resolve) => server.listen(b.socket, () => (chmodSync(b.socket, 0o666), resolve())));
  }

  private close(b: Box): Promise<void> {
    const s = b.server;
    b.server = undefined;
    if (!s) return Promise.resolve();
    s.closeAllConnections();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}
