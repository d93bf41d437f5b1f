// Every operation is defined once: its input schema (zod: the REST API's
// validation and OpenAPI document, the CLI's checks), its kind, the role it
// needs and what it does. The API and the CLI are thin fronts over these.
import type { z } from "zod";
import type { Role } from "../auth/types.ts";
import type { OpContext } from "./context.ts";

export type OpKind = "read" | "declarative" | "imperative";

export interface Operation<I extends z.ZodType = z.ZodType, O = unknown> {
  readonly name: string;
  readonly kind: OpKind;
  readonly role: Role;
  readonly summary: string;
  readonly input: I;
  run(ctx: OpContext, input: z.output<I>): Promise<O>;
}

export function defineOp<I extends z.ZodType, O>(op: Operation<I, O>): Operation<I, O> {
  return op;
}
