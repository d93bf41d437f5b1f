#!/usr/bin/env node
// A stand-in for iptables (filter table only) for unit tests of the egress
// scripts: keeps chains and rules in $IPTABLES_STATE (JSON) and answers the
// commands those scripts use as iptables does: -w (ignored), -N (fails if
// the chain exists), -X (fails if missing or still jumped to), -F, -A, -I
// (at the top), -D (exact rule; fails when absent), -S [chain]. Exit code 1
// with a message on stderr for errors, like iptables.
"use strict";
const fs = require("node:fs");
const file = process.env.IPTABLES_STATE;
const state = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : { INPUT: [], FORWARD: [], OUTPUT: [] };
const BUILTIN = ["INPUT", "FORWARD", "OUTPUT"];
const args = process.argv.slice(2).filter((a) => a !== "-w");
const fail = (msg) => {
  process.stderr.write(`iptables: ${msg}\n`);
  process.exit(1);
};
const [op, chain, ...rule] = args;
const text = rule.join(" ");
const need = () => (state[chain] ? state[chain] : fail(`No chain/target/match by that name (${chain}).`));
switch (op) {
  case "-N":
    if (state[chain]) fail("Chain already exists.");
    state[chain] = [];
    break;
  case "-X": {
    need();
    if (BUILTIN.includes(chain)) fail("Can't delete built-in chain");
    if (state[chain].length > 0) fail("Directory not empty.");
    if (Object.values(state).some((rules) => rules.some((r) => r.endsWith(`-j ${chain}`)))) fail("Too many links.");
    delete state[chain];
    break;
  }
  case "-F":
    need().length = 0;
    break;
  case "-A":
    need().push(text);
    break;
  case "-I":
    need().unshift(text);
    break;
  case "-D": {
    const rules = need();
    const i = rules.indexOf(text);
    if (i < 0) fail("Bad rule (does a matching rule exist in that chain?).");
    rules.splice(i, 1);
    break;
  }
  case "-S": {
    const chains = chain ? [chain] : Object.keys(state);
    for (const c of chains) {
      const rules = chain ? need() : state[c];
      process.stdout.write(`${BUILTIN.includes(c) ? `-P ${c} ACCEPT` : `-N ${c}`}\n`);
      for (const r of rules) process.stdout.write(`-A ${c} ${r}\n`);
    }
    break;
  }
  default:
    fail(`unsupported in the stand-in: ${args.join(" ")}`);
}
fs.writeFileSync(file, JSON.stringify(state));
