// Sign-in through OAuth2/OIDC providers with openid-client: authorization
// code flow with PKCE (S256), `state` always, `nonce` for OIDC. GitHub is
// OAuth2 only (no discovery, no id_token): its endpoints are configured by
// hand and the identity comes from its /user API. GitLab, LinkedIn and any
// other issuer are found by discovery and identified by the id_token.
import * as client from "openid-client";
import { isLoopbackHost, resolveSecret, type SecretRef, type SignInConfig } from "../../infra/config/signIn.ts";

export interface Identity {
  /** Every name this sign-in may be allowed under, lower-case: "github:octocat", "gitlab:alice", a verified email. */
  readonly names: readonly string[];
}

export interface Provider {
  readonly name: string;
  readonly label: string;
  readonly kind: "github" | "oidc";
  configuration(): Promise<client.Configuration>;
  /** Scopes asked for. */
  readonly scope: string;
  /** Who signed in, from the token answer. */
  identify(configuration: client.Configuration, tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): Promise<Identity>;
}

export interface SecretSources {
  readonly env?: NodeJS.ProcessEnv;
  readonly stackSecret?: (key: string) => Promise<string | undefined>;
}

// http is allowed only to loopback (config.ts refuses it elsewhere): a
// provider on the same machine, or the test's.
const insecureIfLoopback = (url: string) => (isLoopbackHost(new URL(url).hostname) && url.startsWith("http:") ? [client.allowInsecureRequests] : []);

/** The providers the config enables, each resolving its secret and metadata on first use. */
export function providersFrom(config: SignInConfig, sources: SecretSources): Map<string, Provider> {
  const out = new Map<string, Provider>();
  const once = <T>(make: () => Promise<T>) => {
    let p: Promise<T> | undefined;
    // A failure (provider down at start) is not cached: the next sign-in retries.
    return () => (p ??= make().catch((e: unknown) => ((p = undefined), Promise.reject(e))));
  };
  const secretOf = (ref: SecretRef, name: string) => resolveSecret(ref, sources, `console.signIn.providers.${name}.clientSecret`);

  const gh = config.providers.github;
  if (gh) {
    out.set("github", {
      name: "github",
      label: "GitHub",
      kind: "github",
      scope: "read:user",
      configuration: once(async () => {
        const server: client.ServerMetadata = {
          issuer: new URL(gh.authorizationUrl).origin,
          authorization_endpoint: gh.authorizationUrl,
          token_endpoint: gh.tokenUrl,
          code_challenge_methods_supported: ["S256"],
        };
        const configuration = new client.Configuration(server, gh.clientId, await secretOf(gh.clientSecret, "github"));
        for (const f of insecureIfLoopback(gh.tokenUrl)) f(configuration);
        return configuration;
      }),
      identify: async (_configuration, tokens) => {
        const answer = await fetch(new URL("user", gh.apiUrl.endsWith("/") ? gh.apiUrl : gh.apiUrl + "/"), {
          headers: {
            Authorization: `Bearer ${tokens.access_token}`,
            Accept: "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "thon-console",
          },
          signal: AbortSignal.timeout(10_000),
        });
        if (!answer.ok) throw new Error(`GitHub's /user answered HTTP ${answer.status}`);
        const user = (await answer.json()) as { login?: unknown };
        if (typeof user.login !== "string" || !user.login) throw new Error("GitHub's /user answer has no login");
        return { names: [`github:${user.login.toLowerCase()}`] };
      },
    });
  }

  const oidc = (name: string, label: string, p: { clientId: string; clientSecret: SecretRef; issuer: string; scopes: string[] }) => {
    out.set(name, {
      name,
      label,
      kind: "oidc",
      scope: ["openid", "email", "profile", ...p.scopes].join(" "),
      configuration: once(async () =>
        client.discovery(new URL(p.issuer), p.clientId, await secretOf(p.clientSecret, name), undefined, {
          execute: insecureIfLoopback(p.issuer),
          timeout: 10,
        }),
      ),
      identify: async (configuration, tokens) => {
        const idToken = tokens.claims();
        if (!idToken) throw new Error(`${label} returned no id_token`);
        let claims: Record<string, unknown> = idToken;
        // Many issuers put email and username only in userinfo (OIDC Core
        // 5.4: scope-requested claims go there when an access token is issued).
        if (!("email" in idToken) && !("preferred_username" in idToken) && configuration.serverMetadata().userinfo_endpoint) {
          const info = await client.fetchUserInfo(configuration, tokens.access_token, idToken.sub);
          claims = { ...info, ...idToken };
        }
        const names: string[] = [];
        const username = [claims.preferred_username, claims.nickname].find((v): v is string => typeof v === "string" && v.length > 0);
        if (username) names.push(`${name}:${username.toLowerCase()}`);
        names.push(`${name}:${String(claims.sub).toLowerCase()}`);
        // An email counts only when the provider vouches for it.
        if (typeof claims.email === "string" && claims.email_verified === true) names.push(claims.email.toLowerCase());
        return { names };
      },
    });
  };
  if (config.providers.gitlab) oidc("gitlab", "GitLab", config.providers.gitlab);
  if (config.providers.linkedin) oidc("linkedin", "LinkedIn", config.providers.linkedin);
  for (const o of config.providers.oidc) oidc(o.name, o.label ?? o.name, o);
  return out;
}

export interface FlowStart {
  readonly url: URL;
  readonly state: string;
}

/** The authorization URL for a new sign-in; the PKCE verifier and nonce wait in the store under `state`. */
export async function startFlow(
  provider: Provider,
  redirectUri: string,
  save: (flow: { state: string; verifier: string; nonce?: string }) => void,
): Promise<FlowStart> {
  const configuration = await provider.configuration();
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = provider.kind === "oidc" ? client.randomNonce() : undefined;
  save({ state, verifier, ...(nonce ? { nonce } : {}) });
  const params: Record<string, string> = {
    redirect_uri: redirectUri,
    scope: provider.scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    ...(nonce ? { nonce } : {}),
  };
  return { url: client.buildAuthorizationUrl(configuration, params), state };
}

/** Completes a sign-in: checks state (by the caller's lookup), PKCE and nonce, and returns who it is. */
export async function finishFlow(
  provider: Provider,
  callbackUrl: URL,
  flow: { state: string; verifier: string; nonce?: string | null },
): Promise<Identity> {
  const configuration = await provider.configuration();
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      ...(provider.kind === "oidc" ? { expectedNonce: flow.nonce ?? undefined, idTokenExpected: true } : { idTokenExpected: false }),
    });
  } catch (error) {
    // openid-client's message is generic ("unexpected JWT claim value");
    // oauth4webapi's, one `cause` down, names the claim (nonce, iss, aud…)
    // without its values.
    const messages: string[] = [];
    for (let e: unknown = error; e instanceof Error && messages.length < 3; e = e.cause) messages.push(e.message);
    throw new Error(messages.join(": ") || String(error), { cause: error });
  }
  return provider.identify(configuration, tokens);
}
