// The egress scripts run for real under sh, against a stand-in for iptables
// (test/support/iptablesStandIn.cjs, which keeps chains and rules in a file
// and fails as iptables does). The e2e suite runs them on the real iptables.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { planNetwork } from "../infra/plan.ts";
import { chainNames, egressApplyScript, egressRemoveScript, type EgressSpec } from "../infra/render/egress.ts";
import { makeEvent } from "./support/events.ts";

let dir: string;
const BEFORE = { INPUT: ["-i lo -j ACCEPT"], FORWARD: ["-j DOCKER-USER"], OUTPUT: [], "DOCKER-USER": ["-j RETURN"] };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "thon-egress-"));
  copyFileSync(join(import.meta.dirname, "support/iptablesStandIn.cjs"), join(dir, "iptables"));
  // Not root (CI): the scripts call `sudo -n iptables`; this sudo just runs it.
  writeFileSync(join(dir, "sudo"), '#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n');
  execFileSync("chmod", ["+x", join(dir, "iptables"), join(dir, "sudo")]);
  writeFileSync(join(dir, "state.json"), JSON.stringify(BEFORE));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = (script: string) =>
  execFileSync("/bin/sh", ["-c", `set -eu\n${script}`], { env: { PATH: `${dir}:/usr/bin:/bin`, IPTABLES_STATE: join(dir, "state.json") }, encoding: "utf8" });
const state = () => JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as Record<string, string[]>;
const spec = (egress: EgressSpec["egress"]): EgressSpec => ({ network: planNetwork(makeEvent({ a: ["x"] }, "lemonade: { enabled: true }\ngateway: { enabled: true, port: 9080 }\n")), egress });

describe("egress rules: apply and remove on an iptables stand-in", () => {
  it.each([["internet"], ["none"], [["203.0.113.0/24"]]] as [EgressSpec["egress"]][])("%j: applies once even when run twice, and the delete restores the chains exactly", (egress) => {
    const s = spec(egress);
    const { fwd, input } = chainNames(s.network);
    run(egressApplyScript(s));
    run(egressApplyScript(s)); // a rerun (update) does not duplicate anything
    const applied = state();
    expect(applied["DOCKER-USER"]).toEqual([`-i 'thon-${s.network.chainTag.toLowerCase()}' -j ${fwd}`.replace(/'/g, ""), "-j RETURN"]);
    expect(applied.INPUT![0]).toBe(`-i thon-${s.network.chainTag.toLowerCase()} -j ${input}`);
    expect(applied[input]).toEqual(["-p tcp --dport 9080 -j ACCEPT", "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", "-j DROP"]);
    expect(applied[fwd]!.at(-1)).toBe(egress === "internet" ? "-j RETURN" : "-j DROP");
    run(egressRemoveScript(s));
    expect(state()).toEqual(BEFORE);
    run(egressRemoveScript(s)); // deleting twice is fine
    expect(state()).toEqual(BEFORE);
  });
});
