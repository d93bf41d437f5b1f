import { defineConfig } from "vitest/config";

// Unit, program (mocks), contract and real-server tests; `npm run test:e2e`
// runs test/e2e (Docker, code-server, Chromium) with its own config.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    // Pulumi's runtime state is process-global: one process per test file.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
