// The Chromium the browser tests drive: Debian's (/usr/bin/chromium, which
// scripts/ensure-tools.sh installs), or the one THON_CHROMIUM names (GitHub's
// Ubuntu runners ship Google Chrome at /usr/bin/google-chrome). Never a
// downloaded browser.
export const CHROMIUM_PATH = process.env.THON_CHROMIUM ?? "/usr/bin/chromium";

/** Headless Chromium as root in a container: no sandbox, no GPU, no background traffic. */
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
