// `thon doctor`: is this host ready for `pulumi up`? Runs every check group
// and prints one line per check; the caller exits 1 on any fail.
import type { Event } from "../config/event.ts";
import type { Check, DoctorContext } from "./check.ts";
import { checkDisk, checkEngine, checkImage } from "./docker.ts";
import { checkMemory, checkNginx, checkPorts, checkSocketGroup } from "./host.ts";
import { checkPulumi } from "./pulumi.ts";
import { checkSwarm } from "./swarm.ts";
import { swarmTargetOf } from "../config/swarmTarget.ts";
import { checkApisix, checkLemonade } from "./llm.ts";

export type { Check } from "./check.ts";

export async function runDoctor(event: Event, options: Omit<DoctorContext, "event">): Promise<Check[]> {
  const ctx: DoctorContext = { event, ...options };
  const { checks: engineChecks, engine } = await checkEngine(ctx);
  const checks = [...engineChecks];
  if (engine) checks.push(await checkDisk(ctx, engine), await checkImage(ctx, engine));
  const swarm = swarmTargetOf(event);
  if (swarm) checks.push(...(await checkSwarm(ctx, swarm)));
  checks.push(...(await checkNginx(ctx)), ...(await checkPorts(ctx)), await checkSocketGroup(ctx));
  checks.push(...(await checkPulumi(ctx)), checkMemory(ctx));
  if (event.lemonade.enabled) checks.push(await checkLemonade(ctx));
  if (event.gateway.enabled) checks.push(await checkApisix(ctx));
  return checks;
}

export function formatDoctor(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map((c) => `${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}${c.fix ? `. Fix: ${c.fix}` : ""}`);
  const fails = checks.filter((c) => c.status === "fail").length;
  const warns = checks.filter((c) => c.status === "warn").length;
  return `${lines.join("\n")}\n${fails === 0 ? "ready" : "not ready"}: ${fails} fail, ${warns} warn, ${checks.length - fails - warns} ok\n`;
}
