// A small Hono app that mounts the console's sign-in the way the console app
// does (security headers, authenticate, the sign-in routes) plus two sample
// routes: a viewer-level read and an organizer-level write. Tests use it
// in-process (app.request) and over a loopback server.
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { OpenAPIHono } from "@hono/zod-openapi";
import { createAuth, securityHeaders, setOrganizerPassword, type AuthOptions, type ConsoleAuth, type ConsoleEnv } from "../../console/auth/index.ts";
import { openStore, type ConsoleStore } from "../../console/store/index.ts";

export const ORGANIZER_PASSWORD = "correct horse battery staple";

export interface SampleApp {
  readonly app: OpenAPIHono<ConsoleEnv>;
  readonly auth: ConsoleAuth;
  readonly store: ConsoleStore;
  readonly dir: string;
  /** What the organizer-level write changed (to show a refused request changed nothing). */
  readonly writes: string[];
  /** Advances the auth clock. */
  advance(ms: number): void;
  /** Stops the auth clock at an instant (advance still moves it). */
  freeze(at: number): void;
  close(): void;
}

export async function sampleApp(options: Partial<Omit<AuthOptions, "store" | "now">> = {}): Promise<SampleApp> {
  const dir = mkdtempSync(join(tmpdir(), "thon-auth-"));
  const store = openStore(dir);
  await setOrganizerPassword(store, ORGANIZER_PASSWORD);
  let offset = 0;
  let frozen: number | undefined;
  const now = () => (frozen ?? Date.now()) + offset;
  const auth = createAuth({ store, publicUrl: "http://127.0.0.1:1", logger: { info() {}, warn() {}, error() {} }, ...options, now });
  const writes: string[] = [];
  const app = new OpenAPIHono<ConsoleEnv>();
  app.use(securityHeaders());
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.use(auth.authenticate);
  app.route("/", auth.routes);
  app.get("/api/v1/sample", auth.require("viewer"), (c) => c.json({ items: writes, you: c.get("principal")?.id }));
  app.post("/api/v1/sample", auth.require("organizer"), async (c) => {
    const body = (await c.req.json()) as { item: string };
    writes.push(body.item);
    auth.audit.record({ actor: c.get("principal")!.id, action: "sample.write", target: body.item, input: body, result: "ok" });
    return c.json({ ok: true }, 201);
  });
  return {
    app,
    auth,
    store,
    dir,
    writes,
    advance: (ms) => void (offset += ms),
    freeze: (at) => void ((frozen = at), (offset = 0)),
    close: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Serves a Hono app on 127.0.0.1 at a free port. */
export async function listen(fetch: (request: Request) => Response | Promise<Response>): Promise<{ url: string; server: ServerType; close(): Promise<void> }> {
  return new Promise((ok) => {
    const server = serve({ fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) => {
      ok({ url: `http://127.0.0.1:${info.port}`, server, close: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}

/** The cookie pair (name=value) from a Set-Cookie answer, for the next request. */
export const cookieFrom = (response: Response, name: string): string | undefined =>
  response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .find((c) => c.startsWith(`${name}=`));
