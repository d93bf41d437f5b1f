// The console pages' one script (no build step; the CSP allows no inline
// script). It signs in, adds the session's CSRF token to every request
// (fetch and htmx), filters and sorts the participants table in place,
// follows live status and logs over Server-Sent Events (no polling), and
// runs every action through one confirmation dialog that shows what will
// change before anything changes.
"use strict";
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
  const body = document.body;
  let csrf = null;

  // --- session and requests ---------------------------------------------------------

  const session = fetch("/api/v1/session", { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : {}))
    .then((s) => (csrf = s.csrfToken || s.csrf || null))
    .catch(() => null);

  document.addEventListener("htmx:config:request", (e) => {
    if (csrf && e.detail && e.detail.ctx) e.detail.ctx.request.headers["X-CSRF-Token"] = csrf;
  });

  async function api(method, url, data) {
    await session;
    const headers = { Accept: "application/json" };
    if (csrf) headers["X-CSRF-Token"] = csrf;
    if (data !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(url, { method, headers, credentials: "same-origin", body: data === undefined ? undefined : JSON.stringify(data) });
    const text = await r.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = { error: { message: text.slice(0, 200), fix: "" } };
    }
    if (!r.ok) {
      const e = (json && json.error) || { message: `HTTP ${r.status}`, fix: "" };
      const err = new Error(e.message);
      err.status = r.status;
      err.info = e;
      throw err;
    }
    return json;
  }

  const signin = $("#signin");
  if (signin) {
    signin.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const out = $(".dialog-error", signin);
      out.textContent = "";
      try {
        await api("POST", "/api/v1/session", { password: signin.password.value });
        location.reload();
      } catch (err) {
        out.textContent = err.status === 401 ? "Wrong password." : err.message;
      }
    });
  }

  // --- the dialog -------------------------------------------------------------------

  const dlg = $("#confirm");
  const el = (tag, attrs = {}, text) => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    return n;
  };

  function openDialog(title) {
    $("#confirm-title", dlg).textContent = title;
    $(".dialog-body", dlg).replaceChildren();
    $(".progress", dlg).replaceChildren();
    $(".dialog-error", dlg).textContent = "";
    $(".typed", dlg).hidden = true;
    $(".typed-input", dlg).value = "";
    const ok = $(".ok", dlg);
    ok.hidden = true;
    ok.disabled = false;
    $(".cancel", dlg).textContent = "Cancel";
    if (!dlg.open) dlg.showModal();
    return {
      say(...nodes) {
        $(".dialog-body", dlg).append(...nodes.map((n) => (typeof n === "string" ? el("p", {}, n) : n)));
      },
      clear() {
        $(".dialog-body", dlg).replaceChildren();
      },
      step(text, cls) {
        const li = el("li", cls ? { class: cls } : {}, text);
        $(".progress", dlg).append(li);
        li.scrollIntoView({ block: "nearest" });
      },
      error(err) {
        const info = err.info || {};
        $(".dialog-error", dlg).textContent = `${err.message}${info.fix ? ` Fix: ${info.fix}` : ""}`;
        for (const d of info.details || []) $(".dialog-body", dlg).append(el("p", { class: "problem" }, `${d.field ? d.field + ": " : ""}${d.message}`));
        $(".cancel", dlg).textContent = "Close";
      },
      done() {
        $(".cancel", dlg).textContent = "Close";
        $(".ok", dlg).hidden = true;
      },
      /** Resolves when the organizer confirms (after typing the count back when asked). */
      confirm(label, typedCount) {
        const ok = $(".ok", dlg);
        ok.textContent = label;
        ok.hidden = false;
        const input = $(".typed-input", dlg);
        if (typedCount !== undefined) {
          $(".typed", dlg).hidden = false;
          $(".typed-count", dlg).textContent = String(typedCount);
          ok.disabled = true;
          input.oninput = () => (ok.disabled = input.value.trim() !== String(typedCount));
          input.focus();
        } else ok.focus();
        return new Promise((resolve) => {
          ok.onclick = () => {
            ok.hidden = true;
            $(".typed", dlg).hidden = true;
            resolve(true);
          };
          dlg.onclose = () => resolve(false);
        });
      },
    };
  }

  dlg?.addEventListener("close", () => {
    if (dlg.dataset.reload === "1") {
      dlg.dataset.reload = "";
      location.reload();
    }
  });

  /** An operation's engine events, live, until its result. */
  function follow(id, onEngine) {
    return new Promise((resolve) => {
      const es = new EventSource(`/api/v1/operations/${id}/events`);
      es.addEventListener("engine", (m) => onEngine(JSON.parse(m.data)));
      es.addEventListener("result", (m) => {
        es.close();
        resolve(JSON.parse(m.data));
      });
      es.onerror = () => {
        if (es.readyState === EventSource.CLOSED) resolve({ state: "failed", error: { message: "the progress stream closed", fix: "see the Activity page" } });
      };
    });
  }

  const shortUrn = (urn) => (urn || "").split("::").pop();
  function describeEvent(e) {
    const pre = e.resourcePreEvent || e.resOutputsEvent;
    if (pre) {
      const m = pre.metadata || {};
      const type = (m.type || "").split(":").pop();
      return [`${e.resOutputsEvent ? "done" : pre.planning ? "would" : "doing"} ${m.op} ${type} ${shortUrn(m.urn)}`, m.op === "same" ? "same" : m.op];
    }
    if (e.diagnosticEvent) return [`${e.diagnosticEvent.severity}: ${e.diagnosticEvent.message}`.trim(), "diag"];
    if (e.resOpFailedEvent) return [`failed: ${shortUrn(e.resOpFailedEvent.metadata?.urn)}`, "fail"];
    if (e.summaryEvent) return [`summary: ${changeWords(e.summaryEvent.resourceChanges)}`, "summary"];
    return null;
  }

  // The engine's summary counts ({"same":3,"update":1}) in words: "1 updated, 3 unchanged".
  const CHANGE_WORDS = { create: "created", update: "updated", replace: "replaced", delete: "deleted", same: "unchanged" };
  const changeWords = (c) =>
    Object.entries(c || {})
      .filter(([, v]) => v)
      .sort(([a], [b]) => (a === "same") - (b === "same"))
      .map(([k, v]) => `${v} ${CHANGE_WORDS[k] || k}`)
      .join(", ") || "nothing";

  const counts = (c) => (c ? Object.entries(c).filter(([k, v]) => v && k !== "same").map(([k, v]) => `${v} to ${k}`).join(", ") || "no resource changes" : "");

  /**
   * A declarative change: preview (nothing changes), show the thon.yaml diff,
   * the engine's plan and whether workspaces are kept, then apply on
   * confirmation with progress streamed live.
   */
  async function declarative(title, url, data, o = {}) {
    const d = openDialog(title);
    if (o.what) d.say(o.what);
    d.say(el("p", { class: "muted" }, "Previewing: nothing changes yet…"));
    const volumeTouched = [];
    const onEngine = (e) => {
      const line = describeEvent(e);
      if (line && line[1] !== "same") d.step(line[0], line[1]);
      const m = (e.resourcePreEvent || {}).metadata;
      if (m && /Volume/.test(m.type || "") && /delete|replace/.test(m.op || "")) volumeTouched.push(shortUrn(m.urn));
    };
    let preview;
    try {
      const r = await api("POST", url, { ...data, confirm: false });
      preview = await follow(r.operation.id, onEngine);
    } catch (err) {
      d.clear();
      d.error(err);
      return false;
    }
    d.clear();
    if (o.what) d.say(o.what);
    if (preview.state === "failed") {
      d.error({ message: preview.error.message, info: preview.error });
      const diff = preview.error.data && (preview.error.data.thonYamlDiff || preview.error.data.offlinePreview);
      if (diff) d.say(el("pre", { class: "diff" }, diff));
      return false;
    }
    const res = preview.result || {};
    if (res.thonYamlDiff) d.say(el("h3", {}, res.mode === "propose" ? "The thon.yaml diff to commit" : "thon.yaml will change"), el("pre", { class: "diff" }, res.thonYamlDiff));
    if (!res.thonYamlDiff && !(res.replace && res.replace.length)) d.say(el("p", {}, "thon.yaml is unchanged by this."));
    if (res.replace && res.replace.length) d.say(el("p", {}, `Replaced: ${res.replace.map(shortUrn).join(", ")}`));
    if (res.mode === "propose") {
      d.say(el("p", { class: "notice" }, "console.changes is propose: nothing is applied here. Commit this diff; CI applies it."));
      d.done();
      return false;
    }
    d.say(el("p", {}, `Engine preview: ${counts(res.changes)}.`));
    d.say(volumeTouched.length ? el("p", { class: "notice fail" }, `Workspace volumes would be replaced: ${volumeTouched.join(", ")}`) : el("p", { class: "kept" }, "Workspace kept: no workspace volume is deleted or replaced."));
    if (!(await d.confirm(o.label || "Apply", o.typed))) return false;
    $(".progress", dlg).replaceChildren();
    d.step("Applying…");
    try {
      const r = await api("POST", url, { ...data, confirm: true });
      const result = await follow(r.operation.id, (e) => {
        const line = describeEvent(e);
        if (line && line[1] !== "same") d.step(line[0], line[1]);
      });
      if (result.state === "failed") {
        d.error({ message: result.error.message, info: result.error });
        return false;
      }
      d.step(`Done: ${counts((result.result || {}).changes)}. Recorded in the activity log.`, "done");
      d.done();
      if (o.reload) dlg.dataset.reload = "1";
      return true;
    } catch (err) {
      d.error(err);
      return false;
    }
  }

  async function simple(title, what, label, run, typed) {
    const d = openDialog(title);
    for (const w of [].concat(what)) d.say(w);
    if (!(await d.confirm(label, typed))) return;
    d.step("Working…");
    try {
      const out = await run(d);
      if (out && Array.isArray(out.results)) for (const r of out.results) d.step(`${r.name}: ${r.message}`, r.ok ? "done" : "fail");
      d.step("Done. Recorded in the activity log.", "done");
      d.done();
    } catch (err) {
      d.error(err);
    }
  }

  // --- actions ------------------------------------------------------------------------

  const P = (n, a) => `/api/v1/participants/${encodeURIComponent(n)}${a ? "/" + a : ""}`;
  const G = (n, a) => `/api/v1/groups/${encodeURIComponent(n)}${a ? "/" + a : ""}`;

  function setBadge(name, word) {
    const cell = $(`#p-${CSS.escape(name)} .status`) || $(`#status-${CSS.escape(name)} dd`);
    if (cell) cell.replaceChildren(el("span", { class: `badge b-${word}` }, word));
  }

  const actions = {
    restart: (n) =>
      simple(`Restart ${n}?`, [`Docker restarts ${n}'s container. Kept: the container, its settings and the workspace volume. Open editors reconnect by themselves.`], "Restart", async () => {
        setBadge(n, "restarting");
        return api("POST", P(n, "restart"));
      }),
    stop: (n) => declarative(`Stop ${n}?`, P(n, "stop"), {}, { what: `thon.yaml will say ${n}: stopped; the container stops. The workspace volume is kept.`, label: "Stop" }),
    start: (n) => declarative(`Start ${n}?`, P(n, "start"), {}, { what: `thon.yaml will say ${n}: running.`, label: "Start" }),
    recreate: (n) => declarative(`Recreate ${n}'s sandbox?`, P(n, "recreate"), {}, { what: "The container is replaced with a new one from the same settings; the workspace volume is kept.", label: "Recreate" }),
    "reset-password": (n) => declarative(`Reset ${n}'s password?`, P(n, "reset-password"), {}, { what: "A new password, then a new container using it; the workspace volume is kept. Print a new card afterwards.", label: "Reset password" }),
    remove: (n) => declarative(`Remove ${n}?`, P(n, "remove"), {}, { what: `${n} leaves thon.yaml and their sandbox is removed. Their workspace volume is kept (thon purge deletes it).`, label: "Remove", typed: 1 }),
    move: (n) => {
      const to = $(`.move-to[data-name="${CSS.escape(n)}"]`).value;
      return declarative(`Move ${n} to ${to}?`, P(n, "move"), { to }, { what: `${n} moves to group ${to}; their sandbox keeps running.`, label: "Move", reload: true });
    },
    "group-stop": (n, b) => declarative(`Stop group ${n}?`, G(n, "stop"), {}, { what: `Every sandbox of ${n} (${b.dataset.count}) stops; workspaces are kept.`, label: "Stop group", typed: Number(b.dataset.count) > 1 ? Number(b.dataset.count) : undefined, reload: true }),
    "group-start": (n, b) => declarative(`Start group ${n}?`, G(n, "start"), {}, { what: `Every sandbox of ${n} (${b.dataset.count}) starts.`, label: "Start group", reload: true }),
    "group-remove": (n) => declarative(`Delete group ${n}?`, G(n, "remove"), {}, { what: "Only an empty group can be deleted.", label: "Delete", reload: true }),
    "group-rename": (n) => {
      const to = prompt(`Rename group ${n} to:`, n);
      if (!to || to === n) return;
      return declarative(`Rename group ${n} to ${to}?`, G(n, "rename"), { to }, { what: "Its participants' sandboxes are not touched.", label: "Rename", reload: true });
    },
    "event-apply": () => declarative("Apply thon.yaml?", "/api/v1/event/file", { text: $("#thon-yaml").value }, { label: "Apply", reload: true }),
    "llm-load": (n) => simple(`Load ${n}?`, [`Lemonade loads ${n}; it takes memory (and VRAM) until unloaded.`], "Load", () => api("POST", "/api/v1/lemonade/load", { model: n }).then(() => (dlg.dataset.reload = "1"))),
    "llm-unload": (n) => simple(`Unload ${n}?`, [`Requests for ${n} fail until it is loaded again.`], "Unload", () => api("POST", "/api/v1/lemonade/unload", { model: n }).then(() => (dlg.dataset.reload = "1"))),
    reveal: async (n, b) => {
      try {
        const c = await api("GET", P(n, "credentials"));
        const code = el("code", { class: "pw" }, c.password || "(none)");
        const copy = el("button", { type: "button", class: "copy" }, "Copy");
        copy.addEventListener("click", async () => {
          try {
            await navigator.clipboard.writeText(c.password || "");
            copy.textContent = "Copied";
          } catch {
            getSelection().selectAllChildren(code);
            copy.textContent = "Selected: press Ctrl+C";
          }
        });
        const span = el("span", { class: "revealed" });
        span.append(code, " ", copy);
        b.replaceWith(span);
        copy.focus();
      } catch (err) {
        b.textContent = err.message.slice(0, 60);
      }
    },
    print: () => window.print(),
    "sign-out": async () => {
      await api("DELETE", "/api/v1/session").catch(() => null);
      location.href = "/";
    },
  };

  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-action]");
    if (!b || b.disabled) return;
    const fn = actions[b.dataset.action];
    if (fn) {
      ev.preventDefault();
      fn(b.dataset.name, b);
    }
  });

  const groupAdd = $("#group-add");
  groupAdd?.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = groupAdd.name.value.trim();
    declarative(`Create group ${name}?`, "/api/v1/groups", { name }, { what: "An empty group; add participants on the Event page or move them here.", label: "Create", reload: true });
  });

  // --- participants table: filter, sort, select, bulk ----------------------------------

  const table = $("#participants");
  const filters = $("#filters");
  const picked = new Set();
  const ORDER = { crashed: 0, oom: 1, restarting: 2, missing: 3, starting: 4, running: 5, stopped: 6, unknown: 7 };

  function matches(tr) {
    if (!filters) return true;
    const q = filters.q.value.trim().toLowerCase();
    const g = filters.group.value;
    const s = filters.status.value;
    if (q && !tr.dataset.name.includes(q)) return false;
    if (g && tr.dataset.group !== g) return false;
    if (s === "connected") return tr.dataset.connected === "1";
    if (s === "idle") return tr.dataset.connected !== "1" && tr.dataset.badge === "running";
    if (s && tr.dataset.badge !== s) return false;
    return true;
  }

  function applyFilter() {
    if (!table) return;
    const rows = $$("#rows tr");
    let shown = 0;
    for (const tr of rows) {
      tr.hidden = !matches(tr);
      if (!tr.hidden) shown++;
    }
    const out = $(".shown", filters);
    if (out) out.textContent = `${shown} shown`;
  }

  function applySort() {
    if (!table) return;
    const key = filters.sort.value;
    const rows = $$("#rows tr");
    const cmp = {
      name: (a, b) => a.dataset.name.localeCompare(b.dataset.name),
      group: (a, b) => a.dataset.group.localeCompare(b.dataset.group) || a.dataset.name.localeCompare(b.dataset.name),
      badge: (a, b) => (ORDER[a.dataset.badge] ?? 9) - (ORDER[b.dataset.badge] ?? 9) || a.dataset.name.localeCompare(b.dataset.name),
      mem: (a, b) => Number(b.dataset.mem) - Number(a.dataset.mem) || a.dataset.name.localeCompare(b.dataset.name),
    }[key];
    rows.sort(cmp);
    $("#rows").append(...rows);
  }

  function updateBulk() {
    const bar = $("#bulk");
    if (!bar) return;
    $(".bulk-count", bar).textContent = `${picked.size} selected`;
    for (const b of $$("button", bar)) b.disabled = picked.size === 0;
  }

  if (table && filters) {
    filters.addEventListener("input", applyFilter);
    filters.addEventListener("change", (e) => (e.target.name === "sort" ? applySort() : applyFilter()));
    filters.addEventListener("submit", (e) => e.preventDefault());
    table.addEventListener("change", (e) => {
      const t = e.target;
      if (t.id === "pick-all") {
        for (const tr of $$("#rows tr")) {
          if (tr.hidden) continue;
          const cb = $(".pick", tr);
          if (!cb) continue;
          cb.checked = t.checked;
          t.checked ? picked.add(cb.value) : picked.delete(cb.value);
        }
      } else if (t.classList.contains("pick")) t.checked ? picked.add(t.value) : picked.delete(t.value);
      updateBulk();
    });
    applyFilter();
  }

  const DESTRUCTIVE = new Set(["stop", "recreate", "reset-password"]);
  $("#bulk")?.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-bulk]");
    if (!b) return;
    const names = [...picked].sort();
    const action = b.dataset.bulk;
    if (action === "cards") {
      location.href = `/cards?names=${encodeURIComponent(names.join(","))}`;
      return;
    }
    const list = names.length > 12 ? `${names.slice(0, 12).join(", ")} and ${names.length - 12} more` : names.join(", ");
    const typed = DESTRUCTIVE.has(action) && names.length > 1 ? names.length : undefined;
    const data = { action, selection: { names } };
    if (action === "restart") {
      return simple(`Restart ${names.length} sandboxes?`, [`Docker restarts: ${list}. Containers, settings and workspaces stay.`], "Restart", async () => {
        for (const n of names) setBadge(n, "restarting");
        return api("POST", "/api/v1/participants/bulk", data);
      }, names.length > 10 ? names.length : undefined);
    }
    const what = {
      stop: `thon.yaml will say stopped for: ${list}. Their workspaces are kept.`,
      start: `thon.yaml will say running for: ${list}.`,
      recreate: `New containers for: ${list}. Workspaces are kept.`,
      "reset-password": `New passwords and containers for: ${list}. Workspaces are kept; print new cards afterwards.`,
    }[action];
    declarative(`${b.textContent} ${names.length} participant${names.length === 1 ? "" : "s"}?`, "/api/v1/participants/bulk", data, { what, label: b.textContent, typed });
  });

  // --- live status (SSE) --------------------------------------------------------------

  if (body.dataset.live) {
    const es = new EventSource("/pages/live");
    es.addEventListener("row", (m) => {
      const d = JSON.parse(m.data);
      if (body.dataset.live === "rows") {
        const old = document.getElementById(`p-${d.name}`);
        if (!old) return;
        const tpl = document.createElement("template");
        tpl.innerHTML = d.row.trim();
        const tr = tpl.content.firstElementChild;
        const cb = $(".pick", tr);
        if (cb && picked.has(d.name)) cb.checked = true;
        tr.hidden = !matches(tr);
        old.replaceWith(tr);
      } else if (body.dataset.live === "status" && d.name === body.dataset.name) {
        const old = document.getElementById(`status-${d.name}`);
        const tpl = document.createElement("template");
        tpl.innerHTML = d.status.trim();
        if (old) old.replaceWith(tpl.content.firstElementChild);
      }
    });
  }

  const log = $("#log");
  if (log && log.dataset.follow) {
    const es = new EventSource(log.dataset.follow);
    es.addEventListener("line", (m) => {
      const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      log.append(document.createTextNode(m.data + "\n"));
      if (atEnd) log.scrollTop = log.scrollHeight;
    });
    es.onerror = () => ($("#log-state").textContent = "(reconnecting)");
    es.onopen = () => ($("#log-state").textContent = "(following)");
  }
})();
