// Rules that span fields of thon.yaml. Each issue carries the exact path of
// the value to change (indexes included) and a message that gives the fix.
import { z } from "zod";
import { thonFileSchema, type ThonFile } from "./schema.ts";

// Lives with the other APISIX version facts; re-exported for existing callers.
export { versionAtLeast } from "../apisix/versions.ts";
import { versionAtLeast } from "../apisix/versions.ts";
import { checkLlm } from "./llm.ts";
import { SANDBOX_IDLE_MIB } from "./capacity.ts";

// Runs even when other fields are invalid (see `when` below), so it reads the
// groups defensively: a duplicate is worth reporting next to a typo.
function checkUniqueParticipants(file: Pick<ThonFile, "groups">, ctx: z.RefinementCtx): void {
  const seen = new Map<string, string>();
  let count = 0;
  for (const [group, value] of Object.entries(file.groups)) {
    // A bare list (`b: [carol]`) is reported as a shape problem; its names still count here.
    const users: unknown[] = Array.isArray(value?.users) ? value.users : Array.isArray(value) ? value : [];
    users.forEach((entry, index) => {
      count++;
      const name = typeof entry === "string" ? entry : (entry as { name?: unknown } | null)?.name;
      if (typeof name !== "string") return;
      const here = `groups.${group}.users[${index}]`;
      const first = seen.get(name);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["groups", group, "users", index],
          message: `participant "${name}" is already listed at ${first}; a participant belongs to one group. Fix: remove one of the two entries, or give this person another name`,
        });
      } else {
        seen.set(name, here);
      }
    });
  }
  // A group refused for its name or shape is not "no participants".
  if (count === 0 && !ctx.issues.some((i) => i.path?.[0] === "groups")) {
    ctx.addIssue({
      code: "custom",
      path: ["groups"],
      message: "the event has no participants. Fix: add a group with users, e.g. groups: { alpha: { users: [alice] } }",
    });
  }
}

function checkTls(file: ThonFile, ctx: z.RefinementCtx): void {
  const { tls } = file;
  if (tls.mode === "provided") {
    for (const key of ["certFile", "keyFile"] as const) {
      if (tls[key] === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["tls", key],
          message: `tls.mode "provided" needs tls.${key}. Fix: give the absolute path of your ${key === "certFile" ? "certificate chain (PEM)" : "private key (PEM)"}, or use mode "ca"`,
        });
      }
    }
  } else {
    for (const key of ["certFile", "keyFile"] as const) {
      if (tls[key] !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["tls", key],
          message: `tls.${key} is only used with tls.mode "provided" (mode is "${tls.mode}"). Fix: remove it, or set mode: provided`,
        });
      }
    }
  }
  if (tls.validityDays > tls.maxValidityDays) {
    ctx.addIssue({
      code: "custom",
      path: ["tls", "validityDays"],
      message: `tls.validityDays (${tls.validityDays}) is longer than tls.maxValidityDays (${tls.maxValidityDays}); browsers reject long-lived server certificates. Fix: lower validityDays`,
    });
  }
}

// Paths that end up in nginx's configuration unquoted (see infra/render/nginx.ts).
const NGINX_PATH = /^\/[A-Za-z0-9._\/@+-]*$/;

function checkProxy(file: ThonFile, ctx: z.RefinementCtx): void {
  const paths: [string[], string | undefined][] = [
    [["proxy", "configDir"], file.proxy.configDir],
    [["proxy", "includeDir"], file.proxy.includeDir],
    [["proxy", "socketDir"], file.proxy.socketDir],
    [["proxy", "accessLog"], file.proxy.accessLog],
    [["tls", "certFile"], file.tls.certFile],
    [["tls", "keyFile"], file.tls.keyFile],
  ];
  for (const [path, value] of paths) {
    if (value !== undefined && !NGINX_PATH.test(value)) {
      ctx.addIssue({
        code: "custom",
        path,
        message: `${path.join(".")} "${value}" goes into nginx's configuration, which would misread spaces, quotes, ';', '{' or '$'. Fix: use a path of letters, digits and . _ - / only`,
      });
    }
  }
  if (file.proxy.httpPort !== 0 && file.proxy.httpPort === file.proxy.httpsPort) {
    ctx.addIssue({
      code: "custom",
      path: ["proxy", "httpPort"],
      message: `proxy.httpPort and proxy.httpsPort are both ${file.proxy.httpsPort}. Fix: use another httpPort, or 0 for no redirect`,
    });
  }
}

function checkGateway(file: ThonFile, ctx: z.RefinementCtx): void {
  const { gateway, lemonade } = file;
  if (!gateway.enabled) return;
  if (!lemonade.enabled) {
    ctx.addIssue({
      code: "custom",
      path: ["gateway", "enabled"],
      message: "the gateway fronts Lemonade, which is off. Fix: set lemonade.enabled: true, or gateway.enabled: false",
    });
  }
  if (!versionAtLeast(gateway.apisixVersion, "3.12")) {
    ctx.addIssue({
      code: "custom",
      path: ["gateway", "apisixVersion"],
      message: `APISIX ${gateway.apisixVersion} has no ai-proxy-multi or ai-rate-limiting (they arrived in 3.12). Fix: upgrade APISIX and set apisixVersion to 3.12 or later`,
    });
  }
  if (gateway.redis && !versionAtLeast(gateway.apisixVersion, "3.18")) {
    ctx.addIssue({
      code: "custom",
      path: ["gateway", "redis"],
      message: `ai-rate-limiting honours a redis policy only from APISIX 3.18; ${gateway.apisixVersion} would silently count per gateway instance. Fix: set apisixVersion to 3.18 or later, or remove gateway.redis`,
    });
  }
}

/**
 * A host cannot hold more running sandboxes than its memory over the measured
 * idle figure; the ceilings (sandbox.memory) are the policy pack's advisory
 * thon-host-memory, since limits are rarely all used at once.
 */
function checkCapacity(file: ThonFile, ctx: z.RefinementCtx): void {
  const host = file.event.hostMemory;
  if (host === undefined) return;
  const running = Object.values(file.groups).flatMap((g) =>
    g.users.filter((u) => ((typeof u === "string" ? undefined : u.state) ?? g.state ?? file.sandbox.state) === "running"),
  );
  const need = running.length * SANDBOX_IDLE_MIB;
  if (need > host) {
    ctx.addIssue({
      code: "custom",
      path: ["event", "hostMemory"],
      message: `${running.length} running sandboxes need at least ${need} MiB even when idle (${SANDBOX_IDLE_MIB} MiB each, measured), more than the host's ${host} MiB; this host holds at most ${Math.floor(host / SANDBOX_IDLE_MIB)}. Fix: pause participants (state: stopped), split the event over hosts, or correct event.hostMemory`,
    });
  }
}

// An exemption that names nobody is a typo that would park the demo machine.
function checkIdle(file: ThonFile, ctx: z.RefinementCtx): void {
  const groups = Object.keys(file.groups);
  const users = Object.values(file.groups).flatMap((g) => g.users.map((u) => (typeof u === "string" ? u : u.name)));
  file.idle.exempt.forEach((name, index) => {
    if (!groups.includes(name) && !users.includes(name)) {
      ctx.addIssue({
        code: "custom",
        path: ["idle", "exempt", index],
        message: `names neither a group nor a participant. Fix: write a group name (${groups.join(", ")}) or a participant's name`,
      });
    }
  });
}

/**
 * target.kind swarm: node names are unique, and target.entry and every
 * `host:` name a node. `host:` means nothing on one host, so it is refused
 * there rather than silently ignored.
 */
function checkSwarm(file: ThonFile, ctx: z.RefinementCtx): void {
  const { target } = file;
  const hosts: { path: (string | number)[]; host: string }[] = [];
  for (const [group, g] of Object.entries(file.groups)) {
    if (g.host !== undefined) hosts.push({ path: ["groups", group, "host"], host: g.host });
    g.users.forEach((u, index) => {
      if (typeof u !== "string" && u.host !== undefined) hosts.push({ path: ["groups", group, "users", index, "host"], host: u.host });
    });
  }
  if (target.kind !== "swarm") {
    for (const { path } of hosts) {
      ctx.addIssue({
        code: "custom",
        path,
        message: `places participants on a swarm node, and target.kind is "${target.kind}". Fix: remove it, or declare target.kind: swarm with its nodes`,
      });
    }
    return;
  }
  const names = target.nodes.map((n) => n.name);
  const first = new Map<string, number>();
  target.nodes.forEach((node, index) => {
    const at = first.get(node.name);
    if (at !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["target", "nodes", index, "name"],
        message: `is already declared at target.nodes[${at}]; a swarm node's hostname is unique. Fix: remove one of the two entries`,
      });
    } else first.set(node.name, index);
    // The edge's nginx is thon-proxy-edge, a node's thon-proxy-<node> (infra/resourceNames.ts).
    if (node.name === "edge") {
      ctx.addIssue({ code: "custom", path: ["target", "nodes", index, "name"], message: `is the name of THON's entry nginx (thon-proxy-edge). Fix: rename the node (its hostname), e.g. "edge1"` });
    }
    for (const key of Object.keys(node.labels)) {
      if (key.startsWith("org.thon.")) {
        ctx.addIssue({ code: "custom", path: ["target", "nodes", index, "labels", key], message: `labels under org.thon. are THON's own (org.thon.node pins participants). Fix: use another key` });
      }
    }
  });
  const known = [...first.keys()].join(", ");
  if (target.entry !== undefined && !first.has(target.entry)) {
    ctx.addIssue({
      code: "custom",
      path: ["target", "entry"],
      message: `is not one of target.nodes (${known}). Fix: name the node that runs the edge nginx, or remove entry (default: ${names[0]})`,
    });
  }
  for (const { path, host } of hosts) {
    if (!first.has(host)) {
      ctx.addIssue({
        code: "custom",
        path,
        message: `is not one of target.nodes (${known}). Fix: write one of those names, or add the node to target.nodes`,
      });
    }
  }
}

/** target.kind swarm: what it cannot do yet, refused by field (docs/swarm.md). */
function checkSwarmLimits(file: ThonFile, ctx: z.RefinementCtx): void {
  if (file.target.kind !== "swarm") return;
  // The manager would build the image for itself only: a swarm here has no registry to share it with the nodes.
  if (file.sandbox.build !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["sandbox", "build"],
      message: "target.kind swarm runs images already on every node (no registry). Fix: build and import the image on each node, and name it in sandbox.image without sandbox.build",
    });
  }
  // The nodes' nginx get their certificate from the event CA; an organizer's certificate has no copy there to trust.
  if (file.tls.mode === "provided") {
    ctx.addIssue({
      code: "custom",
      path: ["tls", "mode"],
      message: 'target.kind swarm needs the event CA to secure the edge-to-node hop; "provided" has none. Fix: tls.mode: ca (default) or selfsigned',
    });
  }
  if (file.sandbox.packages.length > 0) {
    ctx.addIssue({
      code: "custom",
      path: ["sandbox", "packages"],
      message: "target.kind swarm cannot add packages to the image on each node. Fix: build an image with the packages, import it on every node and name it in sandbox.image",
    });
  }
}

/** thon.yaml's full validation: shapes, then the cross-field rules above. */
export const thonFileRefined = thonFileSchema
  .superRefine((file, ctx) => checkUniqueParticipants(file, ctx), {
    when: ({ value }) => {
      const groups = (value as { groups?: unknown } | undefined)?.groups;
      return typeof groups === "object" && groups !== null && !Array.isArray(groups);
    },
  })
  .superRefine((file, ctx) => {
  checkTls(file, ctx);
  checkProxy(file, ctx);
  checkGateway(file, ctx);
  checkLlm(file, ctx);
  checkCapacity(file, ctx);
  checkIdle(file, ctx);
  checkSwarm(file, ctx);
  checkSwarmLimits(file, ctx);
});
