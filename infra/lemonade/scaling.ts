// How big the models' context and how many parallel slots, for an event of
// n participants. Pure: the planner's sibling, tested with tables.
//
// llama-server splits its context (-c) evenly over its parallel slots (-np):
// each concurrent request gets ctx/np tokens. The original THON gave every
// participant a slot and `ctxPerUser` tokens (ctx = ctxPerUser x users,
// -np = users). Here both are capped: at most `maxParallel` slots (more
// participants queue for a free slot instead of shrinking everyone's
// context), and at most `maxCtxSize` tokens in all (the KV cache must fit
// the host's memory).

export interface ModelScaleInput {
  readonly ctxPerUser: number;
  /** Upper bound for the model's whole context; undefined: no cap. */
  readonly maxCtxSize?: number | undefined;
}

export interface ModelScale {
  /** llama-server -np. */
  readonly parallel: number;
  /** llama-server -c (Lemonade's ctx_size). */
  readonly ctxSize: number;
  /** What one request can use now: ctxSize / parallel, rounded down. */
  readonly ctxPerSlot: number;
}

export function scaleModel(model: ModelScaleInput, participants: number, maxParallel: number): ModelScale {
  if (!Number.isInteger(participants) || participants < 0) throw new RangeError(`participants must be a whole number >= 0, got ${participants}`);
  if (!Number.isInteger(maxParallel) || maxParallel < 1) throw new RangeError(`maxParallel must be a whole number >= 1, got ${maxParallel}`);
  const parallel = Math.max(1, Math.min(participants, maxParallel));
  const wanted = model.ctxPerUser * parallel;
  const ctxSize = model.maxCtxSize === undefined ? wanted : Math.min(wanted, model.maxCtxSize);
  return { parallel, ctxSize, ctxPerSlot: Math.floor(ctxSize / parallel) };
}

/**
 * The context a client may count on whatever the event's size: the slot
 * size at the largest scale (maxParallel slots). Kilo's `limit.context` uses
 * it, so participants' config files do not change when someone joins (a
 * changed file would replace every sandbox).
 */
export function guaranteedCtxPerSlot(model: ModelScaleInput, maxParallel: number): number {
  return scaleModel(model, maxParallel, maxParallel).ctxPerSlot;
}
