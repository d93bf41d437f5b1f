// The shape of thon.yaml. Three layers, as in astro's config: this file holds
// the shapes (types, defaults, per-field messages), `refine.ts` the rules that
// span fields, `load.ts` the parsing and the error report. Every message says
// what to write instead, because the reader is an organizer at 8am.
import { isIP } from "node:net";
import { z } from "zod";
import { NAME_PATTERN, NAME_RULE, RESERVED_NAMES } from "./names.ts";
import { parseMiB } from "./units.ts";
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

/** A size such as "2GiB", "512MiB", "1.5g" or a number of MiB; parsed to MiB. */
const size = (what: string) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
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
      }),
    /** The host name or IP address participants type into their browser. */
    host: hostName,
    /** More names or addresses the certificate must cover. */
    altNames: z.array(hostName).default([]),
    /** The host's memory, for the capacity check of the policy pack. */
    hostMemory: size("event.hostMemory").optional(),
  })
  .strict();

export const sandboxSchema = z
  .object({
    image: z.string().min(1).default("thon-sandbox:4.100.3"),
    /** Build the image from a Dockerfile instead of pulling `image`. */
    build: z
      .object({
        context: z.string().min(1),
        dockerfile: z.string().min(1).default("Dockerfile"),
      })
      .strict()
      .optional(),
    cpus: z.number({ error: "sandbox.cpus must be a number of CPUs such as 1 or 0.5" }).positive().max(512).default(1),
    memory: size("sandbox.memory").default(2048),
    auth: z.enum(["password", "none"], { error: 'sandbox.auth must be "password" or "none"' }).default("password"),
    passwordLength: z.number().int().min(16, { error: "passwords shorter than 16 characters are guessable; use 16 or more" }).max(128).default(24),
    env: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "environment variable names are letters, digits and '_'" }),
        z.union([z.string(), z.number(), z.boolean()]).transform(String),
      )
      .default({}),
    /** A VS Code settings file (JSON with comments), relative to thon.yaml. */
    vscodeSettings: z.string().min(1).optional(),
    /** Settings written inline; they win over the file. */
    settings: z.record(z.string(), z.unknown()).default({}),
    /** Extensions installed at first start (`publisher.name`), from the image's marketplace. */
    extensions: z
      .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]*\.[A-Za-z0-9][A-Za-z0-9.-]*(@[0-9A-Za-z.+-]+)?$/, {
        error: 'extensions are written "publisher.name" (e.g. "ms-python.python")',
      }))
      .default([]),
    restart: z.enum(["no", "on-failure", "always", "unless-stopped"]).default("unless-stopped"),
    /** Unset: the event's own network (thon-net-<event>, no traffic between sandboxes); "none" (isolated) or a network you created. */
    network: z.string().min(1).optional(),
    /** The user the container runs as; must own /workspace in the image. */
    user: z.string().regex(/^\d+(:\d+)?$/, { error: 'sandbox.user must be "uid:gid" in numbers, e.g. "1000:1000"' }).default("1000:1000"),
    /** Default run state of every sandbox; groups and users may override it. */
    state: runState.default("running"),
    // --- limits, egress and toolchain (issue 17; docs/sandbox.md)
    /** Most processes and threads one sandbox may run: a fork bomb stays inside. */
    pidsLimit: z.number({ error: "sandbox.pidsLimit must be a number of processes such as 1024" }).int().min(64, { error: "sandbox.pidsLimit below 64 starves code-server itself; use 256 or more" }).max(1_000_000).default(1024),
    /** Open files per process (soft and hard nofile ulimit); at most dockerd's own hard limit (sandboxes cannot raise it). */
    nofile: z.number({ error: "sandbox.nofile must be a number of open files such as 16384" }).int().min(1024).max(1_048_576).default(16384),
    /** Size limit of each workspace volume; needs /var/lib/docker on xfs mounted with pquota (`thon doctor` checks). */
    workspaceSize: size("sandbox.workspaceSize").optional(),
    /** What sandboxes may reach: "internet" (no metadata address, no private ranges), "none", or a list of addresses/CIDRs. */
    egress: z
      .union([
        z.enum(["internet", "none"]),
        z.array(z.string().refine(isCidr, { error: 'sandbox.egress entries are IPv4 addresses or CIDRs such as "203.0.113.7" or "198.51.100.0/24"' })).min(1),
      ], { error: 'sandbox.egress must be "internet", "none" or a list of addresses/CIDRs' })
      .default("internet"),
    /** More Debian packages for the image (built on top of it, once per event). */
    packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, { error: "sandbox.packages entries are Debian package names such as \"postgresql-client\"" })).default([]),
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
    image: z.string().min(1).optional(),
    extensions: sandboxSchema.shape.extensions.unwrap().optional(),
    env: sandboxSchema.shape.env.unwrap().optional(),
    memory: size("groups.<group>.sandbox.memory").optional(),
    cpus: z.number({ error: "cpus must be a number of CPUs such as 1 or 0.5" }).positive().max(512).optional(),
    /** VS Code settings merged over the event's. */
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const workspaceSchema = z.discriminatedUnion(
  "mode",
  [
    z.object({ mode: z.literal("volume") }).strict(),
    z.object({ mode: z.literal("bind"), hostDir: absolutePath("workspace.hostDir") }).strict(),
    z.object({ mode: z.literal("ephemeral") }).strict(),
  ],
  { error: 'workspace.mode must be "volume", "bind" (with hostDir) or "ephemeral"' },
);

export const userEntrySchema = z.union(
  [
    participantName,
    z.object({ name: participantName, state: runState.optional() }).strict(),
  ],
  { error: `a user is a name (${NAME_RULE}) or { name, state }` },
);

export const groupSchema = z
  .object({
    state: runState.optional(),
    users: z.array(userEntrySchema, { error: "users must be a list of names" }).default([]),
    /** This group's template: overrides of sandbox.* for its participants only. */
    sandbox: groupSandboxSchema.optional(),
  })
  .strict();

export const tlsSchema = z
  .object({
    mode: z.enum(["ca", "selfsigned", "provided"], { error: 'tls.mode must be "ca", "selfsigned" or "provided"' }).default("ca"),
    algorithm: z.enum(["ECDSA", "RSA"]).default("ECDSA"),
    ecdsaCurve: z.enum(["P256", "P384"]).default("P256"),
    rsaBits: z.union([z.literal(2048), z.literal(3072), z.literal(4096)], { error: "tls.rsaBits must be 2048, 3072 or 4096" }).default(3072),
    /** Lifetime of the server certificate. */
    validityDays: z.number().int().positive().default(90),
    /** Lifetime of the event CA (mode ca). */
    caValidityDays: z.number().int().positive().default(365),
    /** The longest lifetime the policy pack accepts. */
    maxValidityDays: z.number().int().positive().default(397),
    organization: z.string().min(1).default("THON"),
    /** mode provided: an existing certificate chain and key on the host (e.g. from an ACME client). */
    certFile: absolutePath("tls.certFile").optional(),
    keyFile: absolutePath("tls.keyFile").optional(),
  })
  .strict();

export const proxySchema = z
  .object({
    /** "host": the host's nginx (like the original); "container": nginx run by the program. */
    mode: z.enum(["host", "container"]).default("host"),
    httpsPort: z.number().int().min(1).max(65535).default(443),
    /** Port of the redirect to HTTPS; 0 turns it off. */
    httpPort: z.number().int().min(0).max(65535).default(80),
    /** The one address nginx listens on (e.g. 127.0.0.1); default every IPv4 address. */
    listenAddress: z
      .string()
      .refine((a) => isIP(a) !== 0, { error: "proxy.listenAddress must be an IP address such as 192.0.2.10 or ::1 (not a name)" })
      .optional(),
    /** Where nginx's files go: the server file, one file per participant, certificates. */
    configDir: absolutePath("proxy.configDir").default("/etc/nginx/thon"),
    /** The folder nginx includes server files from (the host's conf.d). */
    includeDir: absolutePath("proxy.includeDir").default("/etc/nginx/conf.d"),
    /** Parent of the per-participant socket folders; persistent, so sandboxes come back after a reboot. */
    socketDir: absolutePath("proxy.socketDir").default("/var/lib/thon/sockets"),
    /** The group nginx's workers run in; it alone may connect to the sandboxes' sockets. */
    socketGroup: z.string().min(1).default("www-data"),
    clientMaxBodySize: z.string().regex(/^\d+[kKmMgG]?$/, { error: 'proxy.clientMaxBodySize is an nginx size such as "100m"' }).default("100m"),
    /** The nginx command, options included (e.g. "nginx -c /etc/nginx/nginx.conf"); used for -t and -s reload. */
    nginx: z.string().min(1).default("nginx"),
    accessLog: absolutePath("proxy.accessLog").optional(),
  })
  .strict();

// --- lemonade and gateway (issue 5). Facts behind the defaults: infra/lemonade/facts.ts,
// infra/apisix/versions.ts and the README's "Local LLM" section.
const modelName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
  error: "a model name is letters, digits, '.', '_' and '-' (THON registers it as user.<name>)",
});
const ggufCheckpoint = z.string().regex(/^[^\s:]+\/[^\s:]+(:[^\s:]+)?$/, {
  error: 'a checkpoint is "<hugging face repo>:<variant>", e.g. "unsloth/gemma-4-31B-it-GGUF:Q8_K_XL"',
});

/** What every model Lemonade serves has: its name, its GGUF and its context per participant. */
const modelFields = {
  name: modelName,
  checkpoint: ggufCheckpoint,
  recipe: z.string().min(1).default("llamacpp"),
  /** Context per parallel slot (the original's per-user context). */
  ctxPerUser: z.number().int().positive(),
  /** Upper bound for the model's whole context (ctxPerUser x slots); the KV cache must fit memory. */
  maxCtxSize: z.number().int().positive().optional(),
};

const chatModelSchema = z
  .object({
    ...modelFields,
    /** Kilo's limit.output for this model. */
    outputTokens: z.number().int().positive().default(8192),
  })
  .strict();

const embeddingModelSchema = z
  .object({
    ...modelFields,
    /** Vector size; Kilo cannot look it up for an openai-compatible model and refuses to index without it. */
    dimension: z.number().int().positive(),
  })
  .strict();

const lemonadePathsDefault = { ...LEMONADE_DEFAULT_PATHS };

export const lemonadeSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** The Lemonade Server release on the host (10.1 or later): decides the unit name and the reserved llama.cpp flags. */
    version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, { error: 'lemonade.version is a release such as "11.7"' }).default("11.7"),
    /**
     * Address lemond listens on. Unset: 127.0.0.1 when the gateway is on (only
     * APISIX talks to it), 0.0.0.0 when it is off (sandboxes reach it directly).
     */
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).default(13305),
    /** Lemonade as the machine running `pulumi up` reaches it (model pull/load). Default http://127.0.0.1:<port>. */
    apiUrl: z.url({ error: "lemonade.apiUrl must be a URL such as http://127.0.0.1:13305" }).optional(),
    chatModel: chatModelSchema.default({
      name: "gemma-4-31b-it",
      checkpoint: "unsloth/gemma-4-31B-it-GGUF:Q8_K_XL",
      recipe: "llamacpp",
      ctxPerUser: 262144,
      maxCtxSize: 1048576,
      outputTokens: 8192,
    }),
    /** For Kilo's codebase indexing (semantic search); false turns it off. */
    embeddingModel: z.union([z.literal(false), embeddingModelSchema]).default({
      name: "nomic-embed-text-v1.5",
      checkpoint: "nomic-ai/nomic-embed-text-v1.5-GGUF:Q8_0",
      recipe: "llamacpp",
      ctxPerUser: 32768,
      maxCtxSize: 262144,
      dimension: 768,
    }),
    /** Upper bound for parallel slots (-np) per model; more participants queue for a slot. */
    maxParallel: z.number().int().positive().default(16),
    /** Extra llama-server flags, one token per item (["--flash-attn", "on"]); Lemonade's own flags are refused. */
    llamacppArgs: z.array(z.string().regex(/^\S+$/, { error: "one flag or value per item, without spaces: [\"-t\", \"8\"]" })).default([]),
    /** llamacpp.backend: auto, vulkan, rocm, cpu, ... */
    backend: z.string().min(1).default("auto"),
    /** The account lemond runs as (the package creates "lemonade"); owns the cache folder. */
    user: z.string().min(1).default("lemonade"),
    /** How long THON waits for lemond to answer after (re)starting it. */
    startTimeoutSeconds: z.number().int().positive().default(180),
    /** How long one model download may take. */
    pullTimeoutMinutes: z.number().int().positive().default(240),
    /** What THON puts into each participant's Kilo Code config. */
    kilo: z
      .object({
        /** Configure codebase indexing with the embedding model (participants still switch it on per project). */
        indexing: z.boolean().default(true),
        /** permission.bash: Kilo asks before running shell commands ("ask") or does not ("allow"). */
        bash: z.enum(["ask", "allow", "deny"]).default("ask"),
      })
      .strict()
      .default({ indexing: true, bash: "ask" }),
    paths: z
      .object({
        unitDir: absolutePath("lemonade.paths.unitDir").default(lemonadePathsDefault.unitDir),
        /** LEMONADE_CACHE_DIR: config.json, user_models.json and recipe_options.json live here. */
        cacheDir: absolutePath("lemonade.paths.cacheDir").default(lemonadePathsDefault.cacheDir),
        /** The keys (mode 0600, read by systemd as root). */
        envFile: absolutePath("lemonade.paths.envFile").default(lemonadePathsDefault.envFile),
        systemctl: z.string().min(1).default(lemonadePathsDefault.systemctl),
        lemond: absolutePath("lemonade.paths.lemond").default(lemonadePathsDefault.lemond),
      })
      .strict()
      .default(lemonadePathsDefault),
  })
  .strict();

export const gatewaySchema = z
  .object({
    enabled: z.boolean().default(false),
    /** The APISIX release the routes are written for; settings it would ignore are refused. */
    apisixVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/, { error: 'gateway.apisixVersion is a version such as "3.15"' }).default("3.15"),
    /** The Admin API as the machine running `pulumi up` reaches it; its key comes from the thon:apisixAdminKey secret or APISIX_ADMIN_KEY. */
    adminUrl: z.url({ error: "gateway.adminUrl must be a URL such as http://127.0.0.1:9180" }).default("http://127.0.0.1:9180"),
    /** The gateway's proxy port as the sandboxes reach it (host.docker.internal:<port>). */
    port: z.number().int().min(1).max(65535).default(9080),
    /** Lemonade as APISIX reaches it. Default http://127.0.0.1:<lemonade.port>. */
    lemonadeUrl: z.url({ error: "gateway.lemonadeUrl must be a URL such as http://127.0.0.1:13305" }).optional(),
    mode: z.enum(["per-user", "per-group"], { error: 'gateway.mode must be "per-user" or "per-group"' }).default("per-user"),
    /** Tokens per participant per window (per-group: times the group's size); false: no limit. */
    limit: z
      .union([
        z.literal(false),
        z
          .object({
            tokens: z.number().int().positive().default(100000),
            windowSeconds: z.number().int().positive().default(3600),
          })
          .strict(),
      ])
      .default({ tokens: 100000, windowSeconds: 3600 }),
    redis: z
      .object({
        host: z.string().min(2),
        port: z.number().int().min(1).max(65535).default(6379),
        database: z.number().int().min(0).default(0),
      })
      .strict()
      .optional(),
  })
  .strict();

export const targetSchema = z.discriminatedUnion(
  "kind",
  [
    z
      .object({
        kind: z.literal("local"),
        /** The Docker engine; default the local socket. */
        dockerHost: z.string().min(1).default("unix:///var/run/docker.sock"),
      })
      .strict(),
    z
      .object({
        kind: z.literal("ssh"),
        host: hostName,
        user: z.string().min(1).default("root"),
        port: z.number().int().min(1).max(65535).default(22),
        /** Private key file on the machine running pulumi; read at deploy time, kept secret. */
        privateKeyFile: z.string().min(1),
      })
      .strict(),
  ],
  { error: 'target.kind must be "local" or "ssh"' },
);

export const thonFileSchema = z
  .object({
    event: eventSchema,
    sandbox: sandboxSchema.default(sandboxSchema.parse({})),
    workspace: workspaceSchema.default({ mode: "volume" }),
    groups: z.record(groupName, groupSchema, { error: "groups maps group names to { users: [...] }" }),
    tls: tlsSchema.default(tlsSchema.parse({})),
    proxy: proxySchema.default(proxySchema.parse({})),
    lemonade: lemonadeSchema.default(lemonadeSchema.parse({})),
    gateway: gatewaySchema.default(gatewaySchema.parse({})),
    target: targetSchema.default({ kind: "local", dockerHost: "unix:///var/run/docker.sock" }),
  })
  .strict();

/** thon.yaml as written, after defaults. */
export type ThonFile = z.output<typeof thonFileSchema>;
export type RunState = z.output<typeof runState>;
