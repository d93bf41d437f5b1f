// The in-process queue: one declarative operation at a time per stack, so
// two organizers never interleave edits of thon.yaml or two `pulumi up`s.
// Each operation has an id and a buffer of its stream items; a client that
// reconnects with Last-Event-ID gets the items after that id, then the rest
// live. Engine events keep the engine's `sequence` as their id; the final
// result gets the next number.
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { EngineEvent } from "./applier.ts";
import { OpError } from "../ops/errors.ts";

export type OperationState = "queued" | "running" | "succeeded" | "failed";

export interface OperationError {
  readonly code: string;
  readonly message: string;
  readonly fix: string;
  readonly field?: string;
  readonly data?: Record<string, unknown>;
}

export interface OperationRecord {
  readonly id: string;
  readonly action: string;
  readonly target: string | null;
  readonly actor: string;
  state: OperationState;
  readonly createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  result: unknown;
  error: OperationError | null;
}

export interface StreamItem {
  readonly id: number;
  readonly event: "engine" | "result";
  readonly data: unknown;
}

export interface QueuedRun {
  readonly action: string;
  readonly target?: string;
  readonly actor: string;
  /** Runs when the operation's turn comes; engine events go to `emit`. */
  run(emit: (e: EngineEvent) => void): Promise<unknown>;
}

export interface EnqueueOptions {
  /** "fail": a 409 naming the running operation instead of waiting for it. */
  readonly ifBusy?: "wait" | "fail";
}

const KEEP_FINISHED = 200;

export class OperationQueue {
  private readonly records = new Map<string, OperationRecord>();
  private readonly items = new Map<string, StreamItem[]>();
  private readonly bus = new EventEmitter();
  private tail: Promise<void> = Promise.resolve();
  private active: OperationRecord | undefined;
  private waiting = 0;

  private readonly maxQueued: number;

  constructor(
    readonly stack: string,
    options: { maxQueued?: number } = {},
  ) {
    this.bus.setMaxListeners(0);
    this.maxQueued = options.maxQueued ?? 20;
  }

  get busy(): OperationRecord | undefined {
    return this.active;
  }

  /** Queues `op`; the returned record updates in place; `done` settles when it finished (never rejects). */
  enqueue(op: QueuedRun, options: EnqueueOptions = {}): { record: OperationRecord; done: Promise<OperationRecord> } {
    if (options.ifBusy === "fail" && (this.active || this.waiting > 0)) {
      const running = this.active;
      throw new OpError(
        "conflict",
        `stack ${this.stack} is busy: operation ${running?.id ?? "(queued)"} (${running?.action ?? "queued"}${running?.target ? ` ${running.target}` : ""}) by ${running?.actor ?? "?"} is running`,
        `wait for it (GET /api/v1/operations/${running?.id ?? ""}/events), or send ifBusy: "wait" to queue behind it`,
        "ifBusy",
      );
    }
    if (this.waiting >= this.maxQueued) {
      throw new OpError("too_many", `${this.waiting} operations already wait for stack ${this.stack}`, "wait for some to finish (GET /api/v1/operations), or group the changes into one bulk operation", undefined);
    }
    const record: OperationRecord = {
      id: randomUUID(),
      action: op.action,
      target: op.target ?? null,
      actor: op.actor,
      state: "queued",
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      result: null,
      error: null,
    };
    this.records.set(record.id, record);
    this.items.set(record.id, []);
    this.waiting++;
    const done = (this.tail = this.tail.then(() => this.execute(record, op)));
    this.prune();
    return { record, done: done.then(() => record) };
  }

  private async execute(record: OperationRecord, op: QueuedRun): Promise<void> {
    this.waiting--;
    this.active = record;
    record.state = "running";
    record.startedAt = new Date().toISOString();
    const list = this.items.get(record.id)!;
    let last = -1;
    const push = (item: StreamItem) => {
      list.push(item);
      last = Math.max(last, item.id);
      this.bus.emit(record.id, item);
    };
    try {
      record.result = await op.run((e) => push({ id: e.sequence, event: "engine", data: e }));
      record.state = "succeeded";
    } catch (err) {
      record.state = "failed";
      record.error =
        err instanceof OpError
          ? { code: err.code, message: err.message, fix: err.fix, ...(err.field ? { field: err.field } : {}), ...(err.data ? { data: err.data } : {}) }
          : { code: "failed", message: (err as Error).message ?? String(err), fix: "see the operation's engine events and the console's log" };
    } finally {
      record.finishedAt = new Date().toISOString();
      this.active = undefined;
      push({ id: last + 1, event: "result", data: summary(record) });
      this.bus.emit(`${record.id}:end`);
    }
  }

  get(id: string): OperationRecord | undefined {
    return this.records.get(id);
  }

  list(): OperationRecord[] {
    return [...this.records.values()].reverse();
  }

  /** Items after `afterId` (all when undefined), then live ones until the result; ends after the result. */
  async *stream(id: string, afterId: number | undefined, signal?: AbortSignal): AsyncGenerator<StreamItem> {
    const list = this.items.get(id);
    if (!list) return;
    const pending: StreamItem[] = [];
    let wake: (() => void) | undefined;
    const onItem = (item: StreamItem) => {
      pending.push(item);
      wake?.();
    };
    const onAbort = () => wake?.();
    this.bus.on(id, onItem);
    signal?.addEventListener("abort", onAbort);
    try {
      const seen = list.slice();
      for (const item of seen) if (afterId === undefined || item.id > afterId) yield item;
      if (seen.some((i) => i.event === "result")) return;
      const skip = new Set(seen);
      for (;;) {
        while (pending.length > 0) {
          const item = pending.shift()!;
          if (skip.has(item)) continue;
          if (afterId === undefined || item.id > afterId) yield item;
          if (item.event === "result") return;
        }
        if (signal?.aborted) return;
        await new Promise<void>((res) => (wake = res));
        wake = undefined;
      }
    } finally {
      this.bus.off(id, onItem);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  private prune(): void {
    const finished = [...this.records.values()].filter((r) => r.state === "succeeded" || r.state === "failed");
    for (const r of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) {
      this.records.delete(r.id);
      this.items.delete(r.id);
    }
  }
}

export function summary(r: OperationRecord) {
  return { id: r.id, action: r.action, target: r.target, actor: r.actor, state: r.state, createdAt: r.createdAt, startedAt: r.startedAt, finishedAt: r.finishedAt, result: r.result, error: r.error };
}
