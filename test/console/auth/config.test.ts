import { describe, expect, it } from "vitest";
import { z } from "zod";
import { resolveSecret, signInSchema } from "../../../console/auth/index.ts";

const problems = (input: unknown) => {
  const r = signInSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${z.core.toDotPath(i.path)}: ${i.message}`);
};

describe("console.signIn config", () => {
  it("defaults to password sign-in with an 8 h sliding session capped at 24 h and secrets from THON_<PROVIDER>_CLIENT_SECRET", () => {
    const c = signInSchema.parse({ providers: { github: { clientId: "Iv1.abc" }, gitlab: { clientId: "g" } }, organizers: ["github:OctoCat", "Ada@Example.org"] });
    expect(c.password).toBe(true);
    expect(c.session).toEqual({ idleMinutes: 480, maxHours: 24 });
    expect(c.providers.github).toMatchObject({ clientSecret: { env: "THON_GITHUB_CLIENT_SECRET" }, authorizationUrl: "https://github.com/login/oauth/authorize" });
    expect(c.providers.gitlab).toMatchObject({ issuer: "https://gitlab.com", clientSecret: { env: "THON_GITLAB_CLIENT_SECRET" } });
    expect(c.organizers).toEqual(["github:octocat", "ada@example.org"]);
  });

  it("refuses a client secret written in plain text, saying where to put it", () => {
    expect(problems({ providers: { github: { clientId: "x", clientSecret: "0123456789abcdef" } }, organizers: ["github:a"] })).toEqual([
      expect.stringMatching(/^providers\.github\.clientSecret: console\.signIn\.providers\.github\.clientSecret must not be written in thon\.yaml; use \{ env: THON_GITHUB_CLIENT_SECRET \} or \{ secret: <config key> \}/),
    ]);
  });

  it("refuses an identity naming a provider that is not configured, and one in both lists", () => {
    expect(problems({ providers: { github: { clientId: "x" } }, organizers: ["github:a", "gitlab:b"], viewers: ["github:a"] })).toEqual([
      'organizers[1]: "gitlab:b" names the provider "gitlab", which console.signIn.providers does not configure; add it there or fix the prefix',
      'viewers[0]: "github:a" is in both organizers and viewers; keep it in one',
    ]);
  });

  it("refuses plain http except to loopback, and a setup where no one can sign in", () => {
    expect(problems({ providers: { oidc: [{ name: "kc", clientId: "c", issuer: "http://idp.example.org/realms/x" }] }, organizers: ["kc:a"] })).toEqual([
      expect.stringMatching(/^providers\.oidc\[0\]\.issuer: .*must be https \(plain http only for a provider on loopback/),
    ]);
    expect(problems({ providers: { oidc: [{ name: "kc", clientId: "c", issuer: "http://127.0.0.1:8080/realms/x" }] }, organizers: ["kc:a"] })).toEqual([]);
    expect(problems({ password: false })).toEqual(["password: with password: false, configure at least one provider, or no one can sign in"]);
    expect(problems({ providers: { github: { clientId: "x" } } })).toEqual([expect.stringMatching(/^organizers: providers are configured but no one is allowed/)]);
    expect(problems({ providers: { oidc: [{ name: "github", clientId: "c", issuer: "https://a.example" }] }, organizers: ["a@b.org"] })).toEqual([
      expect.stringMatching(/^providers\.oidc\[0\]\.name: that name is taken/),
    ]);
  });

  it("reads a client secret from the environment or a stack secret, with a fix when missing", async () => {
    expect(await resolveSecret({ env: "X_SECRET" }, { env: { X_SECRET: "v" } }, "here")).toBe("v");
    expect(await resolveSecret({ secret: "ghSecret" }, { stackSecret: async (k) => (k === "ghSecret" ? "w" : undefined) }, "here")).toBe("w");
    await expect(resolveSecret({ env: "X_SECRET" }, { env: {} }, "console.signIn.providers.github.clientSecret")).rejects.toThrow(
      /^console\.signIn\.providers\.github\.clientSecret: the environment variable X_SECRET .* is not set\. Fix:/,
    );
    await expect(resolveSecret({ secret: "k" }, {}, "p")).rejects.toThrow(/pulumi config set --secret thon:k/);
  });
});

describe("a provider that cannot be used", () => {
  it("answers 503 naming the missing client secret variable, and logs no secret", async () => {
    const { sampleApp } = await import("../../support/consoleAuthApp.ts");
    const lines: string[] = [];
    const s = await sampleApp({
      secrets: { env: {} },
      logger: { info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m, f) => lines.push(m + JSON.stringify(f)) },
      config: { providers: { github: { clientId: "gh" } }, organizers: ["github:octocat"] },
    });
    try {
      const r = await s.app.request("/auth/oidc/github/start");
      expect(r.status).toBe(503);
      const { error } = (await r.json()) as { error: { message: string; fix: string } };
      expect(error.message).toMatch(/sign-in with GitHub is not available: .*THON_GITHUB_CLIENT_SECRET .*is not set/);
      expect(lines.join()).toContain("THON_GITHUB_CLIENT_SECRET");
      expect((await s.app.request("/auth/oidc/nope/start")).status).toBe(404);
    } finally {
      s.close();
    }
  });
});
