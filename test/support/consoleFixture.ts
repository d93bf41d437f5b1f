// A throwaway event project for console tests: Pulumi.yaml, a dev stack
// naming thon.yaml, and the event file (comments included, so tests can see
// they survive an edit), plus stand-ins for Docker and the applier.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import type { Applier, ApplyOptions, PreviewResult, UpResult } from "../../console/apply/applier.ts";
import type { ContainerFacts, ContainerListing, ContainerSample, SandboxDocker } from "../../console/ops/docker.ts";

export const THON_YAML = `# test event
event:
  name: ctest
  host: 127.0.0.1

sandbox:
  memory: 1GiB
  auth: password

proxy:
  socketDir: SOCKETS

groups:
  alpha:
    users: [alice, bob] # the first team
  beta:
    users:
      - carol
      - { name: dave, state: stopped }
`;

export interface Fixture {
  readonly dir: string;
  readonly eventFile: string;
  readonly sockets: string;
  cleanup(): void;
}

export function makeProject(text = THON_YAML): Fixture {
  const dir = mkdtempSync(join(tmpdir(), "thon-console-"));
  const sockets = join(dir, "run");
  writeFileSync(join(dir, "Pulumi.yaml"), "name: thon\nruntime: nodejs\nmain: infra/index.ts\n");
  writeFileSync(join(dir, "Pulumi.dev.yaml"), "config:\n  thon:file: event/thon.yaml\n");
  const eventDir = join(dir, "event");
  mkdirSync(eventDir, { recursive: true });
  const eventFile = join(eventDir, "thon.yaml");
  writeFileSync(eventFile, text.replace("SOCKETS", sockets));
  return { dir, eventFile, sockets, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}


/** A stand-in for the Docker Engine API as the console uses it: containers by user, with scripted state. */
export class DockerStandIn implements SandboxDocker {
  readonly containers = new Map<string, { listing: ContainerListing; facts: ContainerFacts; sample?: ContainerSample; logs: string[] }>();
  readonly restarts: string[] = [];
  calls = { list: 0, inspect: 0, sample: 0 };

  add(user: string, facts: Partial<ContainerFacts> = {}, sample?: ContainerSample, logs: string[] = [`${user} log 1`, `${user} log 2`]): string {
    const id = `id-${user}`;
    const full: ContainerFacts = {
      id,
      status: "running",
      running: true,
      restarting: false,
      oomKilled: false,
      exitCode: 0,
      restartCount: 0,
      startedAt: "2026-11-28T10:00:00Z",
      finishedAt: null,
      image: "thon-sandbox:4.100.3",
      memoryLimit: 1024 * 1024 * 1024,
      ...facts,
    };
    this.containers.set(id, { listing: { id, user, state: full.status }, facts: full, ...(sample ? { sample } : {}), logs });
    return id;
  }

  async list(): Promise<ContainerListing[]> {
    this.calls.list++;
    return [...this.containers.values()].map((c) => c.listing);
  }
  async inspect(id: string) {
    this.calls.inspect++;
    return this.containers.get(id)?.facts;
  }
  async sample(id: string) {
    this.calls.sample++;
    return this.containers.get(id)?.sample;
  }
  async restart(id: string): Promise<void> {
    if (!this.containers.has(id)) throw Object.assign(new Error("no such container"), { statusCode: 404 });
    this.restarts.push(id);
  }
  async logs(id: string, tail: number): Promise<string[]> {
    return (this.containers.get(id)?.logs ?? []).slice(-tail);
  }
  async *follow(id: string, tail: number, signal: AbortSignal): AsyncIterable<string> {
    for (const l of (this.containers.get(id)?.logs ?? []).slice(-tail)) yield l;
    yield "followed line";
    await new Promise<void>((res) => signal.addEventListener("abort", () => res(), { once: true }));
  }
}

/**
 * A stand-in for the Automation API's stack, for tests of everything above
 * the Applier seam: it emits engine events shaped as the documented schema
 * (prelude, resourcePre, resOutputs, summary; monotonic `sequence`), can be
 * held mid-update, and can fail like the real adapter.
 */
export class ApplierStandIn implements Applier {
  readonly calls: Array<{ kind: "preview" | "up"; eventFile?: string; replace: readonly string[]; started: number; ended?: number }> = [];
  fail: Error | undefined;
  /** While set, up() waits for it (to hold an operation in the queue). */
  gate: Promise<void> | undefined;

  private events(kind: "preview" | "up", o: ApplyOptions): void {
    let seq = 0;
    const t = Math.floor(Date.now() / 1000);
    const emit = (e: Omit<EngineEvent, "sequence" | "timestamp">) => o.onEvent({ sequence: seq++, timestamp: t, ...e } as EngineEvent);
    emit({ preludeEvent: { config: {} } });
    for (const urn of o.replace ?? []) {
      const metadata = { op: "replace", urn, type: urn.split("::")[2]!.split("$").pop()!, provider: "", old: undefined, new: undefined } as never;
      emit({ resourcePreEvent: { metadata, planning: kind === "preview" } } as never);
      if (kind === "up") emit({ resOutputsEvent: { metadata, planning: false } } as never);
    }
    emit({ summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: { replace: (o.replace ?? []).length, same: 3 }, policyPacks: {} } } as never);
  }

  async preview(o: ApplyOptions): Promise<PreviewResult> {
    const call: (typeof this.calls)[number] = { kind: "preview", ...(o.eventFile ? { eventFile: o.eventFile } : {}), replace: o.replace ?? [], started: Date.now() };
    this.calls.push(call);
    if (this.fail) throw this.fail;
    this.events("preview", o);
    call.ended = Date.now();
    return { changes: { replace: (o.replace ?? []).length, same: 3 } };
  }

  async up(o: ApplyOptions): Promise<UpResult> {
    const call: (typeof this.calls)[number] = { kind: "up", replace: o.replace ?? [], started: Date.now() };
    this.calls.push(call);
    if (this.gate) await this.gate;
    if (this.fail) throw this.fail;
    this.events("up", o);
    call.ended = Date.now();
    return { changes: { replace: (o.replace ?? []).length, same: 3 } };
  }
}

import { createConsoleApp } from "../../console/api/app.ts";
import { DeclarativeRunner, type OfflinePreview } from "../../console/apply/declarative.ts";
import { OperationQueue } from "../../console/apply/queue.ts";
import { Project } from "../../console/ops/project.ts";
import { GatewayClient, LemonadeClient } from "../../console/ops/services.ts";
import { StatusService } from "../../console/ops/status.ts";
import { headerAuth, MemoryAudit } from "./consoleAuth.ts";

export interface Harness {
  readonly fixture: Fixture;
  readonly project: Project;
  readonly docker: DockerStandIn;
  readonly applier: ApplierStandIn;
  readonly queue: OperationQueue;
  readonly audit: MemoryAudit;
  readonly app: ReturnType<typeof createConsoleApp>;
  /** app.request with a principal ("organizer", "viewer" or none) and a JSON body. */
  call(method: string, path: string, options?: { as?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
}

export function harness(options: { text?: string; lemonade?: string; lemonadeKey?: string; gateway?: string; gatewayKey?: string; offlinePreview?: OfflinePreview; maxQueued?: number } = {}): Harness {
  const fixture = makeProject(options.text);
  const project = new Project({ projectDir: fixture.dir, stack: "dev" });
  const docker = new DockerStandIn();
  const applier = new ApplierStandIn();
  const queue = new OperationQueue("dev", options.maxQueued !== undefined ? { maxQueued: options.maxQueued } : {});
  const audit = new MemoryAudit();
  const declarative = new DeclarativeRunner({ project, applier, queue, audit, ...(options.offlinePreview ? { offlinePreview: options.offlinePreview } : {}) });
  const app = createConsoleApp({
    auth: headerAuth(),
    audit,
    ops: {
      project,
      docker,
      status: new StatusService(docker, { healthzTimeoutMs: 500 }),
      queue,
      declarative,
      ...(options.lemonade ? { lemonade: new LemonadeClient(options.lemonade, options.lemonadeKey) } : {}),
      ...(options.gateway ? { gateway: new GatewayClient(options.gateway, options.gatewayKey) } : {}),
    },
  });
  const call: Harness["call"] = (method, path, o = {}) => {
    const as = o.as === undefined ? "organizer" : o.as;
    const headers: Record<string, string> = { ...(as ? { "X-Test-Principal": as } : {}), ...(o.body !== undefined ? { "Content-Type": "application/json" } : {}), ...(o.headers ?? {}) };
    return Promise.resolve(app.request(path, { method, headers, ...(o.body !== undefined ? { body: typeof o.body === "string" ? o.body : JSON.stringify(o.body) } : {}) }));
  };
  return { fixture, project, docker, applier, queue, audit, app, call };
}
