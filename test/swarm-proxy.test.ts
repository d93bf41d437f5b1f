// NodeProxy and EdgeProxy under Pulumi's mocks: which files each node and
// the edge get, under which names, what is secret, the reloads' order, and
// the blast radius of adding or moving a participant.
// test/swarm-routing-nginx.test.ts runs the same commands against real nginx.
import { describe, expect, it } from "vitest";
import { diffEvaluations } from "../infra/preview/diff.ts";
import type { Evaluation, RecordedResource } from "../infra/preview/evaluate.ts";
import { makeEvent } from "./support/events.ts";
import { stackResources } from "../infra/policy/analyzer.ts";
import { runStackPolicy, withProps } from "./support/policies.ts";
import { evaluateRouting, type RoutingSetup } from "./support/swarmRouting.ts";

const CMD = "command:local:Command";
const nodes = [
  { name: "n1", address: "192.0.2.10" },
  { name: "n2", address: "192.0.2.11" },
];
const setup = (placement: Record<string, string>, extra = ""): RoutingSetup => ({
  event: makeEvent({ alpha: Object.keys(placement) }, extra),
  nodes,
  entry: "n1",
  nodePort: 8443,
  placement,
});

const byName = (e: Evaluation, name: string, type = CMD): RecordedResource => {
  const r = e.resources.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name}`);
  return r;
};
/** The commands under a component, as name → the file they write (their `thon:host:File` path) or "reload". */
function commandsOf(e: Evaluation, component: string): Record<string, string> {
  const parent = e.resources.find((r) => r.name === component && r.type.startsWith("thon:proxy:"))!;
  const out: Record<string, string> = {};
  for (const r of e.resources.filter((x) => x.parent === parent.urn)) {
    out[r.name] = r.type === "thon:host:File" ? (r.inputs.path as string) : r.type;
  }
  return out;
}

describe("the files each nginx gets", () => {
  it("each node: its certificate and key, its server, and today's two files per participant of its own; the edge: today's server files, one upstream per node, one location per participant", async () => {
    const e = await evaluateRouting(setup({ alice: "n1", bob: "n2", carol: "n2" }));
    expect(commandsOf(e, "thon-proxy-n1")).toEqual({
      "thon-proxy-n1-server-cert": "/etc/nginx/thon/node/tls/server.crt",
      "thon-proxy-n1-server-key": "/etc/nginx/thon/node/tls/server.key",
      "thon-proxy-n1-server": "/etc/nginx/conf.d/thon-test-node.conf",
      "thon-upstream-alice": "/etc/nginx/thon/node/upstreams/alice.conf",
      "thon-nginx-alice": "/etc/nginx/thon/node/participants/alice.conf",
      "thon-proxy-n1-reload": CMD,
    });
    expect(Object.keys(commandsOf(e, "thon-proxy-n2")).sort()).toEqual(
      ["thon-nginx-bob", "thon-nginx-carol", "thon-proxy-n2-reload", "thon-proxy-n2-server", "thon-proxy-n2-server-cert", "thon-proxy-n2-server-key", "thon-upstream-bob", "thon-upstream-carol"],
    );
    expect(commandsOf(e, "thon-proxy-edge")).toEqual({
      "thon-proxy-edge-server-cert": "/etc/nginx/thon/tls/server.crt",
      "thon-proxy-edge-server-key": "/etc/nginx/thon/tls/server.key",
      "thon-proxy-edge-ca-cert": "/etc/nginx/thon/tls/ca.crt",
      "thon-proxy-edge-server": "/etc/nginx/conf.d/thon-test.conf",
      "thon-edge-upstream-n1": "/etc/nginx/thon/upstreams/n1.conf",
      "thon-edge-upstream-n2": "/etc/nginx/thon/upstreams/n2.conf",
      "thon-edge-nginx-alice": "/etc/nginx/thon/participants/alice.conf",
      "thon-edge-nginx-bob": "/etc/nginx/thon/participants/bob.conf",
      "thon-edge-nginx-carol": "/etc/nginx/thon/participants/carol.conf",
      "thon-proxy-edge-reload": CMD,
    });
    // Every file is written staged; the edge's location leads to the participant's node.
    expect(byName(e, "thon-edge-nginx-bob").inputs.create).toContain("/etc/nginx/thon/participants/bob.conf.thon-staged");
    expect(byName(e, "thon-edge-nginx-bob").inputs.stdin).toContain("proxy_pass https://thon-node_test_n2;");
    expect(byName(e, "thon-edge-nginx-alice").inputs.stdin).toContain("proxy_pass https://thon-node_test_n1;");
    expect(byName(e, "thon-nginx-bob").inputs.stdin).toContain("proxy_pass http://thon_test_bob/;");
    expect(byName(e, "thon-proxy-n2-server").inputs.stdin).toContain("allow 192.0.2.10;");
  });

  it("the server key is a secret on every node and out of every manifest; the reloads put it in place", async () => {
    const e = await evaluateRouting(setup({ alice: "n1", bob: "n2" }));
    for (const [key, reload] of [
      ["thon-proxy-n2-server-key", "thon-proxy-n2-reload"],
      ["thon-proxy-edge-server-key", "thon-proxy-edge-reload"],
    ] as const) {
      expect(byName(e, key).secretInputs).toContain("stdin");
      expect(byName(e, reload).inputs.stdin).not.toContain("server.key");
      expect(byName(e, reload).inputs.create).toMatch(/server\.key'\n/);
    }
    expect(byName(e, "thon-proxy-n2-reload").inputs.stdin).toContain("/etc/nginx/thon/node/participants/bob.conf");
    expect(byName(e, "thon-proxy-n2-reload").inputs.stdin).not.toContain("alice");
  });

  it("passes the policy pack's key-file rule: every copy of the key is an owner-only file written from stdin", async () => {
    const e = await evaluateRouting(setup({ alice: "n1", bob: "n2" }));
    expect((await runStackPolicy("thon-tls-key-file-mode", e)).violations).toEqual([]);
    const keys = e.resources.filter((r) => r.type === "thon:host:File" && r.name.endsWith("-server-key"));
    expect(keys.map((r) => [r.name, r.inputs.mode]).sort()).toEqual([
      ["thon-proxy-edge-server-key", "0600"],
      ["thon-proxy-n1-server-key", "0600"],
      ["thon-proxy-n2-server-key", "0600"],
    ]);
    // The rule sees the node's copy: the same file world-readable is a violation.
    const loose = stackResources(e).map((r) => (r.type === "thon:host:File" && r.name === "thon-proxy-n2-server-key" ? withProps(r, { mode: "0644" }) : r));
    const run = await runStackPolicy("thon-tls-key-file-mode", loose);
    expect(run.violations.map((v) => v.message).join("\n")).toContain("thon-proxy-n2-server-key");
  });

  it("the edge's reload waits for the entry node's: one nginx, one reload at a time", async () => {
    const e = await evaluateRouting(setup({ alice: "n1", bob: "n2" }));
    const edge = byName(e, "thon-proxy-edge-reload");
    expect(edge.options.dependencies).toContain(byName(e, "thon-proxy-n1-reload").urn);
    expect(edge.options.dependencies).not.toContain(byName(e, "thon-proxy-n2-reload").urn);
  });
});

describe("blast radius", () => {
  const changes = async (before: RoutingSetup, after: RoutingSetup) =>
    diffEvaluations(await evaluateRouting(before), await evaluateRouting(after))
      .changes.filter((c) => c.type === CMD)
      .map((c) => `${c.kind} ${c.name}`)
      .sort();

  it("adding a participant: one file on the edge, two on their node, the two reloads; nothing on the other node", async () => {
    expect(await changes(setup({ alice: "n1", bob: "n2" }), setup({ alice: "n1", bob: "n2", carol: "n2" }))).toEqual([
      "create thon-edge-nginx-carol",
      "create thon-nginx-carol",
      "create thon-upstream-carol",
      "update thon-proxy-edge-reload",
      "update thon-proxy-n2-reload",
    ]);
  });

  it("moving a participant to another node: their one edge file changes, their files move between the nodes", async () => {
    expect(await changes(setup({ alice: "n1", bob: "n2" }), setup({ alice: "n1", bob: "n1" }))).toEqual([
      "replace thon-nginx-bob",
      "replace thon-upstream-bob",
      "update thon-edge-nginx-bob",
      "update thon-proxy-edge-reload",
      "update thon-proxy-n1-reload",
      "update thon-proxy-n2-reload",
    ]);
  });
});

describe("bad input", () => {
  it("refuses tls.mode provided, naming it, before any nginx file is declared", async () => {
    await expect(
      evaluateRouting(setup({ alice: "n1" }, "tls:\n  mode: provided\n  certFile: /etc/letsencrypt/live/x/fullchain.pem\n  keyFile: /etc/letsencrypt/live/x/privkey.pem\n")),
    ).rejects.toThrow(/tls.mode provided cannot secure the hop from the edge to the nodes/);
  });

  it("refuses an entry that is not a node", async () => {
    await expect(evaluateRouting({ ...setup({ alice: "n1" }), entry: "n9" })).rejects.toThrow(/target.entry: n9 is not one of target.nodes/);
  });

  it("refuses a participant placed on no node", async () => {
    await expect(evaluateRouting(setup({ alice: "n1", bob: "n7" }))).rejects.toThrow(/participant bob is on no node of target.nodes/);
  });
});
