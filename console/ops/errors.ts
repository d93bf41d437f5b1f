// One error type for every operation, whichever front reached it: the REST
// API turns it into its JSON error shape and status, the CLI into a line and
// an exit code. It always says which field (if any) and what to do.

export type OpErrorCode =
  | "bad_input" // 400
  | "unauthenticated" // 401
  | "forbidden" // 403
  | "not_found" // 404
  | "conflict" // 409
  | "invalid_config" // 422: the edit would make thon.yaml invalid
  | "too_many" // 429
  | "unavailable" // 503: a server the console reads is down, or Pulumi is missing
  | "failed"; // 500

export const STATUS_OF: Readonly<Record<OpErrorCode, number>> = {
  bad_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_config: 422,
  too_many: 429,
  unavailable: 503,
  failed: 500,
};

export interface OpErrorDetail {
  /** The input field or thon.yaml path the problem is about. */
  readonly field?: string;
  readonly message: string;
}

export class OpError extends Error {
  override name = "OpError";
  constructor(
    readonly code: OpErrorCode,
    message: string,
    readonly fix: string,
    readonly field?: string,
    readonly details: readonly OpErrorDetail[] = [],
    /** Extra data for the answer (e.g. the diff that would have applied). */
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
  get status(): number {
    return STATUS_OF[this.code];
  }
}

export const notFound = (what: string, name: string, field: string, fix: string) =>
  new OpError("not_found", `there is no ${what} "${name}"`, fix, field);
