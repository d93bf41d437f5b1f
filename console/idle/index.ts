// Idle parking, the parts the console calls (design: docs/idle.md).
export { assess, dryRun, type Assessment, type Decision, type HealthzReading, type IdleRules, type IdleStatus, type IdleSubject, type SignalReport, type Signals } from "./decide.ts";
export { idleReport } from "./report.ts";
export { idleDocker, type ContainerRunState, type IdleDocker } from "./docker.ts";
export { readHealthz, waitForHealthz } from "./healthz.ts";
export { MemoryParkRecords, type ParkRecord, type ParkRecords } from "./records.ts";
export { IdleError, parkParticipant, wakeParticipant, type IdleRefusal, type IdleTarget, type ParkOptions, type ParkResult, type WakeOptions, type WakeResult } from "./park.ts";
export { WakeQueue, type WakeQueueOptions } from "./wakeQueue.ts";
export { WakeGate, type GateResult, type WakeGateOptions } from "./wakeGate.ts";
export { newestChange, readSignals, type SignalInputs } from "./signals.ts";
export { SqliteParkRecords, MemoryKeepAwake, type KeepAwake, type KeepAwakeStore } from "./sqliteRecords.ts";
export { subjectOf, subjectsOf, mapBounded, type IdleParticipant, type SubjectSources } from "./subjects.ts";
export { WakeService, type WakeState, type WakeServiceOptions } from "./wakeService.ts";
export { idleRoutes, type IdleRoutesDeps, type ParticipantUsage } from "./routes.ts";
export { IdleScheduler, systemClock, type IdleSchedulerOptions, type RoundResult, type SchedulerClock } from "./scheduler.ts";
export { registerIdleCommands, type IdleCliContext, type IdleCliDeps } from "./cli.ts";
