#!/usr/bin/env node
// thon-merge-settings ORGANIZER USER: writes the participant's VS Code
// settings file (USER, in the home volume) as their own settings with the
// organizer's (ORGANIZER, written by the program) merged over them. Run by
// the entrypoint at every start, so what the participant set survives a new
// container, and what the organizer set (workspace trust off, ...) wins.
//
// The participant's file may hold comments and trailing commas (VS Code
// allows them): they are read leniently; a file that still cannot be read is
// kept beside as settings.json.thon-unreadable and replaced.
"use strict";
const fs = require("node:fs");

const [organizerPath, userPath] = process.argv.slice(2);
const log = (msg) => process.stderr.write(`thon-merge-settings: ${msg}\n`);

/** JSON with comments and trailing commas, as VS Code writes and reads it. */
function parseJsonc(text) {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      out += text.slice(start, i + 1);
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2);
      if (i < 0) throw new Error("unterminated comment");
      i++;
    } else out += c;
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, "$1"));
}

function readObject(path, what) {
  if (!fs.existsSync(path)) return {};
  const text = fs.readFileSync(path, "utf8");
  if (text.trim() === "") return {};
  const value = parseJsonc(text);
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`${what} is not a JSON object`);
  return value;
}

if (!organizerPath || !userPath) {
  log("usage: thon-merge-settings ORGANIZER USER");
  process.exit(2);
}
let organizer;
try {
  organizer = readObject(organizerPath, organizerPath);
} catch (err) {
  log(`cannot read ${organizerPath} (${err.message}); leaving ${userPath} alone`);
  process.exit(0);
}
let user = {};
try {
  user = readObject(userPath, userPath);
} catch (err) {
  log(`cannot read ${userPath} (${err.message}); keeping it as ${userPath}.thon-unreadable`);
  fs.renameSync(userPath, `${userPath}.thon-unreadable`);
}
const merged = { ...user, ...organizer };
fs.mkdirSync(require("node:path").dirname(userPath), { recursive: true });
const tmp = `${userPath}.thon-tmp`;
fs.writeFileSync(tmp, JSON.stringify(merged, null, 2) + "\n", { mode: 0o600 });
fs.renameSync(tmp, userPath);
