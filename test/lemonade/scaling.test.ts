import { describe, expect, it } from "vitest";
import { guaranteedCtxPerSlot, scaleModel } from "../../infra/lemonade/scaling.ts";

describe("context and parallel slots scale with the participants, within the caps", () => {
  it.each([
    // ctxPerUser, cap, participants, maxParallel -> parallel, ctx, per slot
    [262144, undefined, 1, 16, 1, 262144, 262144],
    [262144, undefined, 3, 16, 3, 786432, 262144], // the original: ctx = per user x users, -np = users
    [262144, 1048576, 3, 16, 3, 786432, 262144],
    [262144, 1048576, 4, 16, 4, 1048576, 262144],
    [262144, 1048576, 5, 16, 5, 1048576, 209715], // the cap bites: slots shrink
    [262144, 1048576, 50, 16, 16, 1048576, 65536], // more participants than slots: they queue
    [32768, 262144, 50, 16, 16, 262144, 16384],
    [4096, undefined, 0, 16, 1, 4096, 4096], // an event without participants still loads one slot
  ] as const)("ctxPerUser %i cap %s, %i participants, maxParallel %i: -np %i, -c %i (%i per slot)", (ctxPerUser, cap, n, maxParallel, parallel, ctx, perSlot) => {
    expect(scaleModel({ ctxPerUser, maxCtxSize: cap }, n, maxParallel)).toEqual({ parallel, ctxSize: ctx, ctxPerSlot: perSlot });
  });

  it("never exceeds the caps, and never gives a slot less than the guaranteed context", () => {
    for (const cap of [undefined, 100_000, 1_048_576]) {
      for (const maxParallel of [1, 4, 16]) {
        const model = { ctxPerUser: 65536, maxCtxSize: cap };
        const floor = guaranteedCtxPerSlot(model, maxParallel);
        for (let n = 0; n <= 40; n++) {
          const s = scaleModel(model, n, maxParallel);
          expect(s.parallel).toBeLessThanOrEqual(maxParallel);
          if (cap !== undefined) expect(s.ctxSize).toBeLessThanOrEqual(cap);
          expect(s.ctxPerSlot).toBeGreaterThanOrEqual(floor);
          expect(s.ctxPerSlot).toBeLessThanOrEqual(65536);
        }
      }
    }
  });

  it("refuses nonsense counts", () => {
    expect(() => scaleModel({ ctxPerUser: 1 }, -1, 4)).toThrow(/participants/);
    expect(() => scaleModel({ ctxPerUser: 1 }, 2, 0)).toThrow(/maxParallel/);
  });
});
