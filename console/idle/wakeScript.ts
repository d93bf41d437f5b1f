// The parked page's script (infra/render/nginx/page.ts loads it from the
// console, so the page itself stays a static string with no inline script).
// It retries the sandbox in the background (the page's own refresh would wipe
// a password being typed), posts the wake form as JSON and follows the wake's
// status until code-server answers, then reloads into the workbench.
// Plain browser JavaScript, no build step: served as is.
import { UNAVAILABLE_RETRY_SECONDS } from "../../infra/render/nginx/page.ts";

export const WAKE_SCRIPT = `"use strict";
(function () {
  var form = document.getElementById("thon-wake");
  if (!form) return;
  var status = document.getElementById("thon-wake-status");
  var say = function (text) { status.textContent = text; };
  var path = location.pathname;
  form.elements.path.value = path;
  // The participant is the first segment of the path (their endpoint /<name>/).
  var userRow = document.getElementById("thon-wake-user");
  if (/^\\/[a-z0-9_-]+\\//.test(path)) userRow.hidden = true;
  var waking = false;

  // The starting case: retry the sandbox itself, reload once it answers.
  var retry = setInterval(function () {
    if (waking) return;
    fetch(location.href, { method: "HEAD", credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (r.status !== 502 && r.status !== 504) location.reload();
    }, function () {});
  }, ${UNAVAILABLE_RETRY_SECONDS * 1000});

  var follow = function (url) {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      var s = res.body;
      if (!res.ok) { waking = false; say((s.error && s.error.message) || "The wake could not be followed; reload the page."); return; }
      if (s.state === "ready") { say("Ready. Opening your workbench..."); clearInterval(retry); location.reload(); return; }
      if (s.state === "failed") { waking = false; say(s.message); return; }
      say(s.state === "queued" ? (s.ahead > 0 ? "Waiting to start: " + s.ahead + " ahead of you..." : "Starting next...") : "Starting your sandbox...");
      setTimeout(function () { follow(url); }, 1000);
    }, function () { setTimeout(function () { follow(url); }, 2000); });
  };

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = { path: path, user: form.elements.user.value, password: form.elements.password.value };
    form.elements.password.value = "";
    waking = true;
    say("Checking your password...");
    fetch(form.action, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body), credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (b) { return { status: r.status, body: b }; });
    }).then(function (res) {
      if (res.status === 202) { say("Queued..."); follow(res.body.statusUrl); return; }
      waking = false;
      say((res.body.error && res.body.error.message) || "The wake was refused.");
    }, function () { waking = false; say("The console did not answer; try again in a moment."); });
  });
})();
`;
