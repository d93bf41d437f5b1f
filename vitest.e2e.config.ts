import { defineConfig } from "vitest/config";

// The e2e suite (test/e2e): a real Docker engine, code-server, Chromium and,
// with the proxy, nginx. Run it with `npm run test:e2e`, which starts dockerd
// and builds the sandbox image first (scripts/e2e.sh).
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    // Pulumi's runtime state is process-global; the files also share one engine.
    pool: "forks",
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // Slow steps are logged as they happen (timings, cleanup).
    silent: false,
  },
});
