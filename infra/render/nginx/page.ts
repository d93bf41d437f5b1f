// The page a participant sees while their sandbox does not answer, served
// by nginx from inside single quotes in the server file. It also wakes a
// parked sandbox: the form posts the sandbox password to the console under
// CONSOLE_PATH (console/idle/routes.ts), whose script follows the wake and
// reloads into the workbench (docs/idle.md).

/** Seconds between the unavailable page's own retries (and its Retry-After). */
export const UNAVAILABLE_RETRY_SECONDS = 10;

/** Where nginx passes requests to the console (its unix socket), as the browser sees it. */
export const CONSOLE_PATH = "/_thon";

/**
 * What a participant sees while their sandbox does not answer. One line of
 * HTML inside nginx's single quotes: no quote, backslash or `$` in it.
 * Without JavaScript the page reloads itself every UNAVAILABLE_RETRY_SECONDS
 * (the starting case). With idle parking on (`wake`), it also holds the wake
 * form: it posts as a plain form without JavaScript; with it, the console's
 * script retries in the background instead, so a reload never wipes a
 * password being typed. Without idle parking nothing is ever parked, so the
 * page offers no form that could only fail.
 */
export function unavailablePage(o: { readonly wake: boolean }): string {
  return [
    "<!doctype html><html lang=en><meta charset=utf-8>",
    o.wake ? `<noscript><meta http-equiv=refresh content=${UNAVAILABLE_RETRY_SECONDS}></noscript>` : `<meta http-equiv=refresh content=${UNAVAILABLE_RETRY_SECONDS}>`,
    "<meta name=viewport content=\"width=device-width\">",
    "<title>Your sandbox is not answering</title>",
    ...(o.wake ? [`<script src=${CONSOLE_PATH}/idle/wake.js defer></script>`] : []),
    "<body style=\"font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em\">",
    "<h1>Your sandbox is not answering</h1>",
    "<p>It is starting, restarting, or paused by the organizer. Your files are kept.</p>",
    `<p>This page tries again every ${UNAVAILABLE_RETRY_SECONDS} seconds; ask an organizer if it does not come back.</p>`,
    ...(o.wake
      ? [
          "<h2>Parked while you were away?</h2>",
          "<p>Sandboxes nobody uses are parked to make room. Wake yours with your sandbox password:</p>",
          `<form id=thon-wake method=post action=${CONSOLE_PATH}/wake>`,
          "<input type=hidden name=path value=\"\">",
          "<p id=thon-wake-user><label>Participant name <input name=user autocomplete=username></label></p>",
          "<p><label>Sandbox password <input type=password name=password autocomplete=current-password required></label></p>",
          "<p><button type=submit>Wake my sandbox</button></p>",
          "<p id=thon-wake-status role=status aria-live=polite></p>",
          "</form>",
        ]
      : []),
    "</body></html>",
  ].join("");
}

/** The page of an event without idle parking. */
export const UNAVAILABLE_PAGE = unavailablePage({ wake: false });
/** The page of an event with idle parking: with the wake form. */
export const UNAVAILABLE_PAGE_WITH_WAKE = unavailablePage({ wake: true });
