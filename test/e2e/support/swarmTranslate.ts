// The e2e engine stand-in's Swarm rules: recorded docker.Service, Secret and
// ServiceConfig resources to Engine API requests, and command:remote:Command
// to a script run on a node. One rule per input, written after what
// terraform-provider-docker does (internal/provider/resource_docker_service_structures.go
// createServiceSpec and friends, resource_docker_secret.go, resource_docker_config.go)
// and pulumi-command's remote Command; an input or nested field without a
// rule is an UntranslatedInputError naming it. Field names are the Pulumi
// ones (@pulumi/docker 5.x types/input.d.ts: taskSpec.containerSpec.capAdds, ...);
// the output is the Engine API's ServiceSpec JSON (durations in nanoseconds,
// file modes as integers).
//
// Defaults the provider's schema fills in when the program leaves a field
// out are filled in here too (replicas 1, secret/config files 0:0 mode 0444,
// update/rollback parallelism 1, failure action pause, monitor 5s,
// order stop-first, port protocol tcp and publish mode ingress, isolation
// default, bind propagation rprivate).
import type { RecordedResource } from "../../../infra/preview/evaluate.ts";
import { bool, emptyCommand, int, labelMap, obj, objList, onlyKnown, readCommandInput, str, strList, strMap, UntranslatedInputError, where } from "./inputReaders.ts";

type Json = Record<string, unknown>;

/** How the translation resolves values that name other resources (under mocks they are mock ids). */
export interface SwarmTranslateContext {
  /** The engine's image reference for `containerSpec.image`. */
  readonly image: (value: string) => string;
  /** The real id of the Secret / ServiceConfig / Network a recorded id or name stands for. */
  readonly ref: (kind: "secret" | "config" | "network", value: string) => string;
  readonly extraLabels: Readonly<Record<string, string>>;
}

const defined = (o: Json): [string, unknown][] => Object.entries(o).filter(([, v]) => v !== undefined && v !== null);

/** Fails on unknown keys, then hands each defined key to its rule. */
function apply<D>(o: Json, rules: Record<string, (v: unknown, d: D, at: string) => void>, d: D, at: string): D {
  onlyKnown(Object.fromEntries(defined(o)), Object.keys(rules), at);
  for (const [k, v] of defined(o)) rules[k]!(v, d, `${at}.${k}`);
  return d;
}

/** Go's time.ParseDuration ("1m30s", "500ms", "0s") to nanoseconds; the provider's schema validates it, so bad text is an error here. */
export function parseGoDuration(text: string, at: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  if (text === "0") return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  if (text === "" || pos !== text.length) throw new Error(`${at}: "${text}" is not a Go duration (e.g. 10s, 1m30s)`);
  return Math.round(total);
}

const duration = (v: unknown, at: string) => parseGoDuration(str(v, at), at);
const nonNegative = (v: unknown, at: string) => {
  const n = int(v, at);
  if (n < 0) throw new Error(`${at}: must be >= 0, got ${n}`);
  return n;
};

// --- taskSpec.containerSpec ----------------------------------------------------

function mount(m: Json, at: string): Json {
  const out: Json = {};
  apply<Json>(
    m,
    {
      type: (v, d, a) => void (d.Type = str(v, a)),
      source: (v, d, a) => void (d.Source = str(v, a)),
      target: (v, d, a) => void (d.Target = str(v, a)),
      readOnly: (v, d, a) => void (d.ReadOnly = bool(v, a)),
      bindOptions: (v, d, a) => {
        const b = obj(v, a);
        onlyKnown(Object.fromEntries(defined(b)), ["propagation"], a);
        d.BindOptions = { Propagation: b.propagation === undefined ? "rprivate" : str(b.propagation, `${a}.propagation`) };
      },
      volumeOptions: (v, d, a) => {
        const vo: Json = {};
        apply<Json>(
          obj(v, a),
          {
            noCopy: (x, o, at2) => void (o.NoCopy = bool(x, at2)),
            labels: (x, o, at2) => void (o.Labels = labelMap(x, at2)),
            // The provider: driver_name and driver_options both go into DriverConfig.
            driverName: (x, o, at2) => void (o.DriverConfig = { ...(o.DriverConfig as Json | undefined), Name: str(x, at2) }),
            driverOptions: (x, o, at2) => void (o.DriverConfig = { ...(o.DriverConfig as Json | undefined), Options: strMap(x, at2) }),
          },
          vo,
          a,
        );
        d.VolumeOptions = vo;
      },
      tmpfsOptions: (v, d, a) => {
        const t: Json = {};
        apply<Json>(
          obj(v, a),
          {
            sizeBytes: (x, o, at2) => void (o.SizeBytes = int(x, at2)),
            mode: (x, o, at2) => void (o.Mode = int(x, at2)),
          },
          t,
          a,
        );
        d.TmpfsOptions = t;
      },
    },
    out,
    at,
  );
  if (out.Type === undefined || out.Target === undefined) throw new Error(`${at}: type and target are required`);
  // The provider always sets Source (an empty string when unset).
  out.Source ??= "";
  return out;
}

/** secrets[] and configs[]: a reference by id with its file target (the provider's defaults 0, 0, 0444). */
function fileReference(kind: "secret" | "config", r: Json, at: string, ctx: SwarmTranslateContext): Json {
  const idKey = kind === "secret" ? "secretId" : "configId";
  const nameKey = kind === "secret" ? "secretName" : "configName";
  const known = [idKey, nameKey, "fileName", "fileUid", "fileGid", "fileMode"];
  onlyKnown(Object.fromEntries(defined(r)), known, at);
  const id = ctx.ref(kind, str(r[idKey], `${at}.${idKey}`));
  const file = {
    Name: str(r.fileName, `${at}.fileName`),
    UID: r.fileUid === undefined ? "0" : str(r.fileUid, `${at}.fileUid`),
    GID: r.fileGid === undefined ? "0" : str(r.fileGid, `${at}.fileGid`),
    Mode: r.fileMode === undefined ? 0o444 : nonNegative(r.fileMode, `${at}.fileMode`),
  };
  const out: Json = kind === "secret" ? { SecretID: id, File: file } : { ConfigID: id, File: file };
  if (r[nameKey] !== undefined) out[kind === "secret" ? "SecretName" : "ConfigName"] = str(r[nameKey], `${at}.${nameKey}`);
  return out;
}

function containerSpec(v: unknown, at: string, ctx: SwarmTranslateContext): Json {
  const spec: Json = {};
  const rules: Record<string, (v: unknown, d: Json, at: string) => void> = {
    image: (x, d, a) => void (d.Image = ctx.image(str(x, a))),
    labels: (x, d, a) => void (d.Labels = labelMap(x, a)),
    commands: (x, d, a) => void (d.Command = strList(x, a)),
    args: (x, d, a) => void (d.Args = strList(x, a)),
    hostname: (x, d, a) => void (d.Hostname = str(x, a)),
    // The provider: a map, sent as KEY=value strings.
    env: (x, d, a) => void (d.Env = Object.entries(strMap(x, a)).map(([k, val]) => `${k}=${val}`)),
    dir: (x, d, a) => void (d.Dir = str(x, a)),
    user: (x, d, a) => void (d.User = str(x, a)),
    groups: (x, d, a) => void (d.Groups = strList(x, a)),
    privileges: (x, d, a) => {
      const p: Json = {};
      apply<Json>(
        obj(x, a),
        {
          credentialSpec: (c, o, at2) => {
            const cs = obj(c, at2);
            onlyKnown(Object.fromEntries(defined(cs)), ["file", "registry"], at2);
            // As the provider does (both keys land in File).
            o.CredentialSpec = { File: str(cs.registry ?? cs.file, at2) };
          },
          seLinuxContext: (c, o, at2) => {
            const se: Json = {};
            apply<Json>(
              obj(c, at2),
              {
                disable: (y, q, a3) => void (q.Disable = bool(y, a3)),
                user: (y, q, a3) => void (q.User = str(y, a3)),
                role: (y, q, a3) => void (q.Role = str(y, a3)),
                type: (y, q, a3) => void (q.Type = str(y, a3)),
                level: (y, q, a3) => void (q.Level = str(y, a3)),
              },
              se,
              at2,
            );
            o.SELinuxContext = se;
          },
        },
        p,
        a,
      );
      d.Privileges = p;
    },
    readOnly: (x, d, a) => void (d.ReadOnly = bool(x, a)),
    mounts: (x, d, a) => void (d.Mounts = objList(x, a).map((m, i) => mount(m, `${a}[${i}]`))),
    stopSignal: (x, d, a) => void (d.StopSignal = str(x, a)),
    stopGracePeriod: (x, d, a) => void (d.StopGracePeriod = duration(x, a)),
    healthcheck: (x, d, a) => {
      // The provider's defaults: interval, timeout, start period 0s; retries 0.
      const h: Json = { Interval: 0, Timeout: 0, StartPeriod: 0, Retries: 0 };
      apply<Json>(
        obj(x, a),
        {
          tests: (y, o, at2) => void (o.Test = strList(y, at2)),
          interval: (y, o, at2) => void (o.Interval = duration(y, at2)),
          timeout: (y, o, at2) => void (o.Timeout = duration(y, at2)),
          startPeriod: (y, o, at2) => void (o.StartPeriod = duration(y, at2)),
          retries: (y, o, at2) => void (o.Retries = int(y, at2)),
        },
        h,
        a,
      );
      d.Healthcheck = h;
    },
    // The provider: "ip hostname" (space, ip first), unlike the container's host:ip.
    hosts: (x, d, a) =>
      void (d.Hosts = objList(x, a).map((h, i) => {
        onlyKnown(Object.fromEntries(defined(h)), ["host", "ip"], `${a}[${i}]`);
        return `${str(h.ip, `${a}[${i}].ip`)} ${str(h.host, `${a}[${i}].host`)}`;
      })),
    dnsConfig: (x, d, a) => {
      const dns: Json = {};
      apply<Json>(
        obj(x, a),
        {
          nameservers: (y, o, at2) => void (o.Nameservers = strList(y, at2)),
          searches: (y, o, at2) => void (o.Search = strList(y, at2)),
          options: (y, o, at2) => void (o.Options = strList(y, at2)),
        },
        dns,
        a,
      );
      d.DNSConfig = dns;
    },
    secrets: (x, d, a) => void (d.Secrets = objList(x, a).map((s, i) => fileReference("secret", s, `${a}[${i}]`, ctx))),
    configs: (x, d, a) => void (d.Configs = objList(x, a).map((c, i) => fileReference("config", c, `${a}[${i}]`, ctx))),
    isolation: (x, d, a) => void (d.Isolation = str(x, a)),
    sysctl: (x, d, a) => void (d.Sysctls = strMap(x, a)),
    capAdds: (x, d, a) => void (d.CapabilityAdd = strList(x, a)),
    capDrops: (x, d, a) => void (d.CapabilityDrop = strList(x, a)),
    init: (x, d, a) => void (d.Init = bool(x, a)),
  };
  apply(obj(v, at), rules, spec, at);
  spec.Isolation ??= "default";
  if (spec.Image === undefined) throw new Error(`${at}: image is required`);
  return spec;
}

// --- taskSpec ------------------------------------------------------------------

function resources(v: unknown, at: string): Json {
  const limitsOf = (x: unknown, a: string, extra: Record<string, (v: unknown, d: Json, at: string) => void> = {}) =>
    apply<Json>(
      obj(x, a),
      {
        nanoCpus: (y, o, at2) => void (o.NanoCPUs = nonNegative(y, at2)),
        memoryBytes: (y, o, at2) => void (o.MemoryBytes = nonNegative(y, at2)),
        ...extra,
      },
      {},
      a,
    );
  const genericResources = (y: unknown, a: string): Json[] => {
    const g = obj(y, a);
    onlyKnown(Object.fromEntries(defined(g)), ["namedResourcesSpecs", "discreteResourcesSpecs"], a);
    const kv = (s: string, at2: string) => {
      const i = s.indexOf("=");
      if (i <= 0) throw new Error(`${at2}: "${s}" is not kind=value`);
      return [s.slice(0, i), s.slice(i + 1)] as const;
    };
    return [
      ...(g.namedResourcesSpecs === undefined ? [] : strList(g.namedResourcesSpecs, `${a}.namedResourcesSpecs`)).map((s, i) => {
        const [Kind, Value] = kv(s, `${a}.namedResourcesSpecs[${i}]`);
        return { NamedResourceSpec: { Kind, Value } };
      }),
      ...(g.discreteResourcesSpecs === undefined ? [] : strList(g.discreteResourcesSpecs, `${a}.discreteResourcesSpecs`)).map((s, i) => {
        const [Kind, Value] = kv(s, `${a}.discreteResourcesSpecs[${i}]`);
        return { DiscreteResourceSpec: { Kind, Value: Number(Value) } };
      }),
    ];
  };
  return apply<Json>(
    obj(v, at),
    {
      limits: (x, d, a) => void (d.Limits = limitsOf(x, a)),
      reservation: (x, d, a) => void (d.Reservations = limitsOf(x, a, { genericResources: (y, o, at2) => void (o.GenericResources = genericResources(y, at2)) })),
    },
    {},
    at,
  );
}

function taskSpec(v: unknown, at: string, ctx: SwarmTranslateContext): Json {
  return apply<Json>(
    obj(v, at),
    {
      containerSpec: (x, d, a) => void (d.ContainerSpec = containerSpec(x, a, ctx)),
      resources: (x, d, a) => void (d.Resources = resources(x, a)),
      restartPolicy: (x, d, a) =>
        void (d.RestartPolicy = apply<Json>(
          obj(x, a),
          {
            condition: (y, o, at2) => void (o.Condition = str(y, at2)),
            delay: (y, o, at2) => void (o.Delay = duration(y, at2)),
            maxAttempts: (y, o, at2) => void (o.MaxAttempts = nonNegative(y, at2)),
            window: (y, o, at2) => void (o.Window = duration(y, at2)),
          },
          {},
          a,
        )),
      placement: (x, d, a) =>
        void (d.Placement = apply<Json>(
          obj(x, a),
          {
            constraints: (y, o, at2) => void (o.Constraints = strList(y, at2)),
            prefs: (y, o, at2) => void (o.Preferences = strList(y, at2).map((s) => ({ Spread: { SpreadDescriptor: s } }))),
            platforms: (y, o, at2) =>
              void (o.Platforms = objList(y, at2).map((p, i) => {
                onlyKnown(Object.fromEntries(defined(p)), ["architecture", "os"], `${at2}[${i}]`);
                return { Architecture: str(p.architecture, `${at2}[${i}].architecture`), OS: str(p.os, `${at2}[${i}].os`) };
              })),
            maxReplicas: (y, o, at2) => void (o.MaxReplicas = nonNegative(y, at2)),
          },
          {},
          a,
        )),
      forceUpdate: (x, d, a) => void (d.ForceUpdate = nonNegative(x, a)),
      runtime: (x, d, a) => void (d.Runtime = str(x, a)),
      networksAdvanceds: (x, d, a) =>
        void (d.Networks = objList(x, a).map((n, i) => {
          const here = `${a}[${i}]`;
          onlyKnown(Object.fromEntries(defined(n)), ["id", "name", "aliases", "driverOpts"], here);
          // The provider: the id when set, else the name.
          const target = n.id !== undefined && n.id !== "" ? str(n.id, `${here}.id`) : n.name !== undefined && n.name !== "" ? str(n.name, `${here}.name`) : undefined;
          if (target === undefined) throw new Error(`${here}: network 'name' or 'id' must be specified`);
          const out: Json = { Target: ctx.ref("network", target), Aliases: n.aliases === undefined ? [] : strList(n.aliases, `${here}.aliases`) };
          // driver_opts: a set of "key=value" strings.
          if (n.driverOpts !== undefined) {
            out.DriverOpts = Object.fromEntries(
              strList(n.driverOpts, `${here}.driverOpts`).map((s) => {
                const j = s.indexOf("=");
                return j < 0 ? [s, ""] : [s.slice(0, j), s.slice(j + 1)];
              }),
            );
          }
          return out;
        })),
      logDriver: (x, d, a) =>
        void (d.LogDriver = apply<Json>(
          obj(x, a),
          {
            name: (y, o, at2) => void (o.Name = str(y, at2)),
            options: (y, o, at2) => void (o.Options = strMap(y, at2)),
          },
          {},
          a,
        )),
    },
    {},
    at,
  );
}

// --- the service ------------------------------------------------------------------

function updateOrRollback(v: unknown, at: string): Json {
  // The provider's schema defaults, then what the program sets.
  const d: Json = { Parallelism: 1, Delay: 0, FailureAction: "pause", Monitor: 5e9, MaxFailureRatio: 0, Order: "stop-first" };
  return apply<Json>(
    obj(v, at),
    {
      parallelism: (x, o, a) => void (o.Parallelism = nonNegative(x, a)),
      delay: (x, o, a) => void (o.Delay = duration(x, a)),
      failureAction: (x, o, a) => void (o.FailureAction = str(x, a)),
      monitor: (x, o, a) => void (o.Monitor = duration(x, a)),
      maxFailureRatio: (x, o, a) => {
        const ratio = Number(str(x, a));
        if (!Number.isFinite(ratio)) throw new Error(`${a}: "${String(x)}" is not a number`);
        o.MaxFailureRatio = ratio;
      },
      order: (x, o, a) => void (o.Order = str(x, a)),
    },
    d,
    at,
  );
}

export interface ServiceRequest {
  readonly name: string;
  /** Body of POST /services/create, and of POST /services/{id}/update?version=… */
  readonly spec: Json;
  /** convergeConfig: wait for the tasks to run after create/update (the provider's converge), ms; undefined: no wait. */
  readonly converge: { readonly delayMs: number; readonly timeoutMs: number } | undefined;
}

/** The ServiceSpec the Docker provider builds for one recorded docker.Service (createServiceSpec). */
export function translateService(r: RecordedResource, ctx: SwarmTranslateContext): ServiceRequest {
  const at = where(r);
  const spec: Json = { TaskTemplate: {} };
  let converge: ServiceRequest["converge"];
  apply<Json>(
    r.inputs,
    {
      name: (v, d, a) => void (d.Name = str(v, a)),
      labels: (v, d, a) => void (d.Labels = labelMap(v, a)),
      taskSpec: (v, d, a) => void (d.TaskTemplate = taskSpec(v, a, ctx)),
      mode: (v, d, a) => {
        const m = obj(v, a);
        onlyKnown(Object.fromEntries(defined(m)), ["replicated", "global"], a);
        if (m.global === true && m.replicated !== undefined) throw new Error(`${a}: global conflicts with replicated`);
        if (m.global !== undefined && bool(m.global, `${a}.global`)) d.Mode = { Global: {} };
        else if (m.replicated !== undefined) {
          const rep = obj(m.replicated, `${a}.replicated`);
          onlyKnown(Object.fromEntries(defined(rep)), ["replicas"], `${a}.replicated`);
          d.Mode = { Replicated: { Replicas: rep.replicas === undefined ? 1 : nonNegative(rep.replicas, `${a}.replicated.replicas`) } };
        } else d.Mode = {};
      },
      updateConfig: (v, d, a) => void (d.UpdateConfig = updateOrRollback(v, a)),
      rollbackConfig: (v, d, a) => void (d.RollbackConfig = updateOrRollback(v, a)),
      endpointSpec: (v, d, a) =>
        void (d.EndpointSpec = apply<Json>(
          obj(v, a),
          {
            mode: (x, o, at2) => {
              const mode = str(x, at2);
              if (mode !== "vip" && mode !== "dnsrr") throw new Error(`${at2}: "${mode}" is neither vip nor dnsrr`);
              o.Mode = mode;
            },
            ports: (x, o, at2) =>
              void (o.Ports = objList(x, at2).map((p, i) =>
                apply<Json>(
                  p,
                  {
                    name: (y, q, a3) => void (q.Name = str(y, a3)),
                    protocol: (y, q, a3) => void (q.Protocol = str(y, a3)),
                    targetPort: (y, q, a3) => void (q.TargetPort = int(y, a3)),
                    publishedPort: (y, q, a3) => void (q.PublishedPort = int(y, a3)),
                    publishMode: (y, q, a3) => void (q.PublishMode = str(y, a3)),
                  },
                  { Protocol: "tcp", PublishMode: "ingress" },
                  `${at2}[${i}]`,
                ),
              )),
          },
          {},
          a,
        )),
      convergeConfig: (v, _d, a) => {
        const c = obj(v, a);
        onlyKnown(Object.fromEntries(defined(c)), ["delay", "timeout"], a);
        converge = {
          delayMs: parseGoDuration(c.delay === undefined ? "7s" : str(c.delay, `${a}.delay`), `${a}.delay`) / 1e6,
          timeoutMs: parseGoDuration(c.timeout === undefined ? "3m" : str(c.timeout, `${a}.timeout`), `${a}.timeout`) / 1e6,
        };
      },
      // auth: registry credentials; no registry here, and nothing the e2e run could check.
    },
    spec,
    at,
  );
  if (typeof spec.Name !== "string") throw new Error(`${at}: no name; THON names every service (thon-<user>)`);
  if ((spec.TaskTemplate as Json).ContainerSpec === undefined) throw new Error(`${at}: taskSpec.containerSpec is required`);
  // The provider always sends an EndpointSpec (empty when unset) and the mode block.
  spec.EndpointSpec ??= {};
  spec.Mode ??= {};
  spec.Labels = { ...(spec.Labels as Record<string, string> | undefined), ...ctx.extraLabels };
  return { name: spec.Name, spec, converge };
}

// --- docker_secret, docker_config ------------------------------------------------------

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** POST /secrets/create: the provider decodes `data` (base64) and the client sends the bytes, base64 again. */
export function translateSecret(r: RecordedResource, extraLabels: Readonly<Record<string, string>>, autoName = r.name): Json {
  const body: Json = { Name: autoName };
  apply<Json>(
    r.inputs,
    {
      name: (v, d, a) => void (d.Name = str(v, a)),
      data: (v, d, a) => {
        const data = str(v, a);
        if (!BASE64.test(data) || data.length % 4 !== 0) throw new Error(`${a}: not base64 (the provider's validateStringIsBase64Encoded)`);
        d.Data = data;
      },
      labels: (v, d, a) => void (d.Labels = labelMap(v, a)),
    },
    body,
    where(r),
  );
  if (body.Data === undefined) throw new Error(`${where(r)}: data is required`);
  body.Labels = { ...(body.Labels as Record<string, string> | undefined), ...extraLabels };
  return body;
}

/** POST /configs/create: exactly one of data (base64) or dataRaw (plain text). */
export function translateServiceConfig(r: RecordedResource, extraLabels: Readonly<Record<string, string>>, autoName = r.name): Json {
  const body: Json = { Name: autoName };
  const sources: string[] = [];
  apply<Json>(
    r.inputs,
    {
      name: (v, d, a) => void (d.Name = str(v, a)),
      data: (v, d, a) => {
        const data = str(v, a);
        if (!BASE64.test(data) || data.length % 4 !== 0) throw new Error(`${a}: not base64 (the provider's validateStringIsBase64Encoded)`);
        d.Data = data;
        sources.push("data");
      },
      dataRaw: (v, d, a) => {
        d.Data = Buffer.from(str(v, a), "utf8").toString("base64");
        sources.push("dataRaw");
      },
      labels: (v, d, a) => void (d.Labels = labelMap(v, a)),
    },
    body,
    where(r),
  );
  if (sources.length !== 1) throw new Error(`${where(r)}: exactly one of data, dataRaw must be set (found ${sources.length})`);
  body.Labels = { ...(body.Labels as Record<string, string> | undefined), ...extraLabels };
  return body;
}

// --- command:remote:Command ------------------------------------------------------------

export interface RemoteCommandRequest {
  /** connection.host: the node's address (or name). */
  readonly host: string;
  readonly create: string | undefined;
  readonly update: string | undefined;
  readonly delete: string | undefined;
  readonly environment: Readonly<Record<string, string>>;
  readonly stdin: string | undefined;
  /** pulumi-command's addPreviousOutputInEnv (default true): PULUMI_COMMAND_STDOUT/STDERR for update and delete. */
  readonly addPreviousOutput: boolean;
}

/**
 * A remote Command runs its scripts on the node through SSH. The stand-in
 * enters the node's namespaces instead (as root, what `user: root` gives),
 * so it honours connection.host and the user; port must be ssh's 22 and the
 * private key must be there (nothing here checks it); the retry knobs
 * (dialErrorLimit, perDialTimeout) have nothing to retry. Any other
 * connection field (password, proxy, agentSocketPath, hostKey, ...) fails.
 */
export function translateRemoteCommand(r: RecordedResource): RemoteCommandRequest {
  const at = (k: string) => `${where(r)}: ${k}`;
  let host: string | undefined;
  let addPreviousOutput = true;
  const common = emptyCommand();
  for (const [key, value] of defined(r.inputs)) {
    if (readCommandInput(key, value, at(key), common)) continue;
    switch (key) {
      case "addPreviousOutputInEnv":
        addPreviousOutput = bool(value, at(key));
        break;
      case "connection": {
        const c = obj(value, at(key));
        for (const [k, v] of defined(c)) {
          const here = `${at(key)}.${k}`;
          if (k === "host") host = str(v, here);
          else if (k === "user") {
            if (str(v, here) !== "root") throw new Error(`${here}: "${String(v)}": the e2e stand-in runs node commands as root only`);
          } else if (k === "port") {
            if (int(v, here) !== 22) throw new Error(`${here}: ${String(v)}: the e2e stand-in reaches nodes without SSH and accepts only ssh's port 22`);
          } else if (k === "privateKey") {
            if (str(v, here).trim() === "") throw new Error(`${here}: empty`);
          } else if (k === "dialErrorLimit" || k === "perDialTimeout") int(v, here);
          else throw new UntranslatedInputError(`${where(r)}: connection`, k);
        }
        break;
      }
      default:
        throw new UntranslatedInputError(where(r), key);
    }
  }
  if (host === undefined) throw new Error(`${at("connection")}: host is required`);
  return { host, addPreviousOutput, ...common };
}
