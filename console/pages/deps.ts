// What the pages need besides the operations: each one a small interface,
// bound by the console process (server.ts) and by tests to stand-ins.
import type { AuditEntry } from "../auth/types.ts";
import type { StackCredentials } from "../../infra/cli/credentials.ts";
import type { UsageCollector } from "../usage/collector.ts";
import type { UsageStore } from "../usage/store.ts";
import type { HealthCheck } from "./healthChecks.ts";

/** The stack's participant credentials (passwords, API keys): read only when an organizer asks. */
export interface CredentialsReader {
  read(): Promise<StackCredentials>;
}

export interface AuditRecord extends AuditEntry {
  /** ISO time of the entry. */
  readonly at: string;
}

export interface AuditFilter {
  readonly who?: string;
  readonly what?: string;
  /** ISO times, inclusive. */
  readonly since?: string;
  readonly until?: string;
  readonly limit?: number;
}

/** Lists the audit log, newest first (the console's store implements it). */
export type AuditList = (filter: AuditFilter) => readonly AuditRecord[] | Promise<readonly AuditRecord[]>;

export interface PagesOptions {
  readonly credentials?: CredentialsReader;
  readonly usage?: { readonly store: UsageStore; readonly collector?: UsageCollector };
  readonly auditList?: AuditList;
  /** Default: the checks of healthChecks.ts for this event. */
  readonly healthChecks?: readonly HealthCheck[];
  /** How often the server refreshes live status while a page listens (default 1000 ms). */
  readonly liveIntervalMs?: number;
}
