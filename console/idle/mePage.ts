// The participant's own page (/me) and its sign-in form, server-rendered with
// hono/html (every interpolation escaped). No script and no inline style: the
// console's CSP allows only its own files; the stylesheet is IDLE_CSS.
import { html } from "hono/html";

export const IDLE_CSS = `body{font-family:system-ui,sans-serif;max-width:44em;margin:3em auto;padding:0 1em;line-height:1.45}
code,pre{background:#f3f3f3;padding:.1em .3em;border-radius:3px}pre{padding:.6em;overflow-x:auto}
dt{font-weight:600}dd{margin:0 0 .6em 0}.err{color:#a00}.note{color:#555}form.inline{display:inline}
`;

export interface MeView {
  readonly user: string;
  readonly csrf: string;
  readonly prefix: string;
  /** Where the participant's workbench is (their endpoint path). */
  readonly workbench: string;
  readonly status: string;
  /** e.g. "parks at 14:30 UTC (in 25m) if unused" */
  readonly parkNote?: string;
  readonly canRestart: boolean;
  readonly restartNote?: string;
  readonly usage: { readonly budget: number | null; readonly used: number; readonly window: string } | null;
  readonly apiKey?: string;
  readonly baseUrl?: string;
  readonly caCertUrl?: string;
  readonly message?: string;
}

const head = (prefix: string, title: string) =>
  html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title><link rel="stylesheet" href="${prefix}/idle/idle.css"></head>`;

export function signInPage(prefix: string, error?: string) {
  return html`${head(prefix, "Your sandbox: sign in")}<body>
<h1>Your sandbox</h1>
<p>Sign in with your participant name and your sandbox password (the one code-server asks for).</p>
${error ? html`<p class="err" role="alert">${error}</p>` : ""}
<form method="post" action="${prefix}/me/session">
<p><label>Participant name <input name="user" autocomplete="username" required></label></p>
<p><label>Sandbox password <input type="password" name="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Sign in</button></p>
</form></body></html>`;
}

export function mePage(v: MeView) {
  const used = v.usage ? (v.usage.budget === null ? html`${v.usage.used.toLocaleString("en")} tokens used (${v.usage.window}); no budget set` : html`${v.usage.used.toLocaleString("en")} of ${v.usage.budget.toLocaleString("en")} tokens used (${v.usage.window})`) : html`No usage recorded yet.`;
  return html`${head(v.prefix, `${v.user}: your sandbox`)}<body>
<h1>${v.user}: your sandbox</h1>
${v.message ? html`<p role="status">${v.message}</p>` : ""}
<h2>Status</h2>
<p id="status">${v.status}${v.parkNote ? html` (${v.parkNote})` : ""}</p>
<p><a href="${v.workbench}">Open your workbench</a></p>
${v.canRestart
  ? html`<form method="post" action="${v.prefix}/me/restart" class="inline"><input type="hidden" name="csrf" value="${v.csrf}"><button type="submit">Restart my sandbox</button></form> <span class="note">Restarting stops every process in it; your files are kept.</span>`
  : html`<p class="note">${v.restartNote ?? ""}</p>`}
<h2>LLM tokens</h2>
<p id="usage">${used}</p>
<h2>Your API key</h2>
<dl>
<dt>Base URL</dt><dd><code id="base-url">${v.baseUrl ?? "not available"}</code></dd>
<dt>API key</dt><dd><code id="api-key">${v.apiKey ?? "not available"}</code> <span class="note">Yours only: do not share it.</span></dd>
</dl>
<h2>Trust the event's certificate</h2>
${v.caCertUrl
  ? html`<p>Download <a href="${v.caCertUrl}">the event CA certificate</a> (save it as <code>thon-ca.crt</code>), then import it once:</p>
<ul>
<li><strong>Windows</strong> (Chrome, Edge): double-click the file, Install Certificate, Current User, "Place all certificates in the following store", Trusted Root Certification Authorities.</li>
<li><strong>macOS</strong> (Safari, Chrome): double-click it (login keychain), then in Keychain Access open it, Trust, "Always Trust"; or <code>sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain thon-ca.crt</code>.</li>
<li><strong>Linux</strong>: <code>sudo cp thon-ca.crt /usr/local/share/ca-certificates/ &amp;&amp; sudo update-ca-certificates</code>; for Chrome also <code>certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n thon-event -i thon-ca.crt</code>.</li>
<li><strong>Firefox</strong> (its own store): opening the link offers "Trust this CA to identify websites"; tick it. Or Settings, Privacy &amp; Security, Certificates, View Certificates, Authorities, Import.</li>
</ul>
<p>Then reload your workbench: no warning any more.</p>`
  : html`<p>This event uses a certificate your browser already trusts.</p>`}
<form method="post" action="${v.prefix}/me/signout"><input type="hidden" name="csrf" value="${v.csrf}"><button type="submit">Sign out</button></form>
</body></html>`;
}

/** A short message page (the wake form without JavaScript). */
export function messagePage(prefix: string, title: string, text: string, opts: { refreshTo?: string; back?: string } = {}) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">${opts.refreshTo ? html`<meta http-equiv="refresh" content="2;url=${opts.refreshTo}">` : ""}<title>${title}</title><link rel="stylesheet" href="${prefix}/idle/idle.css"></head><body>
<h1>${title}</h1><p role="status">${text}</p>${opts.back ? html`<p><a href="${opts.back}">Back</a></p>` : ""}</body></html>`;
}
