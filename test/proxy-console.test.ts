// The console behind the event's nginx: thon.yaml with a `console:` section
// gives the HTTPS entry a /_thon/ location proxying to the console's unix
// socket. A real nginx (`nginx -t`, then serving) and the real console
// (console/main.ts, real sign-in) on that socket; requests go through
// https://127.0.0.1:<port>/_thon/… as a browser's would.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseThonFile } from "../infra/config/load.ts";
import { toEvent } from "../infra/config/event.ts";
import { NAME_PATTERN } from "../infra/config/names.ts";
import { nginxLayout, renderServer } from "../infra/render/nginx.ts";
import { openConsole, type OpenConsole } from "../console/main.ts";
import { parseListen, serveApp, type RunningConsole } from "../console/server.ts";
import { freePort, nginxBinary, proxyYaml, startNginx, type TestNginx } from "./support/nginx.ts";
import { ApplierStandIn, DockerStandIn, makeProject, type Fixture } from "./support/consoleFixture.ts";

const PASSWORD = "behind nginx organizer passphrase";

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function https(port: number, method: string, path: string, ca: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: "127.0.0.1", port, method, path, ca, servername: "localhost", agent: false, timeout: 5_000, headers: { ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const yamlFor = (root: string, https: number, http: number, nginx: string, withConsole: boolean) =>
  [
    "event: { name: ctest, host: localhost }",
    "groups:",
    "  alpha:",
    "    users: [alice]",
    "tls:",
    "  mode: provided",
    `  certFile: ${root}/tls/server.crt`,
    `  keyFile: ${root}/tls/server.key`,
    proxyYaml(root, { https, http, nginx }),
    ...(withConsole ? ["console:", "  changes: apply"] : []),
    "",
  ].join("\n");

describe("the console at /_thon/ on the event's HTTPS entry", () => {
  let root: string;
  let fx: Fixture;
  let nginx: TestNginx | undefined;
  let c: OpenConsole | undefined;
  let running: RunningConsole | undefined;
  let port: number;
  let ca: string;
  let serverText: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "thon-proxy-console-"));
    mkdirSync(join(root, "tls"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", join(root, "tls/server.key"), "-out", join(root, "tls/server.crt")], { stdio: "ignore" });
    ca = execFileSync("cat", [join(root, "tls/server.crt")], { encoding: "utf8" });
    port = await freePort();
    const httpPort = await freePort();
    const prefix = join(root, "nginx");
    mkdirSync(prefix);
    const command = `${nginxBinary()} -p ${prefix}/ -c ${prefix}/nginx.conf`;
    const yaml = yamlFor(root, port, httpPort, command, true);
    // The project the console opens names the same event file.
    fx = makeProject(yaml);
    const event = toEvent(parseThonFile(yaml));
    const layout = nginxLayout(event);
    serverText = renderServer(event);
    for (const d of [dirname(layout.serverFile), layout.participantsDir, layout.upstreamsDir, dirname(layout.accessLog)]) mkdirSync(d, { recursive: true });
    writeFileSync(layout.serverFile, serverText);
    c = await openConsole({ projectDir: fx.dir, dataDir: join(fx.dir, ".thon-console"), stack: "dev", env: { THON_CONSOLE_PASSWORD: PASSWORD }, docker: new DockerStandIn(), applier: new ApplierStandIn() });
    running = await serveApp(parseListen(`unix:${layout.consoleSocket}`), c.app);
    // nginx's workers run as root here (the test runs as root), so the 0660 socket is theirs to open.
    nginx = await startNginx(prefix, { includeGlob: `${dirname(layout.serverFile)}/*.conf`, user: "root" }, port);
  }, 60_000);

  afterAll(async () => {
    await nginx?.stop();
    await running?.close();
    c?.close();
    fx?.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  it("the rendered server passes nginx -t, and has the console location only with a console: section", () => {
    const t = spawnSync(nginxBinary(), ["-t", "-p", `${join(root, "nginx")}/`, "-c", join(root, "nginx", "nginx.conf")], { encoding: "utf8" });
    expect(t.status, t.stderr).toBe(0);
    expect(serverText).toContain("location /_thon/ {");
    expect(serverText).toMatch(/proxy_pass http:\/\/unix:[^;]+\/sockets\/_thon\/console\.sock:\/;/);
    expect(serverText).toContain("proxy_buffering off;");
    expect(serverText).toContain("proxy_set_header X-Real-IP $remote_addr;");
    expect(serverText).toContain("proxy_set_header X-Forwarded-Proto $scheme;");
    const without = renderServer(toEvent(parseThonFile(yamlFor(root, 1443, 1080, "nginx", false))));
    expect(without).not.toContain("_thon");
  });

  it("/_thon/healthz reaches the console on its unix socket; /_thon/api needs sign-in", async () => {
    const h = await https(port, "GET", "/_thon/healthz", ca);
    expect(h.status).toBe(200);
    expect(JSON.parse(h.body)).toEqual({ status: "ok" });
    expect((await https(port, "GET", "/_thon/api/v1/participants", ca)).status).toBe(401);
    const bare = await https(port, "GET", "/_thon", ca);
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe("/_thon/");
  });

  it("sign-in through nginx: the cookie is scoped to /_thon/, and the audit names the client nginx saw", async () => {
    const wrong = await https(port, "POST", "/_thon/api/v1/session", ca, { password: "not the password" });
    expect(wrong.status).toBe(401);
    const r = await https(port, "POST", "/_thon/api/v1/session", ca, { password: PASSWORD });
    expect(r.status).toBe(200);
    const cookie = (r.headers["set-cookie"] as string[]).find((x) => x.startsWith("thon_console_session="))!;
    expect(cookie).toContain("Path=/_thon/");
    expect(cookie).toContain("Secure");
    const refused = c!.auth.audit.list({ action: "session.signIn", result: "error" }).entries;
    expect(refused.map((e) => e.actor)).toContain("anonymous@127.0.0.1");
  });

  it("the API docs page's files resolve under /_thon/ (relative URLs), for a signed-in browser", async () => {
    const signIn = await https(port, "POST", "/_thon/api/v1/session", ca, { password: PASSWORD });
    const cookie = (signIn.headers["set-cookie"] as string[]).find((x) => x.startsWith("thon_console_session="))!.split(";")[0]!;
    const get = (path: string) => https(port, "GET", path, ca, undefined, { Cookie: cookie });
    const page = await get("/_thon/api/docs");
    expect(page.status).toBe(200);
    const refs = [...page.body.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => new URL(m[1]!, "https://h/_thon/api/docs").pathname);
    expect(refs.length).toBeGreaterThan(2);
    for (const ref of refs) expect((await get(ref)).status, ref).toBe(200);
    expect((await get("/_thon/api/openapi.json")).status).toBe(200);
  });

  it("no participant can be named _thon: the name pattern refuses a leading underscore", () => {
    expect(NAME_PATTERN.test("_thon")).toBe(false);
    expect(() => parseThonFile("event: { name: e, host: localhost }\ngroups:\n  alpha:\n    users: [_thon]\n")).toThrow(/groups\.alpha\.users/);
  });
});
