// A real OpenID provider on loopback (npm oidc-provider, the certified
// implementation), configured to require PKCE for every client. Its dev
// interactions page accepts any login name with any password, then asks
// for consent: the test drives both in Chromium.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

export interface TestIssuer {
  readonly issuer: string;
  close(): Promise<void>;
}

export async function startOidcProvider(client: { id: string; secret: string; redirectUri: string }): Promise<TestIssuer> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => r.end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.id,
        client_secret: client.secret,
        redirect_uris: [client.redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    // PKCE for every request, confidential clients included.
    pkce: { required: () => true },
    findAccount: async (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: async () => ({ sub: `sub-${id}`, preferred_username: id, email: `${id}@example.org`, email_verified: true }),
    }),
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["preferred_username"] },
    cookies: { keys: ["thon-test-cookie-key"] },
  });
  handler = provider.callback();
  return { issuer, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}
