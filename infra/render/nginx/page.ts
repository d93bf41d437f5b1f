// The page a participant sees while their sandbox does not answer, served
// by nginx from inside single quotes in the server file.

/** Seconds between the unavailable page's own retries (and its Retry-After). */
export const UNAVAILABLE_RETRY_SECONDS = 10;

/**
 * What a participant sees while their sandbox does not answer. One line of
 * HTML inside nginx's single quotes: no quote, backslash or `$` in it.
 */
export const UNAVAILABLE_PAGE = [
  "<!doctype html><html lang=en><meta charset=utf-8>",
  `<meta http-equiv=refresh content=${UNAVAILABLE_RETRY_SECONDS}>`,
  "<meta name=viewport content=\"width=device-width\">",
  "<title>Your sandbox is not answering</title>",
  "<body style=\"font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em\">",
  "<h1>Your sandbox is not answering</h1>",
  "<p>It is starting, restarting, or paused by the organizer. Your files are kept.</p>",
  `<p>This page tries again every ${UNAVAILABLE_RETRY_SECONDS} seconds; ask an organizer if it does not come back.</p>`,
  "</body></html>",
].join("");
