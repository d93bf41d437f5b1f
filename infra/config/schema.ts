// The shape of thon.yaml. Three layers, as in astro's config: this file holds
// the shapes (types, defaults, per-field messages), `refine.ts` the rules that
// span fields, `load.ts` the parsing and the error report. Every message says
// what to write instead, because the reader is an organizer at 8am.
import { isIP } from "node:net";
import { z } from "zod";
import { NAME_PATTERN, NAME_RULE, RESERVED_NAMES } from "./names.ts";
import { parseMiB } from "./units.ts";
import { parseDuration } from "./duration.ts";
import { signInSchema } from "./signIn.ts";
import { LEMONADE_DEFAULT_PATHS } from "../lemonade/facts.ts";

const nameOf = (what: string) =>
  z
    .string({ error: `${what} must be a string (${NAME_RULE})` })
    .regex(NAME_PATTERN, { error: `${what} must be ${NAME_RULE}` });

export const participantName = nameOf("a participant name").refine((n) => !RESERVED_NAMES.includes(n), {
  error: (issue) =>
    `"${String(issue.input)}" is reserved (the proxy serves /${String(issue.input)}/ itself); pick another name`,
});
export const groupName = nameOf("a group name");
/** A swarm node's name: its hostname as `docker node ls` shows it, in THON's name rule (it goes into labels and resource names). */
const nodeName = (what: string) => nameOf(what);

/** A size such as "2GiB", "512MiB", "1.5g" or a number of MiB; parsed to MiB. */
const size = (what: string, whenMissing?: string) =>
  // whenMissing: for a required size, which the union alone would report as "Invalid input".
  z.union([z.string(), z.number()], whenMissing === undefined ? undefined : { error: (issue) => (issue.input === undefined ? whenMissing : undefined) }).transform((value, ctx) => {
    const mib = parseMiB(value);
    if (mib === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `${what} must be a size such as "2GiB", "512MiB" or a number of MiB`,
      });
      return z.NEVER;
    }
    return mib;
  });

const hostName = z
  .string()
  .min(1)
  .regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$|^[0-9a-fA-F:.]+$/, {
    error: "must be a DNS name (thon.example.org) or an IP address (203.0.113.10), without scheme or port",
  })
  // All digits and dots, or any colon: meant as an IP address, so it must be one ("300.1.1.1", "::::" are not).
  .refine((h) => !(/^[0-9.]+$/.test(h) || h.includes(":")) || isIP(h) !== 0, {
    error: "is not an IP address (IPv4 is four numbers 0-255, IPv6 as in 2001:db8::1); write a valid address, or a DNS name",
  });

const absolutePath = (what: string) =>
  z.string().refine((p) => p.startsWith("/"), { error: `${what} must be an absolute path (starting with /)` });

const runState = z.enum(["running", "stopped"], {
  error: 'state must be "running" or "stopped"',
});

// ---------------------------------------------------------------------------

export const eventSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, {
        error: "event.name must be 1 to 40 characters of lower-case letters, digits and '-'",
      })
      .describe("The event's name: 1 to 40 lower-case letters, digits and '-'; used in resource names, labels and the stack outputs."),
    host: hostName.describe("The DNS name or IP address participants type into their browser, without scheme or port."),
    altNames: z.array(hostName).default([]).describe("More names or addresses the certificate must cover (IPs as IP SANs, names as DNS SANs)."),
    hostMemory: size("event.hostMemory").optional().describe('The host\'s memory ("24GiB"), for the policy pack\'s capacity check (thon-host-memory).'),
  })
  .strict();

export const sandboxSchema = z
  .object({
    image: z.string().min(1).default("thon-sandbox:4.100.3").describe("The image every sandbox runs (infra/image/Dockerfile builds it)."),
    build: z
      .object({
        context: z.string().min(1).describe("The build context, relative to thon.yaml (handed to the Docker provider relative to infra/, where Pulumi runs it)."),
        dockerfile: z.string().min(1).default("Dockerfile").describe("The Dockerfile, relative to the context."),
      })
      .strict()
      .optional()
      .describe("Build the image from a Dockerfile instead of pulling `image`."),
    cpus: z.number({ error: "sandbox.cpus must be a number of CPUs such as 1 or 0.5" }).positive().max(512).default(1).describe("CPUs per participant (a limit, not a reservation)."),
    memory: size("sandbox.memory").default(2048).describe('Memory per participant ("2GiB", "512MiB" or a number of MiB); no swap beyond it.'),
    auth: z.enum(["password", "none"], { error: 'sandbox.auth must be "password" or "none"' }).default("password").describe('"password": one random password per participant; "none": no login (loopback-only events).'),
    passwordLength: z.number().int().min(16, { error: "passwords shorter than 16 characters are guessable; use 16 or more" }).max(128).default(24).describe("Length of each generated password (16 to 128)."),
    env: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "environment variable names are letters, digits and '_'" }),
        z.union([z.string(), z.number(), z.boolean()]).transform(String),
      )
      .default({})
      .describe("Extra environment variables for every sandbox."),
    vscodeSettings: z.string().min(1).optional().describe("A VS Code settings file (JSON with comments), relative to thon.yaml."),
    settings: z.record(z.string(), z.unknown()).default({}).describe("VS Code settings written inline; they win over the file."),
    extensions: z
      .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]*\.[A-Za-z0-9][A-Za-z0-9.-]*(@[0-9A-Za-z.+-]+)?$/, {
        error: 'extensions are written "publisher.name" (e.g. "ms-python.python")',
      }))
      .default([])
      .describe('Extensions ("publisher.name", optionally "@version") installed in the background at a container\'s first start, from the image\'s marketplace.'),
    restart: z.enum(["no", "on-failure", "always", "unless-stopped"]).default("unless-stopped").describe("The containers' Docker restart policy."),
    network: z.string().min(1).optional().describe('Unset: the event\'s own network (thon-net-<event>, no traffic between sandboxes); "none" (isolated) or a Docker network you created.'),
    user: z.string().regex(/^\d+(:\d+)?$/, { error: 'sandbox.user must be "uid:gid" in numbers, e.g. "1000:1000"' }).default("1000:1000").describe('The user the container runs as ("uid:gid"); must own /workspace in the image.'),
    state: runState.default("running").describe("Default run state of every sandbox; groups and users may override it."),
    // --- limits, egress and toolchain (issue 17; docs/sandbox.md)
    pidsLimit: z.number({ error: "sandbox.pidsLimit must be a number of processes such as 1024" }).int().min(64, { error: "sandbox.pidsLimit below 64 starves code-server itself; use 256 or more" }).max(1_000_000).default(1024).describe("Most processes and threads one sandbox may run: a fork bomb stays inside."),
    nofile: z.number({ error: "sandbox.nofile must be a number of open files such as 16384" }).int().min(1024).max(1_048_576).default(16384).describe("Open files per process (soft and hard nofile ulimit); at most dockerd's own hard limit (sandboxes cannot raise it)."),
    workspaceSize: size("sandbox.workspaceSize").optional().describe("Size limit of each workspace volume; needs /var/lib/docker on xfs mounted with pquota (`thon doctor` checks)."),
    egress: z
      .union([
        z.enum(["internet", "none"]),
        z.array(z.string().refine(isCidr, { error: 'sandbox.egress entries are IPv4 addresses or CIDRs such as "203.0.113.7" or "198.51.100.0/24"' })).min(1),
      ], { error: 'sandbox.egress must be "internet", "none" or a list of addresses/CIDRs' })
      .default("internet")
      .describe('What sandboxes may reach: "internet" (no metadata address, no private ranges), "none", or a list of addresses/CIDRs.'),
    packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, { error: "sandbox.packages entries are Debian package names such as \"postgresql-client\"" })).default([]).describe("More Debian packages for the image (built on top of it, once per event)."),
  })
  .strict();

/** An IPv4 address or CIDR (egress rules are IPv4: Docker networks here have no IPv6). */
export function isCidr(value: string): boolean {
  const [ip, bits, ...rest] = value.split("/");
  if (rest.length > 0 || ip === undefined || isIP(ip) !== 4) return false;
  return bits === undefined || (/^\d{1,2}$/.test(bits) && Number(bits) <= 32);
}

/** What a group may change for its own sandboxes (`groups.<g>.sandbox`): a data-science track, a web track. */
export const groupSandboxSchema = z
  .object({
    image: z.string().min(1).optional().describe("This group's image instead of sandbox.image."),
    extensions: sandboxSchema.shape.extensions.unwrap().optional().describe("This group's extensions instead of sandbox.extensions."),
    env: sandboxSchema.shape.env.unwrap().optional().describe("Environment variables merged over sandbox.env."),
    memory: size("groups.<group>.sandbox.memory").optional().describe("This group's memory limit instead of sandbox.memory."),
    cpus: z.number({ error: "cpus must be a number of CPUs such as 1 or 0.5" }).positive().max(512).optional().describe("This group's CPU limit instead of sandbox.cpus."),
    settings: z.record(z.string(), z.unknown()).optional().describe("VS Code settings merged over the event's."),
  })
  .strict();

export const workspaceSchema = z.discriminatedUnion(
  "mode",
  [
    z.object({ mode: z.literal("volume") }).strict().describe("a Docker volume per participant, kept on removal and on `pulumi destroy`."),
    z.object({ mode: z.literal("bind"), hostDir: absolutePath("workspace.hostDir").describe("The host folder holding one folder per participant (<hostDir>/<user>).") }).strict().describe("a folder per participant under hostDir."),
    z.object({ mode: z.literal("ephemeral") }).strict().describe("nothing kept: the workspace goes with the container."),
  ],
  { error: 'workspace.mode must be "volume", "bind" (with hostDir) or "ephemeral"' },
);

export const userEntrySchema = z.union(
  [
    participantName,
    z
      .object({
        name: participantName,
        state: runState.optional().describe("This participant's run state; wins over the group's."),
        host: nodeName("host").optional().describe("target.kind swarm: the node this participant runs on (a name from target.nodes); wins over the group's host."),
      })
      .strict(),
  ],
  { error: `a user is a name (${NAME_RULE}) or { name, state, host }` },
).describe("A participant: a name, or { name, state, host }.");

export const groupSchema = z
  .object({
    state: runState.optional().describe("The group's run state; wins over sandbox.state."),
    host: nodeName("host").optional().describe("target.kind swarm: the node this group's participants run on (a name from target.nodes), unless their own entry says otherwise."),
    users: z.array(userEntrySchema, { error: "users must be a list of names" }).default([]).describe(`The group's participants; names are ${NAME_RULE}, unique across groups.`),
    sandbox: groupSandboxSchema.optional().describe("This group's template: overrides of sandbox.* for its participants only."),
  })
  .strict();

export const tlsSchema = z
  .object({
    mode: z.enum(["ca", "selfsigned", "provided"], { error: 'tls.mode must be "ca", "selfsigned" or "provided"' }).default("ca").describe('"ca": an event CA and a server certificate it signs; "selfsigned": one self-signed certificate; "provided": existing files (certFile, keyFile).'),
    algorithm: z.enum(["ECDSA", "RSA"]).default("ECDSA").describe("Key algorithm of the CA and server keys."),
    ecdsaCurve: z.enum(["P256", "P384"]).default("P256").describe("The curve, with algorithm ECDSA."),
    rsaBits: z.union([z.literal(2048), z.literal(3072), z.literal(4096)], { error: "tls.rsaBits must be 2048, 3072 or 4096" }).default(3072).describe("The key size, with algorithm RSA."),
    validityDays: z.number().int().positive().default(90).describe("Lifetime of the server certificate, in days; re-issued by a `pulumi up` in the last third of its life."),
    caValidityDays: z.number().int().positive().default(365).describe("Lifetime of the event CA, in days (mode ca)."),
    maxValidityDays: z.number().int().positive().default(397).describe("The longest certificate lifetime the policy pack accepts, in days."),
    organization: z.string().min(1).default("THON").describe("The certificates' organization (O)."),
    certFile: absolutePath("tls.certFile").optional().describe("Mode provided: the certificate chain on the host (e.g. from an ACME client)."),
    keyFile: absolutePath("tls.keyFile").optional().describe("Mode provided: the certificate's key on the host."),
  })
  .strict();

export const proxySchema = z
  .object({
    mode: z.enum(["host"]).default("host").describe('"host": the host\'s nginx, the only proxy THON has.'),
    httpsPort: z.number().int().min(1).max(65535).default(443).describe("The HTTPS port participants connect to."),
    httpPort: z.number().int().min(0).max(65535).default(80).describe("Port of the redirect to HTTPS; 0 turns it off."),
    listenAddress: z
      .string()
      .refine((a) => isIP(a) !== 0, { error: "proxy.listenAddress must be an IP address such as 192.0.2.10 or ::1 (not a name)" })
      .optional()
      .describe("The one address nginx listens on (e.g. 127.0.0.1); unset: every IPv4 address."),
    configDir: absolutePath("proxy.configDir").default("/etc/nginx/thon").describe("Where nginx's files go: one file per participant (locations, upstreams) and the certificates."),
    includeDir: absolutePath("proxy.includeDir").default("/etc/nginx/conf.d").describe("The folder nginx includes server files from (the host's conf.d); the event's server file goes here."),
    socketDir: absolutePath("proxy.socketDir").default("/var/lib/thon/sockets").describe("Parent of the per-participant socket folders; persistent, so sandboxes come back after a reboot."),
    socketGroup: z
      .string()
      // A group name as groupadd accepts it (or a numeric gid): it goes into `install -g` and chown.
      .regex(/^([A-Za-z_][A-Za-z0-9_.-]{0,31}|[0-9]+)$/, {
        error: 'proxy.socketGroup must be a group name such as "www-data" (letters, digits, _ . -; at most 32 characters) or a numeric gid',
      })
      .default("www-data").describe("The group nginx's workers run in (www-data on Debian, nginx on Fedora/RHEL); it alone may connect to the sandboxes' sockets."),
    clientMaxBodySize: z.string().regex(/^\d+[kKmMgG]?$/, { error: 'proxy.clientMaxBodySize is an nginx size such as "100m"' }).default("100m").describe("nginx's client_max_body_size: the largest upload through the proxy."),
    nginx: z.string().min(1).default("nginx").describe('The nginx command, options included (e.g. "nginx -c /etc/nginx/nginx.conf"); used for -t and -s reload.'),
    accessLog: absolutePath("proxy.accessLog").optional().describe("nginx's access log for the event (buffered); unset: /var/log/nginx/thon-<event>.access.log."),
  })
  .strict();

// --- lemonade and gateway (issue 5). Facts behind the defaults: infra/lemonade/facts.ts,
// infra/apisix/versions.ts and docs/llm.md.
const modelName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
  error: "a model name is letters, digits, '.', '_' and '-' (THON registers it as user.<name>)",
});
const ggufCheckpoint = z.string().regex(/^[^\s:]+\/[^\s:]+(:[^\s:]+)?$/, {
  error: 'a checkpoint is "<hugging face repo>:<variant>", e.g. "unsloth/gemma-4-31B-it-GGUF:Q8_K_XL"',
});

/** What every model Lemonade serves has: its name, its GGUF and its context per participant. */
const modelFields = {
  name: modelName.describe("The model's name; THON registers it in Lemonade as user.<name>."),
  checkpoint: ggufCheckpoint.describe('The GGUF: "<hugging face repo>:<variant>".'),
  recipe: z.string().min(1).default("llamacpp").describe("Lemonade's recipe for the model."),
  ctxPerUser: z.number().int().positive().describe("Context per parallel slot (the original's per-user context)."),
  maxCtxSize: z.number().int().positive().optional().describe("Upper bound for the model's whole context (ctxPerUser x slots); the KV cache must fit memory."),
};

const chatModelSchema = z
  .object({
    ...modelFields,
    outputTokens: z.number().int().positive().default(8192).describe("Kilo's limit.output for this model."),
  })
  .strict();

const embeddingModelSchema = z
  .object({
    ...modelFields,
    dimension: z.number().int().positive().describe("Vector size; Kilo cannot look it up for an openai-compatible model and refuses to index without it."),
  })
  .strict();

const lemonadePathsDefault = { ...LEMONADE_DEFAULT_PATHS };

export const lemonadeSchema = z
  .object({
    enabled: z.boolean().default(false).describe("Run Lemonade Server (lemond) on the event host for every sandbox."),
    version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, { error: 'lemonade.version is a release such as "11.7"' }).default("11.7").describe("The Lemonade Server release on the host (10.1 or later): decides the unit name and the reserved llama.cpp flags."),
    host: z.string().min(1).optional().describe("Address lemond listens on. Unset: 127.0.0.1 when the gateway is on and runs on Lemonade's node (only APISIX talks to it), else 0.0.0.0 (sandboxes, or APISIX on another swarm node, reach it; Lemonade's API key guards it)."),
    node: nodeName("lemonade.node").optional().describe('target.kind swarm: the node lemond runs on (the one with the GPU), a name from target.nodes; unset: the first node labelled gpu: "true", else target.entry.'),
    port: z.number().int().min(1).max(65535).default(13305).describe("The port lemond listens on."),
    apiUrl: z.url({ error: "lemonade.apiUrl must be a URL such as http://127.0.0.1:13305" }).optional().describe("Lemonade as the machine running `pulumi up` reaches it (model pull/load); unset: http://127.0.0.1:<port>."),
    chatModel: chatModelSchema.default({
      name: "gemma-4-31b-it",
      checkpoint: "unsloth/gemma-4-31B-it-GGUF:Q8_K_XL",
      recipe: "llamacpp",
      ctxPerUser: 262144,
      maxCtxSize: 1048576,
      outputTokens: 8192,
    }).describe("The chat model every sandbox's Kilo Code uses."),
    embeddingModel: z.union([z.literal(false), embeddingModelSchema]).default({
      name: "nomic-embed-text-v1.5",
      checkpoint: "nomic-ai/nomic-embed-text-v1.5-GGUF:Q8_0",
      recipe: "llamacpp",
      ctxPerUser: 32768,
      maxCtxSize: 262144,
      dimension: 768,
    }).describe("The embedding model for Kilo's codebase indexing (semantic search); false turns it off."),
    maxParallel: z.number().int().positive().default(16).describe("Upper bound for parallel slots (-np) per model; more participants queue for a slot."),
    llamacppArgs: z.array(z.string().regex(/^\S+$/, { error: "one flag or value per item, without spaces: [\"-t\", \"8\"]" })).default([]).describe('Extra llama-server flags, one token per item (["--flash-attn", "on"]); Lemonade\'s own flags are refused.'),
    backend: z.string().min(1).default("auto").describe("llamacpp.backend: auto, vulkan, rocm, cpu, ..."),
    user: z.string().min(1).default("lemonade").describe('The account lemond runs as (the package creates "lemonade"); owns the cache folder.'),
    startTimeoutSeconds: z.number().int().positive().default(180).describe("How long THON waits for lemond to answer after (re)starting it."),
    pullTimeoutMinutes: z.number().int().positive().default(240).describe("How long one model download may take."),
    kilo: z
      .object({
        indexing: z.boolean().default(true).describe("Configure codebase indexing with the embedding model (participants still switch it on per project)."),
        bash: z.enum(["ask", "allow", "deny"]).default("ask").describe('permission.bash: Kilo asks before running shell commands ("ask"), does not ("allow"), or never runs them ("deny").'),
      })
      .strict()
      .default({ indexing: true, bash: "ask" })
      .describe("What THON puts into each participant's Kilo Code config."),
    paths: z
      .object({
        unitDir: absolutePath("lemonade.paths.unitDir").default(lemonadePathsDefault.unitDir).describe("Where THON writes lemond's systemd unit."),
        cacheDir: absolutePath("lemonade.paths.cacheDir").default(lemonadePathsDefault.cacheDir).describe("LEMONADE_CACHE_DIR: config.json, user_models.json and recipe_options.json live here."),
        envFile: absolutePath("lemonade.paths.envFile").default(lemonadePathsDefault.envFile).describe("The keys (mode 0600, read by systemd as root)."),
        systemctl: z.string().min(1).default(lemonadePathsDefault.systemctl).describe("The systemctl command."),
        lemond: absolutePath("lemonade.paths.lemond").default(lemonadePathsDefault.lemond).describe("The lemond binary the unit runs."),
      })
      .strict()
      .default(lemonadePathsDefault)
      .describe("Where Lemonade's files and commands are on the host."),
  })
  .strict();

export const gatewaySchema = z
  .object({
    enabled: z.boolean().default(false).describe("Put Apache APISIX in front of Lemonade, with one key and one token budget per participant (or group)."),
    apisixVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/, { error: 'gateway.apisixVersion is a version such as "3.15"' }).default("3.15").describe("The APISIX release the routes are written for; settings it would ignore are refused."),
    adminUrl: z.url({ error: "gateway.adminUrl must be a URL such as http://127.0.0.1:9180" }).default("http://127.0.0.1:9180").describe("The Admin API as the machine running `pulumi up` reaches it; its key comes from the thon:apisixAdminKey secret or APISIX_ADMIN_KEY."),
    port: z.number().int().min(1).max(65535).default(9080).describe("The gateway's proxy port as the sandboxes reach it (host.docker.internal:<port>; on a swarm, the gateway node's address)."),
    node: nodeName("gateway.node").optional().describe("target.kind swarm: the node APISIX runs on (the organizer's; THON only configures it), a name from target.nodes; unset: Lemonade's node. Sandboxes reach it at that node's address."),
    lemonadeUrl: z.url({ error: "gateway.lemonadeUrl must be a URL such as http://127.0.0.1:13305" }).optional().describe("Lemonade as APISIX reaches it; unset: http://127.0.0.1:<lemonade.port>, or on a swarm with APISIX on another node than Lemonade, http://<Lemonade node's address>:<lemonade.port>."),
    mode: z.enum(["per-user", "per-group"], { error: 'gateway.mode must be "per-user" or "per-group"' }).default("per-user").describe('"per-user": one key and budget per participant; "per-group": one per group.'),
    limit: z
      .union([
        z.literal(false),
        z
          .object({
            tokens: z.number().int().positive().default(100000).describe("Tokens per participant per window (per-group: times the group's size)."),
            windowSeconds: z.number().int().positive().default(3600).describe("The window, in seconds."),
          })
          .strict(),
      ])
      .default({ tokens: 100000, windowSeconds: 3600 })
      .describe("The token budget (ai-rate-limiting); false: no limit."),
    redis: z
      .object({
        host: z.string().min(2).describe("The Redis host APISIX reaches."),
        port: z.number().int().min(1).max(65535).default(6379).describe("The Redis port."),
        database: z.number().int().min(0).default(0).describe("The Redis database."),
      })
      .strict()
      .optional()
      .describe("Shared rate-limit counters in Redis (APISIX 3.18 and later)."),
  })
  .strict();

// --- idle parking (issue 16). The policy only: "keep awake until" is runtime
// state (console data), never thon.yaml. Design: docs/idle.md.
/** A duration such as "45m", "2h" or "1h30m"; parsed to seconds. */
const duration = (what: string) =>
  z.string({ error: `${what} must be a duration such as "45m", "2h" or "1h30m"` }).transform((value, ctx) => {
    const seconds = parseDuration(value);
    if (seconds === undefined) {
      ctx.addIssue({ code: "custom", message: `${what} must be a duration such as "45m", "2h" or "1h30m" (units s, m, h, d)` });
      return z.NEVER;
    }
    return seconds;
  });

export const idleSchema = z
  .object({
    enabled: z.boolean().default(false).describe("Park idle sandboxes (stop them, keeping the workspace) and wake them on their owner's next visit. Off by default."),
    parkAfter: duration("idle.parkAfter").prefault("90m").describe('How long a sandbox may go without any sign of use (no open connection, no LLM call, no CPU, no file change) before it is parked ("45m", "2h").'),
    graceAfterStart: duration("idle.graceAfterStart").prefault("20m").describe("A sandbox is never parked this soon after it (re)started, so a participant has time to open it."),
    warnBefore: duration("idle.warnBefore").prefault("10m").describe("Lead time of the warning before a park: from then on the participant's page and the console show the countdown."),
    parkConnectedAfter: duration("idle.parkConnectedAfter").optional().describe('Also park a sandbox whose browser tab stays connected with no other sign of use (no LLM call, CPU or file change) for this long, e.g. "4h" for tabs forgotten overnight; unset: a connected tab always keeps a sandbox awake.'),
    exempt: z.array(z.string().min(1)).default([]).describe("Groups or participants never parked (demo machines, organizers); unknown names are refused."),
    cpuBusyPercent: z.number({ error: "idle.cpuBusyPercent must be a number of percent, such as 5" }).positive().max(10000).default(5).describe("CPU use (percent of one core) above which a sandbox counts as busy (a build or a training run keeps it awake)."),
    wakeConcurrency: z.number().int().min(1).max(64).default(4).describe("How many sandboxes wake at once; more wake requests wait in a queue (the 9 a.m. rush)."),
    wakeTimeout: duration("idle.wakeTimeout").prefault("2m").describe("How long a wake waits for code-server to answer before it reports a failure."),
  })
  .strict();

// --- Docker Swarm (issue 18; design: docs/swarm-placement.md).
const swarmSshSchema = z
  .object({
    user: z.string().min(1).default("root").describe("The SSH user on every node."),
    port: z.number().int().min(1).max(65535).default(22).describe("The SSH port on every node."),
    privateKeyFile: z.string().min(1).describe("Private key file on the machine running pulumi, relative to thon.yaml; read at deploy time, kept secret."),
  })
  .strict();

const swarmNodeSchema = z
  .object({
    name: nodeName("a node name").describe(`The swarm node's hostname (what \`docker node ls\` shows); ${NAME_RULE}.`),
    address: hostName.describe("The host name or IP address the edge nginx and SSH reach this node at."),
    memory: size("a node's memory", "is required: the node's memory for participants, e.g. 64GiB. Fix: add it").describe('The node\'s memory for participants ("64GiB"): placement never assigns more sandbox memory than this.'),
    labels: z
      .record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: "node label keys are letters, digits, '.', '_' and '-'" }),
        z.string({ error: "node label values are strings (quote \"true\")" }),
      )
      .default({})
      .describe("Extra swarm node labels (string to string) THON applies to this node, beside org.thon.node."),
  })
  .strict();

export const targetSchema = z.discriminatedUnion(
  "kind",
  [
    z
      .object({
        kind: z.literal("local"),
        dockerHost: z.string().min(1).default("unix:///var/run/docker.sock").describe("The Docker engine; default the local socket."),
      })
      .strict()
      .describe("this machine."),
    z
      .object({
        kind: z.literal("ssh"),
        host: hostName.describe("The event host's name or address."),
        user: z.string().min(1).default("root").describe("The SSH user."),
        port: z.number().int().min(1).max(65535).default(22).describe("The SSH port."),
        privateKeyFile: z.string().min(1).describe("Private key file on the machine running pulumi, relative to thon.yaml; read at deploy time, kept secret."),
      })
      .strict()
      .describe("a remote host: Docker over ssh://, commands over SSH."),
    z
      .object({
        kind: z.literal("swarm"),
        dockerHost: z.string().min(1).default("unix:///var/run/docker.sock").describe("The swarm manager's Docker engine (as for local); default the local socket."),
        entry: nodeName("target.entry").optional().describe("The node that runs the edge nginx (the HTTPS entry participants reach); default the first node."),
        nodePort: z.number().int().min(1).max(65535).default(8443).describe("The port each node's nginx listens on for the edge (TLS with the event's certificate)."),
        ssh: swarmSshSchema.describe("How THON reaches each node's shell (socket folders, the node's nginx): command.remote over SSH."),
        nodes: z
          .array(swarmNodeSchema, { error: "target.nodes must be a list of { name, address, memory }" })
          .min(1, { error: "target.nodes needs at least one node" })
          .describe("The swarm's nodes, each { name, address, memory, labels? }; memory is the capacity placement fills (ties go to the first name in alphabetical order)."),
      })
      .strict()
      .describe("a Docker Swarm: one service per participant, pinned to a node by a node label."),
  ],
  { error: 'target.kind must be "local", "ssh" or "swarm"' },
);

export const thonFileSchema = z
  .object({
    event: eventSchema.describe("The event: its name and where participants reach it."),
    sandbox: sandboxSchema.default(sandboxSchema.parse({})).describe("Every participant's code-server container."),
    workspace: workspaceSchema.default({ mode: "volume" }).describe("Where each participant's /workspace lives."),
    groups: z.record(groupName, groupSchema, { error: "groups maps group names to { users: [...] }" }).describe(`Group names (${NAME_RULE}) mapped to { state?, users }. A participant's run state is their own, else their group's, else sandbox.state.`),
    tls: tlsSchema.default(tlsSchema.parse({})).describe("The HTTPS entry's certificate."),
    proxy: proxySchema.default(proxySchema.parse({})).describe("The host's nginx, the one HTTPS entry."),
    lemonade: lemonadeSchema.default(lemonadeSchema.parse({})).describe("A local OpenAI-compatible LLM (Lemonade Server) for every sandbox."),
    gateway: gatewaySchema.default(gatewaySchema.parse({})).describe("The APISIX AI gateway in front of Lemonade."),
    target: targetSchema.default({ kind: "local", dockerHost: "unix:///var/run/docker.sock" }).describe("Where things run: this machine, a host over SSH, or a Docker Swarm."),
    console: z
      .object({
        changes: z.enum(["apply", "propose"], { error: 'console.changes must be "apply" or "propose"' }).default("apply").describe("apply: the console applies declarative changes through Pulumi; propose: it shows the thon.yaml diff to commit (events deployed by CI from git)."),
        signIn: signInSchema.optional().describe("Who may sign in to the console and how: the organizer password (thon console passwd), GitHub, GitLab, LinkedIn or any OpenID provider with PKCE, allowlists of organizers and viewers, session expiry and sign-in rate limits. Client secrets come from the environment or a stack secret, never from this file. Reference: docs/console-auth.md."),
      })
      .strict()
      .optional()
      .describe("The organizer console (thon console)."),
    idle: idleSchema.prefault({}).describe("Parking idle sandboxes and waking them on the next visit (docs/idle.md)."),
  })
  .strict()
  .describe("thon.yaml: one hackathon event, declared. Reference: docs/thon-yaml.md.");

/** thon.yaml as written, after defaults. */
export type ThonFile = z.output<typeof thonFileSchema>;
export type RunState = z.output<typeof runState>;
export type IdlePolicy = z.output<typeof idleSchema>;
