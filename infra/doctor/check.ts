// One line of `thon doctor`: what was checked, how it went, what was found
// and, unless it is ok, what to do about it.
import type { Event } from "../config/event.ts";

export type Status = "ok" | "warn" | "fail";

export interface Check {
  readonly name: string;
  readonly status: Status;
  readonly detail: string;
  /** The fix; empty when the check is ok. */
  readonly fix: string;
}

export interface DoctorContext {
  readonly event: Event;
  /** The Pulumi project's folder (where .pulumi-cli/ and package.json are). */
  readonly projectDir: string;
  readonly env: NodeJS.ProcessEnv;
}

export const ok = (name: string, detail: string): Check => ({ name, status: "ok", detail, fix: "" });
export const warn = (name: string, detail: string, fix: string): Check => ({ name, status: "warn", detail, fix });
export const fail = (name: string, detail: string, fix: string): Check => ({ name, status: "fail", detail, fix });

/** A short reason from an error, without a stack. */
export const reason = (err: unknown): string => {
  const e = err as NodeJS.ErrnoException;
  return [e.code, e.message?.split("\n")[0]].filter(Boolean).join(": ") || String(err);
};
