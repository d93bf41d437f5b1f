// What each benchmark returns: a titled markdown section for the results file.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface BenchOptions {
  /** Fewer sizes and repetitions, shorter load runs: a smoke run of every figure. */
  readonly quick: boolean;
}

export interface Section {
  readonly title: string;
  readonly body: string;
}

/** True when the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(url));
  } catch {
    return false;
  }
}
