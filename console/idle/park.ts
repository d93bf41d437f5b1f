// Parking and waking one participant. Parked = the container stopped by THON
// (`docker stop`, the workspace untouched) and recorded as parked in the
// console store. Components/sandbox.ts declares running sandboxes with
// mustRun: false, so a `pulumi refresh` keeps a stopped container as it is
// (docs/idle.md has the provider's source lines). The organizer's
// `state: stopped` is never touched: a park refuses it, a wake refuses it.
import type { ParticipantPlan } from "../../infra/plan.ts";
import type { IdleDocker } from "./docker.ts";
import { readHealthz, waitForHealthz } from "./healthz.ts";
import { healthzOf } from "../ops/healthz.ts";
import type { ParkRecords } from "./records.ts";

/** What park and wake need of a participant's plan (a ParticipantPlan fits). */
export type IdleTarget = Pick<ParticipantPlan, "name" | "state" | "containerName" | "socketHostPath"> & Partial<Pick<ParticipantPlan, "node" | "endpointPath">>;

export type IdleRefusal =
  /** thon.yaml says state: stopped: the organizer's, never parked or woken. */
  | "organizer-stopped"
  /** No such container. */
  | "no-container"
  /** Park: the container is not running. */
  | "not-running"
  /** Park: a client connected since the decision was made. */
  | "connected"
  /** Wake: the container is stopped, and not by THON (crashed, or stopped by hand): an organizer's call. */
  | "not-parked"
  /** Wake: code-server did not answer /healthz in time. */
  | "wake-timeout";

/** A park or wake that did not happen, and why; the message names the participant and what to do. */
export class IdleError extends Error {
  constructor(
    readonly code: IdleRefusal,
    readonly user: string,
    message: string,
  ) {
    super(message);
    this.name = "IdleError";
  }
}

export interface ParkOptions {
  /** Seconds code-server gets to exit before SIGKILL (the Sandbox's stopTimeout). Default 30. */
  readonly stopTimeoutSeconds?: number;
  /** Refuse when /healthz says a client is connected right now (the decision may be a minute old). Default true; pass false to park a connected-idle sandbox under idle.parkConnectedAfter. */
  readonly unlessConnected?: boolean;
  readonly now?: () => Date;
}

export interface ParkResult {
  readonly user: string;
  readonly at: Date;
  readonly containerId: string;
}

/** Parks one participant: records the park, then stops the container; on failure the record is withdrawn. */
export async function parkParticipant(docker: IdleDocker, plan: IdleTarget, records: ParkRecords, reason: string, opts: ParkOptions = {}): Promise<ParkResult> {
  const user = plan.name;
  if (plan.state === "stopped") throw new IdleError("organizer-stopped", user, `${user}: stopped by the organizer (state: stopped); parking leaves it alone`);
  const container = await docker.inspect(plan.containerName);
  if (!container) throw new IdleError("no-container", user, `${user}: no container ${plan.containerName}; run pulumi up first`);
  if (!container.running) throw new IdleError("not-running", user, `${user}: ${plan.containerName} is not running; nothing to park`);
  if (opts.unlessConnected !== false && (await readHealthz(plan, 2000, healthzOf(docker)))?.status === "alive") {
    throw new IdleError("connected", user, `${user}: a client is connected now; not parked`);
  }
  const at = (opts.now ?? (() => new Date()))();
  // Record first: a park that is under way must not look like a crash to a concurrent wake.
  records.set({ user, at, reason, containerId: container.id });
  try {
    await docker.stop(plan.containerName, opts.stopTimeoutSeconds ?? 30);
  } catch (err) {
    records.delete(user);
    throw err;
  }
  return { user, at, containerId: container.id };
}

export interface WakeOptions {
  /** How long to wait for code-server's /healthz, in seconds (idle.wakeTimeout). */
  readonly timeoutSeconds: number;
  readonly pollMs?: number;
}

export interface WakeResult {
  readonly user: string;
  /** False when the sandbox was running already (nothing to start). */
  readonly started: boolean;
  /** From the start request to code-server's first /healthz answer. */
  readonly readyMs: number;
}

/**
 * Wakes one participant parked by THON: starts the container, withdraws the
 * park record, and waits until code-server answers /healthz on the
 * participant's socket. A running sandbox only gets the wait.
 */
export async function wakeParticipant(docker: IdleDocker, plan: IdleTarget, records: ParkRecords, opts: WakeOptions): Promise<WakeResult> {
  const user = plan.name;
  // The declared state wins over any record: an organizer may stop someone THON had parked.
  if (plan.state === "stopped") throw new IdleError("organizer-stopped", user, `${user}: stopped by the organizer; ask them to set state: running`);
  const container = await docker.inspect(plan.containerName);
  if (!container) throw new IdleError("no-container", user, `${user}: no container ${plan.containerName}; ask an organizer`);
  let started = false;
  const t0 = Date.now();
  if (!container.running) {
    const record = records.get(user);
    // A record for another container id: the container was replaced since, by pulumi up; not THON's to start.
    if (!record || record.containerId !== container.id) {
      throw new IdleError("not-parked", user, `${user}: ${plan.containerName} is stopped, but not by idle parking; ask an organizer`);
    }
    await docker.start(plan.containerName);
    records.delete(user);
    started = true;
  } else {
    records.delete(user);
  }
  const ms = await waitForHealthz(plan, opts.timeoutSeconds * 1000, opts.pollMs, healthzOf(docker));
  if (ms === undefined) throw new IdleError("wake-timeout", user, `${user}: code-server did not answer within ${opts.timeoutSeconds}s of the start; see its logs (docker logs ${plan.containerName})`);
  return { user, started, readyMs: Date.now() - t0 };
}
