// The page shell: one stylesheet and two scripts from this console (no CDN,
// no inline script or style: the CSP allows 'self' only), a navigation bar,
// one <dialog> every action's confirmation uses, and light/dark from
// prefers-color-scheme (app.css).
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Principal } from "../auth/types.ts";

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export const NAV = [
  ["/", "Participants"],
  ["/groups", "Groups"],
  ["/event", "Event"],
  ["/llm", "LLM"],
  ["/gateway", "Gateway"],
  ["/activity", "Activity"],
  ["/health", "Health"],
] as const;

export interface ShellOptions {
  readonly title: string;
  readonly active: string;
  readonly principal: Principal | undefined;
  readonly event?: string;
  /** Extra attributes for <body>, e.g. data-live for the pages that subscribe to live status. */
  readonly bodyData?: Record<string, string>;
}

export function shell(o: ShellOptions, content: Html): Html {
  const p = o.principal;
  const data = Object.entries({ role: p?.role ?? "anonymous", ...(o.bodyData ?? {}) })
    .map(([k, v]) => raw(` data-${k.replace(/[^a-z-]/g, "")}="${escapeAttr(v)}"`));
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${o.title}${o.event ? ` · ${o.event}` : ""} · THON console</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/htmx.min.js" defer></script>
<script src="/static/app.js" defer></script>
</head>
<body${data}>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">THON${o.event ? html` <small>${o.event}</small>` : ""}</span>
  ${p
    ? html`<nav aria-label="Pages"><ul>${NAV.map(([href, label]) => html`<li><a href="${href}"${o.active === href ? raw(' aria-current="page"') : ""}>${label}</a></li>`)}</ul></nav>
  <span class="who">${p.id} <span class="role">${p.role}</span> <button type="button" class="link" data-action="sign-out">Sign out</button></span>`
    : ""}
</header>
<main id="main">
<h1>${o.title}</h1>
${content}
</main>
<dialog id="confirm" aria-labelledby="confirm-title">
  <form method="dialog" class="dialog">
    <h2 id="confirm-title"></h2>
    <div class="dialog-body"></div>
    <ol class="progress" aria-live="polite"></ol>
    <p class="typed" hidden><label>Type <strong class="typed-count"></strong> to confirm <input class="typed-input" inputmode="numeric" autocomplete="off"></label></p>
    <p class="dialog-error" role="alert"></p>
    <div class="dialog-buttons"><button value="cancel" class="cancel">Cancel</button> <button type="button" class="primary ok">Confirm</button></div>
  </form>
</dialog>
</body>
</html>`;
}

export function escapeAttr(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A part of a page whose server did not answer: say so, and the rest of the page still renders. */
export function down(what: string, error: string): Html {
  return html`<div class="notice fail" role="status"><strong>${what} is unavailable.</strong> ${error}</div>`;
}

export const isOrganizer = (p: Principal | undefined) => p?.role === "organizer";
