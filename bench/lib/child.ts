// Runs one measurement in a fresh Node process (its own heap, its own JIT
// state) and reads the JSON line it prints last. Every figure that depends
// on memory or on warm-up is taken this way, so one run cannot tilt the next.
import { spawn } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "../..");

export interface ChildOptions {
  /** Extra node flags, before `--import tsx` (e.g. `--max-semi-space-size=64`). */
  readonly nodeArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/** Runs `node --import tsx <script> <json spec>` and returns the JSON object on its last stdout line. */
export function runChild<T>(script: string, spec: unknown, options: ChildOptions = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import", "tsx", join(ROOT, script), JSON.stringify(spec)], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 600_000);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0) {
        reject(new Error(`${script} ${JSON.stringify(spec)} exited ${code ?? signal}:\n${err.slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result:\n${out.slice(-1000)}\n${err.slice(-1000)}`));
      }
    });
  });
}

/** Prints the result for the parent: one JSON line, last on stdout. */
export function report(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
