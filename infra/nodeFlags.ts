// Node flags for the process that runs the whole program (`pulumi up` through
// Pulumi.yaml's nodeargs, `thon plan` through bin/thon.mjs).
//
// Pulumi's Node SDK declares every resource up front and keeps each one's
// registration in flight (an Output with four promises per output property)
// until the engine answers: bench/scale.ts measured about 140 KB live per
// resource mid-run, some 27,000 resources for 3,000 participants with every
// feature on. Past about 2,500 participants that no longer fits V8's default
// heap limit (4 GiB on a 64-bit host), and the collector thrashes (3,000
// participants: 192 s instead of 65 s), then fails. A larger young
// generation cuts the scavenges, which are most of the GC time here (3,000
// participants: 65 s -> 48 s). V8 takes both only at start.
export const PROGRAM_NODE_FLAGS: readonly string[] = ["--max-old-space-size=8192", "--max-semi-space-size=64"];

const HEAP_MIB = 8192;

/** True when this process runs with a smaller heap limit than the program wants. */
export function needsProgramFlags(heapLimitBytes: number): boolean {
  return heapLimitBytes < HEAP_MIB * 2 ** 20;
}
