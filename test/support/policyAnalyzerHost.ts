// The policy pack as `pulumi preview --policy-pack policies` runs it: a
// child process started through @pulumi/pulumi/cmd/run-policy-pack, spoken
// to over its gRPC Analyzer. `usePolicyPack()` starts it once per test file
// (beforeAll, bounded) and kills it afterwards (afterAll).
import { afterAll, beforeAll } from "vitest";
import { startPolicyPack, type AnalyzeResult, type Diagnostic, type PolicyPackServer } from "../../infra/policy/analyzer.ts";

export * from "../../infra/policy/analyzer.ts";

/** Starts the pack before the file's tests and stops it after them; `get()` returns the running server. */
export function usePolicyPack(timeoutMs = 60_000): { get(): PolicyPackServer } {
  let server: PolicyPackServer | undefined;
  beforeAll(async () => {
    server = await startPolicyPack({ timeoutMs });
  }, timeoutMs + 5_000);
  afterAll(async () => {
    await server?.stop();
  }, 10_000);
  return {
    get() {
      if (!server) throw new Error("the policy pack is not running (beforeAll failed?)");
      return server;
    },
  };
}

/** Diagnostics of one policy. */
export function diagnosticsOf(result: AnalyzeResult | readonly Diagnostic[], policy: string): Diagnostic[] {
  const list = "diagnostics" in result ? result.diagnostics : result;
  return list.filter((d) => d.policyName === policy);
}

/** Whether a process is still alive. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
