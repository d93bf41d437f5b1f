// THON's own record of whom it parked. Docker labels cannot change on an
// existing container, and the stack must not hear of parking (docs/idle.md),
// so the record lives in the console's store. This interface is what park
// and wake need; the console implements it on its SQLite store.

export interface ParkRecord {
  readonly user: string;
  readonly at: Date;
  readonly reason: string;
  /** The container parked (a replaced container is not parked any more). */
  readonly containerId: string;
}

export interface ParkRecords {
  get(user: string): ParkRecord | undefined;
  set(record: ParkRecord): void;
  delete(user: string): void;
}

/** ParkRecords in memory (tests, `thon idle` runs that keep no store). */
export class MemoryParkRecords implements ParkRecords {
  private readonly records = new Map<string, ParkRecord>();
  get(user: string): ParkRecord | undefined {
    return this.records.get(user);
  }
  set(record: ParkRecord): void {
    this.records.set(record.user, record);
  }
  delete(user: string): void {
    this.records.delete(user);
  }
}
