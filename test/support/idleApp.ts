// The idle routes as the idle tests mount them: header auth, in-memory
// keep-awake, signals read without CPU sampling, and no credentials or usage
// unless a test gives them. Shared by test/idle and test/e2e so the wiring is
// written once.
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import { chmodSync } from "node:fs";
import type { ConsoleEnv } from "../../console/auth/types.ts";
import { idleRoutes, type IdleRoutesDeps } from "../../console/idle/routes.ts";
import { readSignals } from "../../console/idle/signals.ts";
import { MemoryKeepAwake } from "../../console/idle/sqliteRecords.ts";
import { headerAuth } from "./consoleAuth.ts";

export type IdleTestDeps = Pick<IdleRoutesDeps, "audit" | "docker" | "records" | "participants" | "policy"> &
  Partial<IdleRoutesDeps> & { readonly passwords: ReadonlyMap<string, string> };

/** A console sub-app with idleRoutes at "/"; any IdleRoutesDeps given override the defaults. */
export function idleTestApp(deps: IdleTestDeps): Hono<ConsoleEnv> {
  const { passwords, ...rest } = deps;
  const app = new Hono<ConsoleEnv>();
  app.route(
    "/",
    idleRoutes({
      auth: headerAuth(),
      keepAwake: new MemoryKeepAwake(),
      signals: (p) => readSignals(deps.docker, p, { skipCpu: true }),
      getPasswords: async () => passwords,
      credentialsFor: async () => ({}),
      usageFor: async () => null,
      ...rest,
    }),
  );
  return app;
}

/** Serves `app` on a unix socket nginx's workers can reach (mode 0666); resolves to its close. */
export async function serveOnSocket(app: Hono<ConsoleEnv>, socketPath: string): Promise<() => Promise<void>> {
  const server = createAdaptorServer({ fetch: app.fetch });
  await new Promise<void>((r) => server.listen(socketPath, () => r()));
  chmodSync(socketPath, 0o666);
  return () => new Promise((r) => server.close(() => r()));
}

/** Stand-in for the console's nginx location: /_thon/ to its unix socket, path unchanged. */
export const consoleLocation = (consoleSocket: string): string =>
  `location /_thon/ {\n    proxy_pass http://unix:${consoleSocket}:;\n    proxy_set_header Host $http_host;\n    proxy_set_header X-Real-IP $remote_addr;\n}\n`;
