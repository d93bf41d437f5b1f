// Cross-field rules of the `lemonade` and `gateway` sections (issue 5).
// Called from refine.ts; each issue names the exact path to change.
import type { z } from "zod";
import type { ThonFile } from "./schema.ts";
import { APISIX_VERSIONS, versionAtLeast } from "../apisix/versions.ts";
import { checkLlamacppArgs, LEMONADE_MIN_VERSION } from "../lemonade/facts.ts";
import { llmNodes } from "../lemonade/plan.ts";

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;

export function checkLlm(file: ThonFile, ctx: z.RefinementCtx): void {
  const { lemonade, gateway } = file;
  if (lemonade.enabled) checkLemonade(file, ctx);
  if (gateway.enabled) checkGatewayVersions(file, ctx);
  checkLlmNodes(file, ctx);
}

/**
 * lemonade.node and gateway.node place lemond and APISIX on swarm nodes
 * (infra/lemonade/plan.ts llmNodes): refused on one host rather than ignored,
 * and each must name a node of target.nodes.
 */
function checkLlmNodes(file: ThonFile, ctx: z.RefinementCtx): void {
  const { target } = file;
  const fields = [
    { section: "lemonade", node: file.lemonade.node, what: "lemond (the node with the GPU)" },
    { section: "gateway", node: file.gateway.node, what: "APISIX" },
  ] as const;
  let named = true;
  for (const { section, node, what } of fields) {
    if (node === undefined) continue;
    if (target.kind !== "swarm") {
      named = false;
      ctx.addIssue({ code: "custom", path: [section, "node"], message: `places ${what} on a swarm node, and target.kind is "${target.kind}". Fix: remove it (on one host everything runs on that host)` });
    } else if (!target.nodes.some((n) => n.name === node)) {
      named = false;
      ctx.addIssue({
        code: "custom",
        path: [section, "node"],
        message: `is not one of target.nodes (${target.nodes.map((n) => n.name).join(", ")}). Fix: name the node that runs ${what}, or remove it`,
      });
    }
  }
  // target.entry is checked by checkSwarm; the default rule falls back to it.
  const entryKnown = target.kind !== "swarm" || target.entry === undefined || target.nodes.some((n) => n.name === target.entry);
  if (target.kind !== "swarm" || !named || !entryKnown || !file.lemonade.enabled || !file.gateway.enabled) return;
  // APISIX on another node reaches lemond over the network: loopback cannot serve it.
  const nodes = llmNodes(file)!;
  if (nodes.gateway.name !== nodes.lemonade.name && file.lemonade.host !== undefined && LOOPBACK.test(file.lemonade.host)) {
    ctx.addIssue({
      code: "custom",
      path: ["lemonade", "host"],
      message: `lemond on ${file.lemonade.host} cannot be reached by APISIX on node ${nodes.gateway.name} (Lemonade runs on ${nodes.lemonade.name}). Fix: remove lemonade.host (THON then uses 0.0.0.0, guarded by Lemonade's API key), or run APISIX on ${nodes.lemonade.name} (gateway.node)`,
    });
  }
}

function checkLemonade(file: ThonFile, ctx: z.RefinementCtx): void {
  const { lemonade } = file;
  if (!versionAtLeast(lemonade.version, LEMONADE_MIN_VERSION)) {
    ctx.addIssue({
      code: "custom",
      path: ["lemonade", "version"],
      message: `Lemonade ${lemonade.version} predates the lemond daemon and its config.json, which THON writes. Fix: install Lemonade Server ${LEMONADE_MIN_VERSION} or later and set lemonade.version to it`,
    });
    return; // the reserved-flag list below is defined from 10.1 on
  }
  for (const problem of checkLlamacppArgs(lemonade.llamacppArgs, lemonade.version)) {
    ctx.addIssue({ code: "custom", path: ["lemonade", "llamacppArgs", problem.index], message: problem.message });
  }
  if (file.sandbox.network === "none") {
    ctx.addIssue({
      code: "custom",
      path: ["sandbox", "network"],
      message: 'sandboxes on network "none" cannot reach Lemonade or the gateway. Fix: use "bridge" (or your own network), or set lemonade.enabled: false',
    });
  }
  if (!file.gateway.enabled && lemonade.host !== undefined && LOOPBACK.test(lemonade.host)) {
    ctx.addIssue({
      code: "custom",
      path: ["lemonade", "host"],
      message: `lemond on ${lemonade.host} cannot be reached from the sandboxes' containers, and the gateway is off. Fix: remove lemonade.host (THON then uses 0.0.0.0), or turn the gateway on`,
    });
  }
}

function checkGatewayVersions(file: ThonFile, ctx: z.RefinementCtx): void {
  const { gateway } = file;
  const version = gateway.apisixVersion;
  if (!versionAtLeast(version, APISIX_VERSIONS.aiPlugins)) return; // refine.ts reports this one
  if (gateway.limit !== false && !versionAtLeast(version, APISIX_VERSIONS.perConsumerCounters)) {
    ctx.addIssue({
      code: "custom",
      path: ["gateway", "limit"],
      message: `APISIX ${version} keeps one token counter per route for every consumer with the same limit, so one participant would use up everyone's budget (fixed in ${APISIX_VERSIONS.perConsumerCounters}). Fix: set apisixVersion to ${APISIX_VERSIONS.perConsumerCounters} or later (after upgrading APISIX), or limit: false`,
    });
  }
  if (!versionAtLeast(version, APISIX_VERSIONS.hyphenInUsername)) {
    // Consumer usernames are thon_<event>_<user or group>; APISIX < 3.13 allows only [a-zA-Z0-9_].
    const fix = `Fix: set apisixVersion to ${APISIX_VERSIONS.hyphenInUsername} or later (after upgrading APISIX), or rename without "-"`;
    if (file.event.name.includes("-")) {
      ctx.addIssue({ code: "custom", path: ["event", "name"], message: `APISIX ${version} refuses "-" in consumer names, which THON builds from the event name. ${fix}` });
    }
    for (const [group, value] of Object.entries(file.groups)) {
      if (gateway.mode === "per-group") {
        if (group.includes("-")) ctx.addIssue({ code: "custom", path: ["groups", group], message: `APISIX ${version} refuses "-" in consumer names (one per group in per-group mode). ${fix}` });
        continue;
      }
      value.users.forEach((entry, index) => {
        const name = typeof entry === "string" ? entry : entry.name;
        if (name.includes("-")) {
          ctx.addIssue({ code: "custom", path: ["groups", group, "users", index], message: `APISIX ${version} refuses "-" in consumer names (one per participant). ${fix}` });
        }
      });
    }
  }
}
