// The little of Docker that parking needs, as an interface: the park/wake
// functions take it, so the console hands them dockerode and a test can hand
// them the same adapter on the real daemon.
import type Dockerode from "dockerode";
import type { HealthzTransport } from "../ops/healthz.ts";

export interface ContainerRunState {
  readonly id: string;
  readonly running: boolean;
  readonly startedAt?: Date;
}

export interface IdleDocker {
  /** The container's run state; undefined when there is no such container. */
  inspect(name: string): Promise<ContainerRunState | undefined>;
  /** `docker stop`: SIGTERM, then SIGKILL after `timeoutSeconds`. Stopping a stopped container is not an error. */
  stop(name: string, timeoutSeconds: number): Promise<void>;
  /** `docker start`. Starting a running container is not an error. */
  start(name: string): Promise<void>;
  /** CPU use over about a second, in percent of one core (100 = one core busy). */
  cpuPercent(name: string): Promise<number>;
  /** How code-server's /healthz is read (console/ops/backend.ts picks it); absent: the participant's socket on this host. */
  readonly healthz?: HealthzTransport;
}

const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;

/** The IdleDocker of a dockerode client (`new Dockerode({ socketPath })`). */
export function idleDocker(docker: Dockerode): IdleDocker {
  return {
    async inspect(name) {
      try {
        const info = await docker.getContainer(name).inspect();
        const started = info.State.Running && info.State.StartedAt ? new Date(info.State.StartedAt) : undefined;
        return { id: info.Id, running: info.State.Running, ...(started ? { startedAt: started } : {}) };
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async stop(name, timeoutSeconds) {
      try {
        await docker.getContainer(name).stop({ t: timeoutSeconds });
      } catch (err) {
        if (statusOf(err) !== 304) throw err; // 304: already stopped
      }
    },
    async start(name) {
      try {
        await docker.getContainer(name).start();
      } catch (err) {
        if (statusOf(err) !== 304) throw err; // 304: already running
      }
    },
    async cpuPercent(name) {
      // stream: false makes dockerd take two samples about a second apart (precpu_stats).
      const s = await docker.getContainer(name).stats({ stream: false });
      const cpu = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
      const system = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
      const cpus = s.cpu_stats.online_cpus ?? s.cpu_stats.cpu_usage.percpu_usage?.length ?? 1;
      return system > 0 && cpu > 0 ? (cpu / system) * cpus * 100 : 0;
    },
  };
}
