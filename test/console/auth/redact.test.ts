// Passwords and keys appear nowhere: not in the audit log, not in log lines,
// not in error answers.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { REDACTED, Redactor, redactingLogger } from "../../../console/auth/index.ts";
import { ORGANIZER_PASSWORD, sampleApp, type SampleApp } from "../../support/consoleAuthApp.ts";

describe("redaction", () => {
  const r = new Redactor();
  r.add("s3cret-client-value");

  it("hides secret fields by name, at any depth, and leaves the rest", () => {
    expect(
      r.value({
        name: "alice",
        password: "hunter2hunter2",
        nested: [{ clientSecret: "abc", api_key: "k", adminKey: "x", promptTokens: 12, tokenScope: "read", csrfToken: "t" }],
      }),
    ).toEqual({ name: "alice", password: REDACTED, nested: [{ clientSecret: REDACTED, api_key: REDACTED, adminKey: REDACTED, promptTokens: 12, tokenScope: "read", csrfToken: REDACTED }] });
  });

  it("hides known secrets, our tokens, bearer headers, cookies and key=value secrets in free text", () => {
    const token = "thon_" + "A1b2".repeat(11);
    const text = r.text(
      `token ${token} failed; Authorization: Bearer abcdefghijkl; Cookie: thon_console_session=xyz123; password=hunter2hunter2 client_secret: s3cret-client-value`,
    );
    for (const secret of [token, "abcdefghijkl", "xyz123", "hunter2hunter2", "s3cret-client-value"]) expect(text).not.toContain(secret);
    expect(text).toContain("password=[redacted]");
  });

  it("keeps identities that merely look like key:value (token:<id>, github:octocat)", () => {
    expect(r.text("token:ab12cd34ef56 revoked token:0123456789ab")).toBe("token:ab12cd34ef56 revoked token:0123456789ab");
    expect(r.text('{"token":"abc123def"} secret: xyz')).toBe('{"token":"[redacted]"} secret: [redacted]');
  });

  it("writes redacted log lines", () => {
    const lines: string[] = [];
    const log = redactingLogger(r, (l) => lines.push(l));
    log.warn("provider said s3cret-client-value is wrong", { password: "hunter2hunter2", client: "127.0.0.1" });
    expect(lines.join()).not.toMatch(/s3cret-client-value|hunter2hunter2/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "warn", client: "127.0.0.1", password: REDACTED });
  });
});

describe("no secret reaches the audit log, the logs or an answer", () => {
  let s: SampleApp;
  const lines: string[] = [];
  beforeEach(async () => {
    const redactor = new Redactor();
    s = await sampleApp({ redactor, logger: redactingLogger(redactor, (l) => lines.push(l)), config: { rateLimit: { perClient: 1, global: 100, windowSeconds: 60 } } });
  });
  afterEach(() => s.close());

  it("after wrong and right sign-ins, a rate-limited one, a token creation and an operation given a password", async () => {
    const marker = "Wrong-Password-Marker-7731";
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      s.app.request(path, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });
    const answers: string[] = [];
    answers.push(await (await post("/api/v1/session", { password: marker })).text());
    answers.push(await (await post("/api/v1/session", { password: marker })).text()); // 429, logged
    s.advance(61_000);
    const ok = await post("/api/v1/session", { password: ORGANIZER_PASSWORD });
    const cookie = ok.headers.getSetCookie()[0]!.split(";")[0]!;
    const { csrfToken } = (await ok.json()) as { csrfToken: string };
    const created = await post("/api/v1/tokens", { name: "script", scope: "operate" }, { Cookie: cookie, "X-CSRF-Token": csrfToken });
    const { token } = (await created.json()) as { token: string };
    // A caller that puts a password or token into an audited operation's input.
    answers.push(await (await post("/api/v1/sample", { item: `note with ${token}`, password: marker }, { Authorization: `Bearer ${token}` })).text());
    s.auth.audit.record({ actor: "password", action: "sample.fail", result: "error", detail: `upstream said: Authorization: Bearer ${token}` });

    const audit = JSON.stringify(s.store.db.prepare("SELECT * FROM audit_log").all());
    expect(audit).toContain("session.signIn");
    expect(audit).toContain("tokens.create");
    expect(lines.join("\n")).toContain("rate limited");
    for (const secret of [marker, ORGANIZER_PASSWORD, token, csrfToken]) {
      expect(audit, secret).not.toContain(secret);
      expect(lines.join("\n"), secret).not.toContain(secret);
      expect(answers.join("\n"), secret).not.toContain(secret);
    }
  });
});
