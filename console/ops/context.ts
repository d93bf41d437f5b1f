// What every operation may use. Built once per console process (server.ts)
// or per CLI run, and by tests with stand-ins.
import type { AuditLog, Principal } from "../auth/types.ts";
import type { DeclarativeRunner } from "../apply/declarative.ts";
import type { OperationQueue } from "../apply/queue.ts";
import type { SandboxDocker } from "./docker.ts";
import type { Project } from "./project.ts";
import type { GatewayClient, LemonadeClient } from "./services.ts";
import type { StatusService } from "./status.ts";

export interface OpServices {
  readonly project: Project;
  readonly docker: SandboxDocker;
  readonly status: StatusService;
  readonly queue: OperationQueue;
  readonly declarative: DeclarativeRunner;
  readonly audit: AuditLog;
  readonly lemonade?: LemonadeClient;
  readonly gateway?: GatewayClient;
  /** Bound for bulk operations (Docker calls at a time). */
  readonly bulkConcurrency?: number;
}

export interface OpContext extends OpServices {
  readonly principal: Principal;
}
