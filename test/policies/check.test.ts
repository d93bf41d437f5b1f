// `npm run policy`: the pack over an event file, offline, with its exit code.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkMain } from "../../infra/policy/check.ts";
import { featuresYaml } from "../support/features.ts";

const dir = mkdtempSync(join(tmpdir(), "thon-policy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function check(args: string[]) {
  let out = "";
  let err = "";
  const code = await checkMain(args, { out: (t) => (out += t), err: (t) => (err += t), cwd: process.cwd() });
  return { code, out, err };
}

const BAD = `event:\n  name: bad\n  host: 203.0.113.10\nsandbox:\n  auth: none\n  network: host\ngroups:\n  alpha:\n    users: [alice]\n`;

describe("npm run policy", () => {
  it("passes the dev stack (exit 0) and says which policy did not run and why", async () => {
    const r = await check(["--stack", "dev"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^policy pack thon 0\.1\.0 \(26 policies\) on stacks\/dev\/thon\.yaml, stack dev: \d+ resources$/m);
    expect(r.out).toContain("not run    thon-host-memory: the host's memory is not given (event.hostMemory in thon.yaml)");
    expect(r.out.trimEnd().split("\n").at(-1)).toBe("0 mandatory, 0 advisory");
  }, 60_000);

  it("fails a bad event (exit 1), naming policy, resource, problem and fix", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, BAD);
    const r = await check(["--file", file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("mandatory  thon-code-server-auth  (thon-alice)\n           thon-alice: code-server runs with --auth \"none\" while the event is reachable at 203.0.113.10.");
    expect(r.out).toMatch(/mandatory  thon-sandbox-no-host-network  \(thon-alice\)\n {11}thon-alice uses the host's network/);
    expect(r.out).toContain("Fix: set sandbox.auth: password in thon.yaml");
    expect(r.out.trimEnd().split("\n").at(-1)).toBe("2 mandatory, 0 advisory");
  }, 60_000);

  it("passes an all-features event (TLS CA, Lemonade, the gateway per user and per group)", async () => {
    for (const gateway of ["per-user", "per-group"] as const) {
      const file = join(dir, `features-${gateway}.yaml`);
      writeFileSync(file, featuresYaml({ tls: "ca", gateway }));
      const r = await check(["--file", file]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(r.out.trimEnd().split("\n").at(-1)).toBe("0 mandatory, 0 advisory");
    }
  }, 60_000);

  it("fails an all-features event whose thon.yaml turns the limit off, puts the Admin API on a public address and keeps the CA for two years", async () => {
    const file = join(dir, "features-bad.yaml");
    writeFileSync(file, featuresYaml({ tls: "ca", gateway: "per-group", tlsMore: "caValidityDays: 730", llm: { limit: "false", adminUrl: "http://198.51.100.7:9180" } }));
    const r = await check(["--file", file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("mandatory  thon-gateway-consumer-key-and-limit  (thon-consumer-group-alpha)\n           consumer thon-consumer-group-alpha has no rate limit");
    expect(r.out).toContain("mandatory  thon-gateway-admin-not-public  (thon-consumer-group-alpha)\n           thon-consumer-group-alpha and 3 more gateway resources: the Admin API (http://198.51.100.7:9180) is on the public address 198.51.100.7");
    expect(r.out).toContain("mandatory  thon-tls-cert-validity  (thon-tls-ca-cert)\n           thon-tls-ca-cert: the CA certificate is valid 17520 hours (730 days), longer than 397 days; lower tls.caValidityDays");
    expect(r.out).toContain("mandatory  thon-gateway-consumer-key-and-limit  (thon-consumer-group-beta)\n");
    expect(r.out.trimEnd().split("\n").at(-1)).toBe("4 mandatory, 0 advisory");
  }, 60_000);

  it("applies a --policy-pack-config style file, and prints JSON on request", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, BAD);
    const config = join(dir, "policy-config.json");
    writeFileSync(config, JSON.stringify({ "thon-sandbox-no-host-network": { allowHostNetwork: true }, "thon-code-server-auth": "advisory" }));
    const r = await check(["--file", file, "--config", config, "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { pack: string; diagnostics: { policyName: string; enforcementLevel: string }[] };
    expect(report.pack).toBe("thon@0.1.0");
    expect(report.diagnostics.map((d) => [d.policyName, d.enforcementLevel])).toEqual([["thon-code-server-auth", "advisory"]]);
  }, 60_000);

  it("stops at an invalid thon.yaml before starting the pack (exit 1), and at wrong usage (exit 2)", async () => {
    const file = join(dir, "broken.yaml");
    writeFileSync(file, "event:\n  name: x\ngroups: {}\n");
    const r = await check(["--file", file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/event\.host/);
    expect((await check(["--nope"])).code).toBe(2);
  }, 60_000);
});
