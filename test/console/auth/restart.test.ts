// The console's data survives a restart: a session, an API token and the
// audit log written by one process are there for the next.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OpenAPIHono } from "@hono/zod-openapi";
import { afterAll, describe, expect, it } from "vitest";
import { createAuth, setOrganizerPassword, type ConsoleEnv } from "../../../console/auth/index.ts";
import { openStore } from "../../../console/store/index.ts";

const dir = mkdtempSync(join(tmpdir(), "thon-restart-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const start = () => {
  const store = openStore(dir);
  const auth = createAuth({ store, publicUrl: "http://127.0.0.1:1", logger: { info() {}, warn() {}, error() {} } });
  const app = new OpenAPIHono<ConsoleEnv>();
  app.use(auth.authenticate);
  app.route("/", auth.routes);
  app.get("/api/v1/sample", auth.require("viewer"), (c) => c.json({ you: c.get("principal")!.id }));
  return { store, auth, app };
};

describe("after a console restart", () => {
  it("keeps sessions, API tokens and the audit log", async () => {
    const first = start();
    await setOrganizerPassword(first.store, "a password for restarts");
    const signIn = await first.app.request("/api/v1/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ password: "a password for restarts" }) });
    const cookie = signIn.headers.getSetCookie()[0]!.split(";")[0]!;
    const { token } = first.auth.tokens.create({ name: "cron", scope: "read", createdBy: "password" });
    first.store.close();

    const second = start();
    expect(await (await second.app.request("/api/v1/sample", { headers: { Cookie: cookie } })).json()).toEqual({ you: "password" });
    expect((await second.app.request("/api/v1/sample", { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    expect(second.auth.audit.list({ action: "session.signIn", result: "ok" }).entries).toHaveLength(1);
    second.store.close();
  });
});
