// A stand-in for GitHub's three OAuth endpoints, after GitHub's documented
// contract ("Authorizing OAuth apps", "Get the authenticated user"):
//   GET  /login/oauth/authorize     client_id, redirect_uri, scope, state,
//                                   code_challenge, code_challenge_method=S256
//                                   → 302 redirect_uri?code=…&state=…
//   POST /login/oauth/access_token  client_id, client_secret, code,
//                                   redirect_uri, code_verifier
//                                   → {access_token, token_type: "bearer", scope}
//                                   (JSON with Accept: application/json; errors
//                                   are HTTP 200 with {error, error_description})
//   GET  /user (API)                Authorization: Bearer → {login, id, …}
// It checks PKCE (S256) as GitHub does since 2025-07, and the client secret.
import { createHash, randomBytes } from "node:crypto";
import { Hono } from "hono";
import { listen } from "./consoleAuthApp.ts";

export interface GitHubStandIn {
  readonly url: string;
  /** Who the "user" at GitHub is when the authorize page is visited. */
  login: string;
  /** Requests seen, for assertions (paths and selected parameters). */
  readonly seen: { path: string; params: Record<string, string> }[];
  close(): Promise<void>;
}

export async function startGitHubStandIn(client: { id: string; secret: string }): Promise<GitHubStandIn> {
  const codes = new Map<string, { redirectUri: string; challenge: string; login: string }>();
  const tokens = new Map<string, string>();
  const app = new Hono();
  const state: { login: string; seen: GitHubStandIn["seen"] } = { login: "octocat", seen: [] };

  app.get("/login/oauth/authorize", (c) => {
    const q = c.req.query();
    state.seen.push({ path: "/login/oauth/authorize", params: q });
    if (q.client_id !== client.id) return c.text("The client_id is not valid", 404);
    if (q.code_challenge_method !== "S256" || !q.code_challenge) return c.text("PKCE S256 required by this stand-in", 400);
    const code = randomBytes(10).toString("hex");
    codes.set(code, { redirectUri: q.redirect_uri!, challenge: q.code_challenge, login: state.login });
    const back = new URL(q.redirect_uri!);
    back.searchParams.set("code", code);
    if (q.state) back.searchParams.set("state", q.state);
    return c.redirect(back.href, 302);
  });

  app.post("/login/oauth/access_token", async (c) => {
    const form = Object.fromEntries(new URLSearchParams(await c.req.text())) as Record<string, string>;
    // GitHub also accepts HTTP Basic client authentication.
    const basic = c.req.header("Authorization")?.match(/^Basic (.+)$/)?.[1];
    if (basic) {
      const [id, secret] = Buffer.from(basic, "base64").toString().split(":").map(decodeURIComponent);
      form.client_id ??= id!;
      form.client_secret ??= secret!;
    }
    state.seen.push({ path: "/login/oauth/access_token", params: { ...form, client_secret: form.client_secret ? "(given)" : "" } });
    const grant = codes.get(form.code ?? "");
    codes.delete(form.code ?? "");
    const fail = (error: string) => c.json({ error, error_description: error }, 200);
    if (form.client_id !== client.id || form.client_secret !== client.secret) return fail("incorrect_client_credentials");
    if (!grant || grant.redirectUri !== form.redirect_uri) return fail("bad_verification_code");
    const challenge = createHash("sha256").update(form.code_verifier ?? "").digest("base64url");
    if (challenge !== grant.challenge) return fail("bad_verification_code");
    const token = "gho_" + randomBytes(18).toString("hex");
    tokens.set(token, grant.login);
    return c.json({ access_token: token, token_type: "bearer", scope: "read:user" });
  });

  app.get("/user", (c) => {
    const token = c.req.header("Authorization")?.match(/^(?:Bearer|token) (.+)$/)?.[1];
    const login = token && tokens.get(token);
    state.seen.push({ path: "/user", params: {} });
    if (!login) return c.json({ message: "Bad credentials", documentation_url: "https://docs.github.com/rest" }, 401);
    return c.json({ login, id: 1000 + login.length, type: "User", name: login });
  });

  const server = await listen(app.fetch);
  return {
    url: server.url,
    get login() {
      return state.login;
    },
    set login(v: string) {
      state.login = v;
    },
    seen: state.seen,
    close: server.close,
  };
}
