// Stack traces cost the Pulumi program most of its run time. @pulumi/pulumi
// wraps nearly every promise it makes in `debuggablePromise`, which stores
// `new Error().stack` on it for its leak report (printed only with
// PULUMI_DEBUG_PROMISE_LEAKS). That is four promises per output property of
// every resource (about 80 properties on a docker.Container), each formatting
// up to 10 frames, through source maps under tsx. The strings also stay on
// the promises: memory grows by hundreds of KiB per container.
//
// With Error.stackTraceLimit = 0 no frames are captured or formatted.
// Measured (bench/scale.ts, docs/performance.md): about 3x faster and a third
// less peak memory for the whole program. What is lost: thrown errors carry
// their message only. THON's own errors (thon.yaml problems, ResourceError,
// RunError) are printed without a stack anyway; for a bug inside the program,
// THON_STACK_TRACES=1 brings the stacks back. Pulumi's source positions of
// resources are unaffected: `Resource.callsites` raises the limit itself
// while it reads the caller's position.
//
// One thing needs stack frames: under `node --import tsx` (how Pulumi.yaml
// runs the program), tsx's CommonJS hook reads `new Error().stack` when an ES
// module imports a CommonJS package (@pulumi/docker, ...) for the first time,
// and fails without frames ("docker.Provider is not a constructor"). So limit
// only once the program's modules are loaded: infra/index.ts calls this after
// its static imports; evaluateEventFile loads them before the run. Plain
// `require()` calls (the SDKs' lazy loading) are not affected.

/** True when stack traces were asked for: THON_STACK_TRACES=1, or Pulumi's promise-leak debugging (which prints them). */
export function stackTracesWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  const on = (v: string | undefined) => v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";
  return on(env.THON_STACK_TRACES) || on(env.PULUMI_DEBUG_PROMISE_LEAKS);
}

/**
 * Stops V8 from capturing stack traces (unless they were asked for) and
 * returns the function that puts the previous limit back.
 */
export function limitStackTraces(env: NodeJS.ProcessEnv = process.env): () => void {
  if (stackTracesWanted(env)) return () => undefined;
  const previous = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  return () => {
    Error.stackTraceLimit = previous;
  };
}
