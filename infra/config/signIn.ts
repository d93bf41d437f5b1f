// The `console.signIn` section of thon.yaml (under `console:` in schema.ts):
// which sign-in methods the console offers and who may use them. Client
// secrets are never written here: a provider names an environment variable
// or a Pulumi stack secret. console/auth reads it; infra never imports console.
import { z } from "zod";

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "an environment variable name is letters, digits and '_'" });

/** Where a client secret comes from: `{ env: NAME }` or `{ secret: configKey }` (pulumi config set --secret thon:<configKey> …). */
const secretRef = (where: string, defaultEnv: string) =>
  z
    .union([z.object({ env: envName.describe("The environment variable holding the client secret.") }).strict(), z.object({ secret: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/).describe("A Pulumi stack secret: pulumi config set --secret thon:<key> …") }).strict()], {
      error: `${where}.clientSecret must not be written in thon.yaml; use { env: ${defaultEnv} } or { secret: <config key> } (pulumi config set --secret thon:<config key> …)`,
    })
    .default({ env: defaultEnv })
    .describe(`Where the client secret comes from: { env: NAME } or { secret: <config key> }; default the environment variable ${defaultEnv}.`);

export type SecretRef = { env: string } | { secret: string };

const clientId = (where: string) => z.string({ error: `${where}.clientId is the OAuth app's client id (a string)` }).min(1).describe("The OAuth app's client id.");

const httpsUrl = (what: string) =>
  z.url({ error: `${what} must be a URL` }).refine((u) => isAllowedUrl(u), {
    error: `${what} must be https (plain http only for a provider on loopback: 127.0.0.1, ::1 or localhost)`,
  });

/** https, or http to a loopback address (a provider on the same machine). */
export function isAllowedUrl(url: string): boolean {
  const u = new URL(url);
  return u.protocol === "https:" || (u.protocol === "http:" && isLoopbackHost(u.hostname));
}
export const isLoopbackHost = (host: string) => host === "localhost" || host === "[::1]" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);

const P = "console.signIn.providers";

export const githubSchema = z
  .object({
    clientId: clientId(`${P}.github`),
    clientSecret: secretRef(`${P}.github`, "THON_GITHUB_CLIENT_SECRET"),
    /** GitHub Enterprise Server, or any server with GitHub's three endpoints, given by hand (GitHub has no discovery). */
    authorizationUrl: httpsUrl(`${P}.github.authorizationUrl`).default("https://github.com/login/oauth/authorize").describe("GitHub's authorize endpoint (GitHub Enterprise Server: its own)."),
    tokenUrl: httpsUrl(`${P}.github.tokenUrl`).default("https://github.com/login/oauth/access_token").describe("GitHub's token endpoint."),
    apiUrl: httpsUrl(`${P}.github.apiUrl`).default("https://api.github.com").describe("GitHub's REST API (for /user)."),
  })
  .strict();

const oidcFields = (where: string, defaultEnv: string, issuer?: string) =>
  z
    .object({
      clientId: clientId(where),
      clientSecret: secretRef(where, defaultEnv),
      issuer: (issuer ? httpsUrl(`${where}.issuer`).default(issuer) : httpsUrl(`${where}.issuer`)).describe("The OpenID issuer (the URL before /.well-known/openid-configuration)."),
      /** Extra scopes beyond "openid email profile". */
      scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).default([]).describe("Extra scopes beyond openid email profile."),
    })
    .strict();

const providerName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}$/, { error: `${P}.oidc[].name is lower-case letters, digits and '-' (it becomes the callback path and the identity prefix)` })
  .refine((n) => !["github", "gitlab", "linkedin", "password", "token"].includes(n), { error: "that name is taken by a built-in provider; choose another" });

export const providersSchema = z
  .object({
    github: githubSchema.optional().describe("Sign-in with GitHub (OAuth2 with PKCE; endpoints configured, no discovery)."),
    gitlab: oidcFields(`${P}.gitlab`, "THON_GITLAB_CLIENT_SECRET", "https://gitlab.com").optional().describe("Sign-in with GitLab (OpenID Connect)."),
    linkedin: oidcFields(`${P}.linkedin`, "THON_LINKEDIN_CLIENT_SECRET", "https://www.linkedin.com/oauth").optional().describe("Sign-in with LinkedIn (OpenID Connect)."),
    /** Any other OpenID provider (Keycloak, Authentik, Google, Microsoft Entra…), found by discovery. */
    oidc: z
      .array(
        oidcFields(`${P}.oidc[]`, "THON_OIDC_CLIENT_SECRET", undefined).extend({
          name: providerName,
          /** What the sign-in button says. */
          label: z.string().min(1).max(40).optional(),
        }),
      )
      .default([])
      .describe("Any other OpenID providers, found by discovery: name, label, issuer, clientId, clientSecret, scopes."),
  })
  .strict();

/** `github:octocat`, `gitlab:alice`, `<oidc name>:<username>` or an email address (matched only when the provider says it is verified). */
const identity = z
  .string()
  .regex(/^(?:[a-z][a-z0-9-]*:[^\s:]+|[^\s@]+@[^\s@]+\.[^\s@]+)$/, {
    error: 'an identity is "<provider>:<username>" (github:octocat, gitlab:alice) or an email address',
  })
  .transform((s) => s.toLowerCase());

export const signInSchema = z
  .object({
    /** Sign-in with the organizer password (thon console passwd). */
    password: z.boolean().default(true).describe("Offer sign-in with the organizer password (thon console passwd)."),
    providers: providersSchema.default({ oidc: [] }).describe("Sign-in providers, each with PKCE (S256)."),
    /** Identities that sign in as organizers (may operate). */
    organizers: z.array(identity).default([]).describe("Identities that sign in as organizers: github:<login>, <provider>:<username> or a verified email."),
    /** Identities that sign in read-only (mentors, helpers). */
    viewers: z.array(identity).default([]).describe("Identities that sign in read-only (mentors, helpers)."),
    session: z
      .object({
        /** A session unused this long ends. */
        idleMinutes: z.number().int().min(5).max(7 * 24 * 60).default(8 * 60).describe("A session unused this long ends."),
        /** A session ends this long after sign-in, used or not. */
        maxHours: z.number().int().min(1).max(30 * 24).default(24).describe("A session ends this long after sign-in, used or not."),
      })
      .strict()
      .default({ idleMinutes: 8 * 60, maxHours: 24 })
      .describe("Session expiry: sliding, with a cap."),
    rateLimit: z
      .object({
        /** Failed sign-ins per client address per window. */
        perClient: z.number().int().positive().default(10).describe("Failed sign-ins per client address per window."),
        /** Sign-in attempts of all clients together per window. */
        global: z.number().int().positive().default(60).describe("Sign-in attempts of all clients together per window."),
        windowSeconds: z.number().int().positive().default(300).describe("The rate limits' window."),
      })
      .strict()
      .default({ perClient: 10, global: 60, windowSeconds: 300 })
      .describe("Sign-in rate limits (past them: 429 with Retry-After)."),
  })
  .strict()
  .superRefine((v, ctx) => {
    const configured = new Set<string>([
      ...(v.providers.github ? ["github"] : []),
      ...(v.providers.gitlab ? ["gitlab"] : []),
      ...(v.providers.linkedin ? ["linkedin"] : []),
      ...v.providers.oidc.map((o) => o.name),
    ]);
    const seen = new Map<string, string>();
    for (const list of ["organizers", "viewers"] as const) {
      v[list].forEach((id, i) => {
        const prefix = id.includes("@") && !/^[a-z][a-z0-9-]*:/.test(id) ? undefined : id.slice(0, id.indexOf(":"));
        if (prefix !== undefined && !configured.has(prefix)) {
          ctx.addIssue({
            code: "custom",
            path: [list, i],
            message: `"${id}" names the provider "${prefix}", which console.signIn.providers does not configure; add it there or fix the prefix`,
          });
        }
        const other = seen.get(id);
        if (other && other !== list) ctx.addIssue({ code: "custom", path: [list, i], message: `"${id}" is in both organizers and viewers; keep it in one` });
        seen.set(id, list);
      });
    }
    if (!v.password && configured.size === 0) {
      ctx.addIssue({ code: "custom", path: ["password"], message: "with password: false, configure at least one provider, or no one can sign in" });
    }
    if (configured.size > 0 && v.organizers.length === 0) {
      ctx.addIssue({ code: "custom", path: ["organizers"], message: "providers are configured but no one is allowed; list organizer identities such as github:octocat" });
    }
    const names = v.providers.oidc.map((o) => o.name);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) ctx.addIssue({ code: "custom", path: ["providers", "oidc", i, "name"], message: `provider name "${n}" is used twice` });
    });
  });

export type SignInConfig = z.output<typeof signInSchema>;
export type SignInInput = z.input<typeof signInSchema>;

/** Reads a client secret where the config says it is. `stackSecret` reads a Pulumi stack secret (thon:<key>); the console wires it to the Automation API. */
export async function resolveSecret(
  ref: SecretRef,
  sources: { env?: NodeJS.ProcessEnv; stackSecret?: (key: string) => Promise<string | undefined> },
  where: string,
): Promise<string> {
  if ("env" in ref) {
    const value = (sources.env ?? process.env)[ref.env];
    if (!value) throw new Error(`${where}: the environment variable ${ref.env} holding the client secret is not set. Fix: set it for the console (e.g. in its systemd unit's EnvironmentFile).`);
    return value;
  }
  const value = sources.stackSecret ? await sources.stackSecret(ref.secret) : undefined;
  if (!value) throw new Error(`${where}: the stack secret thon:${ref.secret} is not set. Fix: pulumi config set --secret thon:${ref.secret} <client secret>.`);
  return value;
}
