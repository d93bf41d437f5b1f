// Wakes at 9 a.m.: many participants open their tab at once. Starting every
// container together would make them all slow (code-server's start is CPU
// bound), so wakes run `concurrency` at a time in arrival order, and a
// participant who clicks twice (or on two devices) joins the wake already
// queued or running instead of adding one. Hand-written: a bounded queue with
// per-key de-duplication is a dozen lines; p-queue/p-limit are not
// dependencies of the project and would still need the de-duplication.

export interface WakeQueueOptions<T> {
  /** Wakes running at once (idle.wakeConcurrency). */
  readonly concurrency: number;
  /** Wakes one participant (e.g. `(user) => wakeParticipant(docker, planOf(user), records, opts)`). */
  readonly wake: (user: string) => Promise<T>;
}

export class WakeQueue<T> {
  private readonly waiting: { user: string; resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  private readonly inFlight = new Map<string, Promise<T>>();
  private active = 0;

  constructor(private readonly opts: WakeQueueOptions<T>) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new Error(`WakeQueue: concurrency must be a whole number of at least 1, got ${opts.concurrency}`);
  }

  /** Queues a wake for `user`, or joins the one queued or running; settles with its result. */
  request(user: string): Promise<T> {
    const existing = this.inFlight.get(user);
    if (existing) return existing;
    const promise = new Promise<T>((resolve, reject) => {
      this.waiting.push({ user, resolve, reject });
    });
    this.inFlight.set(user, promise);
    // Forget the wake once settled, so a later park and wake starts afresh.
    promise.then(
      () => this.inFlight.delete(user),
      () => this.inFlight.delete(user),
    );
    this.pump();
    return promise;
  }

  /** Wakes waiting for a slot, and running. */
  get stats(): { readonly waiting: number; readonly running: number } {
    return { waiting: this.waiting.length, running: this.active };
  }

  /** The position of `user` in the queue (0 = next), undefined if not waiting; for the parked page's "n ahead of you". */
  position(user: string): number | undefined {
    const i = this.waiting.findIndex((w) => w.user === user);
    return i < 0 ? undefined : i;
  }

  private pump(): void {
    while (this.active < this.opts.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      this.active++;
      let result: Promise<T>;
      try {
        result = this.opts.wake(job.user);
      } catch (err) {
        result = Promise.reject(err);
      }
      result.then(job.resolve, job.reject).finally(() => {
        this.active--;
        this.pump();
      });
    }
  }
}
