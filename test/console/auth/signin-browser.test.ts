// OAuth2/OIDC sign-in in headless Chromium: against a real OpenID provider on
// loopback (oidc-provider, PKCE required) and against the stand-in of
// GitHub's three OAuth endpoints. The browser only ever talks to loopback.
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../../../console/auth/index.ts";
import { listen, sampleApp, type SampleApp } from "../../support/consoleAuthApp.ts";
import { startGitHubStandIn, type GitHubStandIn } from "../../support/githubOAuthStandIn.ts";
import { startOidcProvider, type TestIssuer } from "../../support/oidcProvider.ts";
import { CHROMIUM_PATH } from "../../support/browser.ts";

const IDP_SECRET = "idp-client-secret-0123456789";
const GH_SECRET = "github-client-secret-0123456789";

let app: SampleApp;
let consoleUrl: string;
let closeConsole: () => Promise<void>;
let idp: TestIssuer;
let github: GitHubStandIn;
let browser: Browser;

beforeAll(async () => {
  let handler: (r: Request) => Response | Promise<Response> = () => new Response("starting", { status: 503 });
  const server = await listen((r) => handler(r));
  consoleUrl = server.url;
  closeConsole = server.close;
  idp = await startOidcProvider({ id: "thon-console", secret: IDP_SECRET, redirectUri: `${consoleUrl}/auth/oidc/idp/callback` });
  github = await startGitHubStandIn({ id: "gh-client", secret: GH_SECRET });
  app = await sampleApp({
    publicUrl: consoleUrl,
    secrets: { env: { TEST_IDP_SECRET: IDP_SECRET, TEST_GH_SECRET: GH_SECRET } },
    config: {
      providers: {
        github: {
          clientId: "gh-client",
          clientSecret: { env: "TEST_GH_SECRET" },
          authorizationUrl: `${github.url}/login/oauth/authorize`,
          tokenUrl: `${github.url}/login/oauth/access_token`,
          apiUrl: github.url,
        },
        oidc: [{ name: "idp", label: "Test IdP", issuer: idp.issuer, clientId: "thon-console", clientSecret: { env: "TEST_IDP_SECRET" } }],
      },
      organizers: ["github:octocat", "idp:ada"],
      viewers: ["grace@example.org"],
    },
  });
  handler = app.app.fetch;
  // launch() gives every run a fresh temporary profile (user-data-dir).
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    timeout: 60_000,
  });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await Promise.all([closeConsole?.(), idp?.close(), github?.close()]);
  app?.close();
});

/** A fresh context (no cookies) whose requests to anything but loopback are dropped. */
async function freshPage(): Promise<{ context: BrowserContext; page: Page; requests: URL[] }> {
  const context = await browser.newContext();
  const requests: URL[] = [];
  // Routes see only the first hop of a redirect chain; "request" sees every hop.
  context.on("request", (request) => void requests.push(new URL(request.url())));
  await context.route("**/*", (route) => (new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort()));
  return { context, page: await context.newPage(), requests };
}

async function signInAtIdp(page: Page, login: string, beforeConsent?: () => void) {
  await page.goto(`${consoleUrl}/auth/oidc/idp/start`);
  await page.locator("input[name=login]").fill(login);
  await page.locator("input[name=password]").fill("anything");
  await page.locator("button[type=submit]").click();
  const consent = page.getByRole("button", { name: "Continue" });
  await consent.waitFor();
  beforeConsent?.();
  await consent.click();
}

const whoAmI = async (page: Page) => {
  const answer = await page.goto(`${consoleUrl}/api/v1/session`);
  return { status: answer!.status(), body: (await answer!.json()) as { principal?: { id: string; role: string; via: string } } };
};

describe("OIDC sign-in in Chromium", () => {
  it("signs an allowlisted organizer in through a real OpenID provider, with PKCE S256, state and nonce", async () => {
    const { context, page, requests } = await freshPage();
    await signInAtIdp(page, "ada");
    await page.waitForURL(`${consoleUrl}/`);
    const authorize = requests.find((u) => u.origin === idp.issuer && u.pathname === "/auth")!;
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorize.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get("state")).toBeTruthy();
    expect(authorize.searchParams.get("nonce")).toBeTruthy();
    expect(authorize.searchParams.get("redirect_uri")).toBe(`${consoleUrl}/auth/oidc/idp/callback`);
    const cookie = (await context.cookies()).find((c) => c.name === SESSION_COOKIE)!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: "Lax" });
    expect(await whoAmI(page)).toEqual({ status: 200, body: expect.objectContaining({ principal: { id: "idp:ada", role: "organizer", via: "oidc" } }) });
    // The flow is spent: replaying the same callback does not sign in again.
    const callback = requests.find((u) => u.pathname === "/auth/oidc/idp/callback")!;
    expect((await page.goto(callback.href))!.status()).toBe(400);
    await context.close();
  });

  it("signs a viewer in by a verified email from the provider", async () => {
    const { context, page } = await freshPage();
    await signInAtIdp(page, "grace");
    await page.waitForURL(`${consoleUrl}/`);
    expect((await whoAmI(page)).body.principal).toEqual({ id: "grace@example.org", role: "viewer", via: "oidc" });
    await context.close();
  });

  it("refuses someone not on the allowlist (403) and opens no session", async () => {
    const { context, page } = await freshPage();
    await signInAtIdp(page, "mallory");
    await page.waitForURL(/\/auth\/oidc\/idp\/callback/);
    expect(await page.textContent("body")).toContain("idp:mallory is not allowed into the console");
    expect((await context.cookies()).find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
    expect((await whoAmI(page)).status).toBe(401);
    await context.close();
  });

  it("refuses an ID token whose nonce is not the one this sign-in sent", async () => {
    const { context, page } = await freshPage();
    // While the user is at the provider, the nonce the console expects is
    // swapped: the ID token that comes back was minted for another sign-in.
    await signInAtIdp(page, "ada", () => app.store.db.prepare("UPDATE auth_flows SET nonce = 'not-the-nonce-that-was-sent'").run());
    await page.waitForURL(/\/auth\/oidc\/idp\/callback/);
    const body = JSON.parse((await page.textContent("body"))!) as { error: { message: string } };
    expect(body.error.message).toMatch(/^sign-in with Test IdP failed: .*nonce/);
    expect((await whoAmI(page)).status).toBe(401);
    await context.close();
  });

  it("refuses a callback whose state this browser never started (login CSRF)", async () => {
    const { context, page } = await freshPage();
    // Someone else's genuine flow: its state is real but bound to their browser.
    const other = await fetch(`${consoleUrl}/auth/oidc/idp/start`, { redirect: "manual" });
    const state = new URL(other.headers.get("location")!).searchParams.get("state")!;
    const forged = await page.goto(`${consoleUrl}/auth/oidc/idp/callback?code=stolen&state=${state}`);
    expect(forged!.status()).toBe(400);
    expect(await page.textContent("body")).toContain("started in another browser");
    const unknown = await page.goto(`${consoleUrl}/auth/oidc/idp/callback?code=x&state=made-up`);
    expect(unknown!.status()).toBe(400);
    await context.close();
  });

  it("the provider itself refuses an authorization request without PKCE", async () => {
    const url = new URL(`${idp.issuer}/auth`);
    url.search = new URLSearchParams({ client_id: "thon-console", response_type: "code", scope: "openid", redirect_uri: `${consoleUrl}/auth/oidc/idp/callback`, state: "s" }).toString();
    const answer = await fetch(url, { redirect: "manual" });
    const back = new URL(answer.headers.get("location")!);
    expect(back.searchParams.get("error")).toBe("invalid_request");
    expect(back.searchParams.get("error_description")).toMatch(/PKCE/);
  });
});

describe("GitHub sign-in in Chromium (against the GitHub OAuth stand-in)", () => {
  it("signs github:octocat in with PKCE S256 and reads the identity from /user", async () => {
    github.login = "OctoCat";
    const { context, page } = await freshPage();
    await page.goto(`${consoleUrl}/auth/oidc/github/start`);
    await page.waitForURL(`${consoleUrl}/`);
    expect((await whoAmI(page)).body.principal).toEqual({ id: "github:octocat", role: "organizer", via: "oidc" });
    const authorize = github.seen.find((s) => s.path === "/login/oauth/authorize")!;
    expect(authorize.params).toMatchObject({ client_id: "gh-client", code_challenge_method: "S256", scope: "read:user" });
    const exchange = github.seen.find((s) => s.path === "/login/oauth/access_token")!;
    expect(exchange.params.code_verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(exchange.params.client_secret).toBe("(given)");
    expect(github.seen.some((s) => s.path === "/user")).toBe(true);
    await context.close();
  });

  it("refuses a GitHub user not on the allowlist", async () => {
    github.login = "mallory";
    const { context, page } = await freshPage();
    const answer = await page.goto(`${consoleUrl}/auth/oidc/github/start`);
    expect(answer!.status()).toBe(403);
    expect(await page.textContent("body")).toContain("github:mallory is not allowed");
    await context.close();
  });

  it("records every sign-in in the audit log without secrets", () => {
    const entries = app.auth.audit.list({ action: "session.signIn" }).entries;
    expect(entries.filter((e) => e.result === "ok").map((e) => e.actor).sort()).toEqual(["github:octocat", "grace@example.org", "idp:ada"]);
    const text = JSON.stringify(entries);
    expect(text).not.toContain(IDP_SECRET);
    expect(text).not.toContain(GH_SECRET);
  });
});
