// Applies what the program declares, as recorded by a mock evaluation
// (infra/preview/evaluate.ts), to a real Docker engine and a real shell: the
// e2e suite's stand-in for the Pulumi engine and its docker and command
// providers, which cannot run here.
//
// The translation is mechanical and one-to-one. Each recorded input of each
// resource goes through one entry of a table below, written after what the
// provider does with it (terraform-provider-docker's container, volume and
// image create/update/delete; pulumi-command's local Command); an input
// without an entry, or a nested field without one, is an error naming the
// resource, the input and this file. So when the program starts setting
// something new, the e2e run fails until the translation covers it, instead
// of silently testing less than the program declares.
//
// The only thing added to what the program declares: `extraLabels` (the e2e
// run id) on every container and volume, so a crashed run can be cleaned up
// by label.
import { spawn } from "node:child_process";
import type { Evaluation, RecordedResource } from "../../../infra/preview/evaluate.ts";
import { diffEvaluations, type EvaluationDiff, type ResourceChange } from "../../../infra/preview/diff.ts";
import { thonMocks } from "../../../infra/preview/providerOutputs.ts";
import { containerLogs, dockerAt, engineCall, EngineError, inspectOrAbsent, mustCall, socketPathOf, type Docker } from "./docker.ts";
import { tarOneFile, type TarFile } from "./tar.ts";
import { bool, emptyCommand, int, labelMap, obj, objList, onlyKnown, readCommandInput, str, strList, UntranslatedInputError, where } from "./inputReaders.ts";
import { translateRemoteCommand, translateSecret, translateService, translateServiceConfig, type RemoteCommandRequest, type ServiceRequest } from "./swarmTranslate.ts";

export { UntranslatedInputError };

export const TYPES = {
  provider: "pulumi:providers:docker",
  container: "docker:index/container:Container",
  volume: "docker:index/volume:Volume",
  network: "docker:index/network:Network",
  image: "docker:index/remoteImage:RemoteImage",
  command: "command:local:Command",
  remoteCommand: "command:remote:Command",
  service: "docker:index/service:Service",
  secret: "docker:index/secret:Secret",
  serviceConfig: "docker:index/serviceConfig:ServiceConfig",
  password: "random:index/randomPassword:RandomPassword",
} as const;

/** docker's opts.ParseCPUs: a decimal number of CPUs to NanoCPUs, exact or an error. */
export function parseCpus(value: string, at = "cpus"): number {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value.trim());
  if (!m) throw new Error(`${at}: "${value}" is not a number of CPUs (docker: invalid value or too precise)`);
  return Number(m[1]) * 1e9 + Number((m[2] ?? "").padEnd(9, "0"));
}

const MiB = 1024 * 1024;

// --- docker_container -----------------------------------------------------------

export interface ContainerUploadRequest {
  readonly file: string;
  /** The one file of the archive PUT /containers/{id}/archive?path=/ gets (./tar.ts). */
  readonly entry: TarFile;
}

export interface ContainerRequest {
  readonly name: string;
  /** Body of POST /containers/create?name=… */
  readonly body: { HostConfig: Record<string, unknown> } & Record<string, unknown>;
  readonly uploads: readonly ContainerUploadRequest[];
  readonly start: boolean;
  readonly mustRun: boolean;
}

interface ContainerDraft {
  name?: string;
  config: Record<string, unknown>;
  host: Record<string, unknown>;
  uploads: ContainerUploadRequest[];
  start: boolean;
  mustRun: boolean;
}

export interface TranslateContext {
  /** The engine's image reference for the container's `image` input (a RemoteImage's imageId). */
  readonly image: (value: string) => string;
  readonly extraLabels: Readonly<Record<string, string>>;
  /** Upload timestamps (seconds); fixed in tests. */
  readonly now?: number;
}

type Rule = (value: unknown, draft: ContainerDraft, at: string, ctx: TranslateContext) => void;

function upload(u: Record<string, unknown>, at: string, now: number): ContainerUploadRequest {
  onlyKnown(u, ["file", "content", "contentBase64", "executable", "permissions", "owner", "group"], at);
  const file = str(u.file, `${at}.file`);
  const sources = (["content", "contentBase64"] as const).filter((k) => u[k] !== undefined && u[k] !== "");
  // The provider: exactly one of content, content_base64, source.
  if (sources.length !== 1) throw new Error(`${at}: exactly one of content, contentBase64 must be set (found ${sources.length})`);
  const content = sources[0] === "content" ? Buffer.from(str(u.content, `${at}.content`), "utf8") : Buffer.from(str(u.contentBase64, `${at}.contentBase64`), "base64");
  // The provider: permissions (octal string) wins, else 0744 when executable, else 0644.
  const mode =
    u.permissions !== undefined
      ? Number.parseInt(str(u.permissions, `${at}.permissions`), 8)
      : u.executable === true
        ? 0o744
        : 0o644;
  if (Number.isNaN(mode)) throw new Error(`${at}.permissions: "${String(u.permissions)}" is not an octal mode`);
  // Owner and group: numeric ids go into the archive as they are; names would
  // be resolved on the machine running the provider, which this run is not.
  const id = (key: "owner" | "group"): number => {
    if (u[key] === undefined) return 0;
    const text = str(u[key], `${at}.${key}`);
    if (!/^\d+$/.test(text)) throw new Error(`${at}.${key}: "${text}" is a name; the e2e translation takes numeric ids only`);
    return Number(text);
  };
  if (!file.startsWith("/")) throw new Error(`${at}.file: "${file}" must be an absolute path in the container`);
  return { file, entry: { name: file.slice(1), content, mode, uid: id("owner"), gid: id("group"), mtime: now } };
}

const CONTAINER_RULES: Record<string, Rule> = {
  name: (v, d, at) => void (d.name = str(v, at)),
  image: (v, d, at, ctx) => void (d.config.Image = ctx.image(str(v, at))),
  command: (v, d, at) => {
    const cmd = strList(v, at);
    if (cmd.some((c) => c === "")) throw new Error(`${at}: values for command may not be empty`);
    d.config.Cmd = cmd;
  },
  user: (v, d, at) => void (d.config.User = str(v, at)),
  envs: (v, d, at) => void (d.config.Env = strList(v, at)),
  labels: (v, d, at, ctx) => void (d.config.Labels = { ...labelMap(v, at), ...ctx.extraLabels }),
  stopTimeout: (v, d, at) => void (d.config.StopTimeout = int(v, at)),
  mounts: (v, d, at) => {
    d.host.Mounts = objList(v, at).map((m, i) => {
      const here = `${at}[${i}]`;
      onlyKnown(m, ["type", "source", "target", "readOnly"], here);
      return {
        Type: str(m.type, `${here}.type`),
        Source: str(m.source, `${here}.source`),
        Target: str(m.target, `${here}.target`),
        ...(m.readOnly !== undefined ? { ReadOnly: bool(m.readOnly, `${here}.readOnly`) } : {}),
      };
    });
  },
  uploads: (v, d, at, ctx) => {
    const now = ctx.now ?? Math.floor(Date.now() / 1000);
    d.uploads = objList(v, at).map((u, i) => upload(u, `${at}[${i}]`, now));
  },
  memory: (v, d, at) => void (d.host.Memory = int(v, at) * MiB),
  // The provider: a positive value is MiB, -1 (unlimited) passes as it is.
  memorySwap: (v, d, at) => {
    const swap = int(v, at);
    d.host.MemorySwap = swap > 0 ? swap * MiB : swap;
  },
  cpus: (v, d, at) => void (d.host.NanoCpus = parseCpus(str(v, at), at)),
  restart: (v, d, at) => void (d.host.RestartPolicy = { ...(d.host.RestartPolicy as object | undefined), Name: str(v, at) }),
  maxRetryCount: (v, d, at) => void (d.host.RestartPolicy = { ...(d.host.RestartPolicy as object | undefined), MaximumRetryCount: int(v, at) }),
  networkMode: (v, d, at) => void (d.host.NetworkMode = str(v, at)),
  hosts: (v, d, at) => {
    d.host.ExtraHosts = objList(v, at).map((h, i) => {
      onlyKnown(h, ["host", "ip"], `${at}[${i}]`);
      return `${str(h.host, `${at}[${i}].host`)}:${str(h.ip, `${at}[${i}].ip`)}`;
    });
  },
  init: (v, d, at) => void (d.host.Init = bool(v, at)),
  ulimits: (v, d, at) => {
    d.host.Ulimits = objList(v, at).map((u, i) => {
      onlyKnown(u, ["name", "soft", "hard"], `${at}[${i}]`);
      return { Name: str(u.name, `${at}[${i}].name`), Soft: int(u.soft, `${at}[${i}].soft`), Hard: int(u.hard, `${at}[${i}].hard`) };
    });
  },
  securityOpts: (v, d, at) => void (d.host.SecurityOpt = strList(v, at)),
  capabilities: (v, d, at) => {
    const c = obj(v, at);
    onlyKnown(c, ["adds", "drops"], at);
    if (c.adds !== undefined) d.host.CapAdd = strList(c.adds, `${at}.adds`);
    if (c.drops !== undefined) d.host.CapDrop = strList(c.drops, `${at}.drops`);
  },
  logDriver: (v, d, at) => void (d.host.LogConfig = { ...(d.host.LogConfig as object | undefined), Type: str(v, at) }),
  logOpts: (v, d, at) => {
    const o = obj(v, at);
    d.host.LogConfig = { ...(d.host.LogConfig as object | undefined), Config: Object.fromEntries(Object.entries(o).map(([k, x]) => [k, str(x, `${at}.${k}`)])) };
  },
  start: (v, d, at) => void (d.start = bool(v, at)),
  mustRun: (v, d, at) => void (d.mustRun = bool(v, at)),
  // `wait: true` waits for a healthcheck the program does not declare.
  wait: (v, _d, at) => {
    if (bool(v, at)) throw new UntranslatedInputError(at, "wait: true");
  },
};

/** The Engine API requests the Docker provider makes for one recorded docker.Container. */
export function translateContainer(r: RecordedResource, ctx: TranslateContext): ContainerRequest {
  if (r.type !== TYPES.container) throw new Error(`${where(r)} is not a container`);
  // The provider's defaults for what the program leaves unset: start true,
  // must_run true, init false.
  const d: ContainerDraft = { config: {}, host: { Init: false }, uploads: [], start: true, mustRun: true };
  for (const [key, value] of Object.entries(r.inputs)) {
    const rule = CONTAINER_RULES[key];
    if (!rule) throw new UntranslatedInputError(where(r), key);
    rule(value, d, `${where(r)}: ${key}`, ctx);
  }
  if (!d.name) throw new Error(`${where(r)}: no name; THON names every container (thon-<user>)`);
  if (!d.config.Image) throw new Error(`${where(r)}: no image`);
  if (!d.config.Labels && Object.keys(ctx.extraLabels).length) d.config.Labels = { ...ctx.extraLabels };
  return { name: d.name, body: { ...d.config, HostConfig: d.host }, uploads: d.uploads, start: d.start, mustRun: d.mustRun };
}

// --- docker_volume, docker_remote_image, pulumi:providers:docker -----------------

export function translateVolume(r: RecordedResource, extraLabels: Readonly<Record<string, string>>): Record<string, unknown> {
  return translateNamed(r, extraLabels, { Name: r.name }, "driverOpts", "DriverOpts");
}

/** POST /networks/create for a docker_network (driver, options, labels, attachable; the provider's CheckDuplicate). */
export function translateNetwork(r: RecordedResource, extraLabels: Readonly<Record<string, string>>): Record<string, unknown> {
  // `attachable` (an overlay that plain containers may join): createOpts.Attachable.
  const { attachable, ...rest } = r.inputs;
  const body = translateNamed({ ...r, inputs: rest }, extraLabels, { Name: r.name, CheckDuplicate: true }, "options", "Options");
  if (attachable !== undefined) body.Attachable = bool(attachable, `${where(r)}: attachable`);
  return body;
}

/** A volume's or network's create body: name, driver, the driver's string options (under `optsKey`, sent as `optsField`), labels plus `extraLabels`. */
function translateNamed(
  r: RecordedResource,
  extraLabels: Readonly<Record<string, string>>,
  body: Record<string, unknown>,
  optsKey: string,
  optsField: string,
): Record<string, unknown> {
  for (const [key, value] of Object.entries(r.inputs)) {
    const at = `${where(r)}: ${key}`;
    switch (key) {
      case "name":
        body.Name = str(value, at);
        break;
      case "driver":
        body.Driver = str(value, at);
        break;
      case optsKey:
        body[optsField] = Object.fromEntries(Object.entries(obj(value, at)).map(([k, x]) => [k, str(x, `${at}.${k}`)]));
        break;
      case "labels":
        body.Labels = labelMap(value, at);
        break;
      default:
        throw new UntranslatedInputError(where(r), key);
    }
  }
  body.Labels = { ...(body.Labels as Record<string, string> | undefined), ...extraLabels };
  return body;
}

export interface ImageRequest {
  readonly name: string;
  readonly keepLocally: boolean;
}

export function translateImage(r: RecordedResource): ImageRequest {
  let name: string | undefined;
  let keepLocally = false;
  for (const [key, value] of Object.entries(r.inputs)) {
    if (key === "name") name = str(value, `${where(r)}: name`);
    else if (key === "keepLocally") keepLocally = bool(value, `${where(r)}: keepLocally`);
    // `build` would run `docker build`; the e2e run uses an image built beforehand.
    else throw new UntranslatedInputError(where(r), key);
  }
  if (!name) throw new Error(`${where(r)}: no name`);
  return { name, keepLocally };
}

export function translateProvider(r: RecordedResource): { socketPath: string } {
  for (const key of Object.keys(r.inputs)) if (key !== "host") throw new UntranslatedInputError(where(r), key);
  return { socketPath: socketPathOf(str(r.inputs.host, `${where(r)}: host`)) };
}

// --- command:local:Command ---------------------------------------------------------

export interface CommandRequest {
  readonly interpreter: readonly string[];
  readonly create: string | undefined;
  readonly update: string | undefined;
  readonly delete: string | undefined;
  readonly environment: Readonly<Record<string, string>>;
  readonly stdin: string | undefined;
}

export function translateCommand(r: RecordedResource): CommandRequest {
  const at = (k: string) => `${where(r)}: ${k}`;
  let interpreter = ["/bin/sh", "-c"]; // pulumi-command's default on Linux
  const common = emptyCommand();
  for (const [key, value] of Object.entries(r.inputs)) {
    if (readCommandInput(key, value, at(key), common)) continue;
    if (key === "interpreter") interpreter = strList(value, at(key));
    else throw new UntranslatedInputError(where(r), key);
  }
  return { interpreter, ...common };
}

/**
 * Resources whose provider computes values and touches no host (passwords,
 * keys, certificates): nothing to apply. Their values come from the mocks the
 * evaluation used (real keys and certificates for tls: test/support/tlsStandIn.ts) and
 * reach the host only through other resources' inputs (a container's env, a
 * command's stdin), which are translated like everything else.
 */
export function isStateOnly(type: string): boolean {
  return type === TYPES.password || type.startsWith("tls:index/");
}

// --- applying ----------------------------------------------------------------------

export interface EngineOptions {
  /** Added to every container and volume created here (the e2e run id, for cleanup by label). */
  readonly extraLabels: Readonly<Record<string, string>>;
  /** Bound for each command, ms (default 120 s). */
  readonly commandTimeoutMs?: number;
  /** How long a container with mustRun may take to be running, ms (the provider: 15 s). */
  readonly mustRunTimeoutMs?: number;
  readonly log?: (line: string) => void;
  /** Where command:remote:Command scripts run: the swarm harness's nodes by address (swarm.ts remoteShell()). */
  readonly remote?: RemoteShell;
}

/**
 * The autoname a Secret or ServiceConfig without a `name` input gets: the one
 * the evaluation's mocks gave it (logical name and a suffix), which is what
 * the program passed on as `secret.name` to the service's reference. (Pulumi's
 * suffix is random; the mocks' follows the inputs.)
 */
function autoName(r: RecordedResource): string {
  const state = thonMocks.newResource({ type: r.type, name: r.name, inputs: r.inputs, custom: true }).state as { name?: unknown };
  return typeof state.name === "string" ? state.name : r.name;
}

/** Runs a remote Command's script on the node at `host`, as SSH would (exit code and output). */
export interface RemoteShell {
  run(host: string, script: string, opts: { env: Record<string, string>; input?: string; timeoutMs: number }): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** What the engine keeps per resource, like a Pulumi state entry. */
export interface StateEntry {
  readonly urn: string;
  readonly type: string;
  readonly record: RecordedResource;
  /** Container id, volume name, image id, command stdout. */
  readonly id: string;
  readonly stdout?: string;
  readonly stderr?: string;
}

/** One step an apply took, for the test's report. */
export interface Step {
  readonly op: "create" | "update" | "delete" | "retain";
  readonly type: string;
  readonly name: string;
  readonly ms: number;
}

function topoOrder(e: Evaluation): RecordedResource[] {
  const byUrn = new Map(e.resources.map((r) => [r.urn, r]));
  const providerUrn = (r: RecordedResource) => (r.options.provider ? r.options.provider.split("::").slice(0, -1).join("::") : undefined);
  const seen = new Set<string>();
  const out: RecordedResource[] = [];
  const visit = (r: RecordedResource, path: string[]) => {
    if (seen.has(r.urn)) return;
    if (path.includes(r.urn)) throw new Error(`dependency cycle: ${[...path, r.urn].join(" -> ")}`);
    const deps = [...r.options.dependencies, ...(providerUrn(r) ? [providerUrn(r)!] : [])];
    for (const dep of deps) {
      const d = byUrn.get(dep);
      if (d) visit(d, [...path, r.urn]);
    }
    seen.add(r.urn);
    out.push(r);
  };
  for (const r of e.resources) visit(r, []);
  return out;
}

/**
 * Applies mock evaluations to the real engine: `up` creates everything one
 * evaluation declares; `apply(before, after)` carries out the diff between
 * two (infra/preview/diff.ts decides create/update/replace/delete with the
 * providers' own replace rules), honouring deleteBeforeReplace,
 * retainOnDelete and protect, in dependency order.
 */
export class Engine {
  readonly state = new Map<string, StateEntry>();
  readonly steps: Step[] = [];
  private readonly engines = new Map<string, Docker>();
  private readonly log: (line: string) => void;

  constructor(readonly options: EngineOptions) {
    this.log = options.log ?? (() => undefined);
  }

  /** The engine of a resource's provider (from the recorded provider's `host`). */
  api(r: RecordedResource, e: Evaluation): Docker {
    const ref = r.options.provider;
    if (!ref) throw new Error(`${where(r)}: no provider; THON gives every docker resource the target's provider`);
    const urn = ref.split("::").slice(0, -1).join("::");
    const provider = e.resources.find((x) => x.urn === urn);
    if (!provider) throw new Error(`${where(r)}: provider ${urn} is not in the evaluation`);
    const { socketPath } = translateProvider(provider);
    let docker = this.engines.get(socketPath);
    if (!docker) this.engines.set(socketPath, (docker = dockerAt(socketPath)));
    return docker;
  }

  /** Creates everything `e` declares. */
  async up(e: Evaluation): Promise<void> {
    for (const r of topoOrder(e)) await this.create(r, e);
  }

  /** Carries out what changes from `before` to `after`; returns the diff it applied. */
  async apply(before: Evaluation, after: Evaluation): Promise<EvaluationDiff> {
    const diff = diffEvaluations(before, after);
    const change = new Map<string, ResourceChange>(diff.changes.map((c) => [c.urn, c]));
    const beforeByUrn = new Map(before.resources.map((r) => [r.urn, r]));
    const oldReverse = topoOrder(before).reverse();
    // 1. Replacements that must free their name first (deleteBeforeReplace), dependents first.
    for (const r of oldReverse) {
      const c = change.get(r.urn);
      const now = after.resources.find((x) => x.urn === r.urn);
      if (c?.kind === "replace" && now?.options.deleteBeforeReplace) await this.delete(r, before);
    }
    // 2. Creates, updates and the create half of other replacements, dependencies first.
    for (const r of topoOrder(after)) {
      const c = change.get(r.urn);
      if (!c) continue;
      if (c.kind === "create" || (c.kind === "replace" && r.options.deleteBeforeReplace)) await this.create(r, after);
      else if (c.kind === "update") await this.update(beforeByUrn.get(r.urn)!, r, c, after);
      else if (c.kind === "replace") {
        const old = this.state.get(r.urn);
        await this.create(r, after);
        // 3'. The old one goes after its replacement exists (create-before-delete).
        if (old) await this.deleteEntry(old, before);
      }
    }
    // 3. Deletes, dependents first.
    for (const r of oldReverse) if (change.get(r.urn)?.kind === "delete") await this.delete(r, before);
    return diff;
  }

  private timed<T>(op: Step["op"], r: RecordedResource, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    return fn().then((v) => {
      this.steps.push({ op, type: r.type, name: r.name, ms: Date.now() - t0 });
      this.log(`${op} ${r.type} ${r.name} (${Date.now() - t0} ms)`);
      return v;
    });
  }

  private imageFor(e: Evaluation) {
    // The container's `image` is the imageId output of a RemoteImage. Recompute
    // each RemoteImage's mock outputs with the very mocks the evaluation used,
    // and map the value back to the image the engine resolved for it.
    return (value: string): string => {
      for (const r of e.resources) {
        if (r.type !== TYPES.image) continue;
        const result = thonMocks.newResource({ type: r.type, name: r.name, inputs: r.inputs, custom: true });
        if (result.state.imageId === value) {
          const applied = this.state.get(r.urn);
          if (!applied) throw new Error(`image ${value} comes from ${where(r)}, which is not applied yet`);
          return applied.id;
        }
      }
      throw new Error(`container image "${value}" is no RemoteImage's imageId in this evaluation; the program must pass SandboxImage.imageId`);
    };
  }

  async create(r: RecordedResource, e: Evaluation): Promise<void> {
    if (!r.custom) return; // components and the stack have no host effect
    if (r.type === TYPES.provider) {
      translateProvider(r);
      return;
    }
    await this.timed("create", r, async () => {
      switch (r.type) {
        case TYPES.image: {
          const img = translateImage(r);
          const api = this.api(r, e);
          // No registry here: the image must exist (infra/image/build-offline.sh).
          const found = await inspectOrAbsent(api, `inspect image ${img.name}`, () => api.getImage(img.name).inspect());
          if (!found) throw new EngineError(`Docker engine: image ${img.name} not found and no registry to pull from; build it with infra/image/build-offline.sh`, 404);
          this.state.set(r.urn, { urn: r.urn, type: r.type, record: r, id: found.Id });
          return;
        }
        case TYPES.volume: {
          const body = translateVolume(r, this.options.extraLabels);
          const api = this.api(r, e);
          const v = await mustCall(api, `create volume ${body.Name}`, () => api.createVolume(body));
          this.state.set(r.urn, { urn: r.urn, type: r.type, record: r, id: v.name });
          return;
        }
        case TYPES.network: {
          const body = translateNetwork(r, this.options.extraLabels);
          const api = this.api(r, e);
          const n = await mustCall(api, `create network ${body.Name}`, () => api.createNetwork(body as unknown as Docker.NetworkCreateOptions));
          this.state.set(r.urn, { urn: r.urn, type: r.type, record: r, id: n.id });
          return;
        }
        case TYPES.container: {
          const req = translateContainer(r, { image: this.imageFor(e), extraLabels: this.options.extraLabels });
          const api = this.api(r, e);
          const created = await mustCall(api, `create container ${req.name}`, () => api.createContainer({ name: req.name, ...req.body }));
          const Id = created.id;
          this.state.set(r.urn, { urn: r.urn, type: r.type, record: r, id: Id });
          for (const u of req.uploads) {
            const archive = await tarOneFile(u.entry);
            await mustCall(api, `upload ${u.file} to ${req.name}`, () => created.putArchive(archive, { path: "/" }));
          }
          if (req.start) await engineCall(api, `start ${req.name}`, () => created.start(), [304]);
          if (req.mustRun) await this.waitRunning(api, Id, req.name);
          return;
        }
        case TYPES.command: {
          const cmd = translateCommand(r);
          const out = cmd.create === undefined ? { stdout: "", stderr: "" } : await this.run(r, cmd, cmd.create, {});
          this.state.set(r.urn, { urn: r.urn, type: r.type, record: r, id: r.name, ...out });
          return;
        }
        case TYPES.remoteCommand: {
          const cmd = translateRemoteCommand(r);
          const out = cmd.create === undefined ? { stdout: "", stderr: "" } : await this.runRemote(r, cmd, cmd.create, {});
          this.state.set(r.urn, { urn: r.urn, type: r.type, record: r, id: r.name, ...out });
          return;
        }
        case TYPES.secret: {
          const body = translateSecret(r, this.options.extraLabels, autoName(r));
          const api = this.api(r, e);
          const created = (await mustCall(api, `create secret ${String(body.Name)}`, () => api.createSecret(body))) as { id?: string; ID?: string };
          this.state.set(r.urn, { urn: r.urn, type: r.type, record: r, id: created.id ?? created.ID ?? "" });
          return;
        }
        case TYPES.serviceConfig: {
          const body = translateServiceConfig(r, this.options.extraLabels, autoName(r));
          const api = this.api(r, e);
          const created = (await mustCall(api, `create config ${String(body.Name)}`, () => api.createConfig(body))) as { id?: string; ID?: string };
          this.state.set(r.urn, { urn: r.urn, type: r.type, record: r, id: created.id ?? created.ID ?? "" });
          return;
        }
        case TYPES.service: {
          const req = translateService(r, this.swarmContext(e));
          const api = this.api(r, e);
          const created = (await mustCall(api, `create service ${req.name}`, () => api.createService(req.spec))) as { id?: string; ID?: string };
          const id = created.id ?? created.ID ?? "";
          this.state.set(r.urn, { urn: r.urn, type: r.type, record: r, id });
          await this.converge(api, id, req);
          return;
        }
        default:
          if (isStateOnly(r.type)) {
            this.state.set(r.urn, { urn: r.urn, type: r.type, record: r, id: r.name });
            return;
          }
          throw new Error(`${where(r)}: resource type ${r.type} has no translation in test/e2e/support/engine.ts`);
      }
    });
  }

  async update(before: RecordedResource, after: RecordedResource, c: ResourceChange, e: Evaluation): Promise<void> {
    const entry = this.state.get(after.urn);
    if (!entry) throw new Error(`${where(after)}: update of a resource that was never applied`);
    await this.timed("update", after, async () => {
      switch (after.type) {
        case TYPES.container: {
          // What the provider's update does (resourceDockerContainerUpdate):
          // start when must_run turns true; push resource limits and the
          // restart policy with ContainerUpdate.
          translateContainer(after, { image: () => "checked", extraLabels: {} }); // every input still translates
          const api = this.api(after, e);
          const rest = c.inputs.filter((k) => !["start", "mustRun", "wait"].includes(k));
          const limits = ["memory", "memorySwap", "restart", "maxRetryCount"];
          for (const k of rest) if (!limits.includes(k)) throw new UntranslatedInputError(`${where(after)} (update)`, k);
          if (rest.length > 0) {
            const body: Record<string, unknown> = { RestartPolicy: { Name: String(after.inputs.restart ?? ""), MaximumRetryCount: Number(after.inputs.maxRetryCount ?? 0) } };
            if (after.inputs.memory !== undefined) body.Memory = int(after.inputs.memory, "memory") * MiB;
            if (after.inputs.memorySwap !== undefined) {
              const s = int(after.inputs.memorySwap, "memorySwap");
              body.MemorySwap = s > 0 ? s * MiB : s;
            }
            await mustCall(api, `update ${entry.id}`, () => api.getContainer(entry.id).update(body));
          }
          if (before.inputs.mustRun === false && after.inputs.mustRun !== false && after.inputs.start !== false) {
            await engineCall(api, `start ${entry.id}`, () => api.getContainer(entry.id).start(), [304]);
            await this.waitRunning(api, entry.id, String(after.inputs.name));
          }
          this.state.set(after.urn, { ...entry, record: after });
          return;
        }
        case TYPES.command: {
          // pulumi-command: `update` when set, else `create`, on any change.
          const cmd = translateCommand(after);
          const script = cmd.update ?? cmd.create;
          const out = script === undefined ? { stdout: "", stderr: "" } : await this.run(after, cmd, script, previous(entry));
          this.state.set(after.urn, { ...entry, record: after, ...out });
          return;
        }
        case TYPES.remoteCommand: {
          // pulumi-command: `update` when set, else `create`, on any change.
          const cmd = translateRemoteCommand(after);
          const script = cmd.update ?? cmd.create;
          const out = script === undefined ? { stdout: "", stderr: "" } : await this.runRemote(after, cmd, script, cmd.addPreviousOutput ? previous(entry) : {});
          this.state.set(after.urn, { ...entry, record: after, ...out });
          return;
        }
        case TYPES.service: {
          // resourceDockerServiceUpdate: inspect for the version, then ServiceUpdate with the whole new spec.
          const req = translateService(after, this.swarmContext(e));
          const api = this.api(after, e);
          const svc = api.getService(entry.id);
          const info = (await mustCall(api, `inspect service ${req.name}`, () => svc.inspect())) as { Version: { Index: number } };
          await mustCall(api, `update service ${req.name}`, () => svc.update({ _query: { version: info.Version.Index }, _body: req.spec } as never));
          this.state.set(after.urn, { ...entry, record: after });
          await this.converge(api, entry.id, req);
          return;
        }
        case TYPES.image:
          translateImage(after); // keepLocally only: nothing on the host changes
          this.state.set(after.urn, { ...entry, record: after });
          return;
        default:
          if (isStateOnly(after.type)) {
            this.state.set(after.urn, { ...entry, record: after });
            return;
          }
          throw new Error(`${where(after)}: no in-place update for ${after.type} (inputs ${c.inputs.join(", ")})`);
      }
    });
  }

  async delete(r: RecordedResource, e: Evaluation): Promise<void> {
    const entry = this.state.get(r.urn);
    if (!entry) return; // never applied (components, providers)
    await this.deleteEntry(entry, e);
  }

  private async deleteEntry(entry: StateEntry, e: Evaluation): Promise<void> {
    const r = entry.record;
    if (r.options.protect) throw new Error(`${where(r)} is protected; Pulumi refuses to delete it`);
    // A replacement's new entry may already hold the URN: forget only this one.
    const forget = () => {
      if (this.state.get(r.urn) === entry) this.state.delete(r.urn);
    };
    if (r.options.retainOnDelete) {
      // Pulumi forgets it and leaves the real object alone.
      forget();
      this.steps.push({ op: "retain", type: r.type, name: r.name, ms: 0 });
      this.log(`retain ${r.type} ${r.name}`);
      return;
    }
    await this.timed("delete", r, async () => {
      switch (r.type) {
        case TYPES.container: {
          const api = this.api(r, e);
          // The provider: stop (destroy_grace_seconds, default 0), then remove with force and anonymous volumes.
          const container = api.getContainer(entry.id);
          await engineCall(api, `stop ${entry.id}`, () => container.stop({ t: 0 }), [304, 404]);
          await engineCall(api, `remove ${entry.id}`, () => container.remove({ force: true, v: true }), [404]);
          return;
        }
        case TYPES.volume: {
          const api = this.api(r, e);
          await engineCall(api, `remove volume ${entry.id}`, () => api.getVolume(entry.id).remove(), [404]);
          return;
        }
        case TYPES.network: {
          // resourceDockerNetworkDelete: remove, and while the engine answers
          // "has active endpoints" (a service's tasks still detaching) retry,
          // up to 30 s; gone (404) is done.
          const api = this.api(r, e);
          const deadline = Date.now() + 30_000;
          for (;;) {
            try {
              await engineCall(api, `remove network ${entry.id}`, () => api.getNetwork(entry.id).remove(), [404]);
              return;
            } catch (err) {
              if (!/has active endpoints/.test((err as Error).message) || Date.now() > deadline) throw err;
              await new Promise((res) => setTimeout(res, 500));
            }
          }
        }
        case TYPES.image: {
          const img = translateImage(r);
          const api = this.api(r, e);
          if (!img.keepLocally) await engineCall(api, `remove image ${img.name}`, () => api.getImage(img.name).remove(), [404]);
          return;
        }
        case TYPES.command: {
          const cmd = translateCommand(r);
          if (cmd.delete !== undefined) await this.run(r, cmd, cmd.delete, previous(entry));
          return;
        }
        case TYPES.remoteCommand: {
          const cmd = translateRemoteCommand(r);
          if (cmd.delete !== undefined) await this.runRemote(r, cmd, cmd.delete, cmd.addPreviousOutput ? previous(entry) : {});
          return;
        }
        case TYPES.service: {
          // ServiceRemove; the tasks' containers go with it, named volumes stay on their nodes.
          const api = this.api(r, e);
          await engineCall(api, `remove service ${entry.id}`, () => api.getService(entry.id).remove(), [404]);
          return;
        }
        case TYPES.secret: {
          const api = this.api(r, e);
          await engineCall(api, `remove secret ${entry.id}`, () => api.getSecret(entry.id).remove(), [404]);
          return;
        }
        case TYPES.serviceConfig: {
          const api = this.api(r, e);
          await engineCall(api, `remove config ${entry.id}`, () => api.getConfig(entry.id).remove(), [404]);
          return;
        }
        default:
          if (isStateOnly(r.type)) return;
          throw new Error(`${where(r)}: resource type ${r.type} has no delete translation`);
      }
    }).finally(forget);
  }

  private async waitRunning(api: Docker, id: string, name: string): Promise<void> {
    // The provider's read after create: wait for "running", fail if it exited.
    const deadline = Date.now() + (this.options.mustRunTimeoutMs ?? 15_000);
    for (;;) {
      const info = await mustCall(api, `inspect ${name}`, () => api.getContainer(id).inspect());
      if (info.State.Running) return;
      if (info.State.Status === "exited" || info.State.Status === "dead" || Date.now() > deadline) {
        const logs = await containerLogs(api, id, 30).catch(() => "(no logs)");
        throw new Error(`container ${name} is ${info.State.Status} (exit code ${info.State.ExitCode}) but mustRun is set; last log lines:\n${logs}`);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  /**
   * What a Service's inputs that name other resources stand for: under mocks
   * a Secret's, ServiceConfig's or Network's id is its mock id (the very mocks
   * the evaluation used compute it again), mapped to the id the engine gave
   * the applied resource; a RemoteImage's imageId or repoDigest maps to its
   * name, which every node has (imported, no registry).
   */
  private swarmContext(e: Evaluation) {
    const mock = (r: RecordedResource) => thonMocks.newResource({ type: r.type, name: r.name, inputs: r.inputs, custom: true });
    const types = { secret: TYPES.secret, config: TYPES.serviceConfig, network: TYPES.network } as const;
    return {
      extraLabels: this.options.extraLabels,
      image: (value: string): string => {
        for (const r of e.resources) {
          if (r.type !== TYPES.image) continue;
          const out = mock(r);
          if (out.state.imageId === value || out.state.repoDigest === value) return str(r.inputs.name, `${where(r)}: name`);
        }
        return value;
      },
      ref: (kind: "secret" | "config" | "network", value: string): string => {
        for (const r of e.resources) {
          if (r.type !== types[kind] || mock(r).id !== value) continue;
          const applied = this.state.get(r.urn);
          if (!applied) throw new Error(`${kind} ${value} comes from ${where(r)}, which is not applied yet`);
          return applied.id;
        }
        // A network may be named (the engine resolves names); secrets and configs go by id.
        if (kind === "network") return value;
        throw new Error(`service ${kind} reference "${value}" is no ${types[kind]}'s id in this evaluation; pass the resource's id`);
      },
    };
  }

  /** The provider's converge_config: wait until every replica's task runs (create/update), bounded by its timeout. */
  private async converge(api: Docker, id: string, req: ServiceRequest): Promise<void> {
    if (!req.converge) return;
    const mode = req.spec.Mode as { Replicated?: { Replicas: number } };
    const want = mode.Replicated?.Replicas ?? 1;
    const deadline = Date.now() + req.converge.timeoutMs;
    await new Promise((r) => setTimeout(r, Math.min(req.converge!.delayMs, 1_000)));
    for (;;) {
      const tasks = (await mustCall(api, `tasks of ${req.name}`, () => api.listTasks({ filters: JSON.stringify({ service: [id], "desired-state": ["running"] }) }))) as Array<{ Status: { State: string } }>;
      if (tasks.filter((t) => t.Status.State === "running").length === want) return;
      if (Date.now() > deadline) throw new Error(`service ${req.name} did not converge after ${req.converge.timeoutMs} ms (${tasks.map((t) => t.Status.State).join(", ") || "no tasks"})`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  private async runRemote(r: RecordedResource, cmd: RemoteCommandRequest, script: string, extraEnv: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
    if (!this.options.remote) throw new Error(`${where(r)}: a remote command, but this engine has no nodes (EngineOptions.remote: the swarm harness's remoteShell())`);
    const timeoutMs = this.options.commandTimeoutMs ?? 120_000;
    const res = await this.options.remote.run(cmd.host, script, { env: { ...extraEnv, ...cmd.environment }, input: cmd.stdin, timeoutMs });
    if (res.code !== 0) throw new Error(`${where(r)}: command on ${cmd.host} failed (exit ${res.code}):\n${script}\nstderr: ${res.stderr.trim()}`);
    return { stdout: res.stdout.replace(/\n$/, ""), stderr: res.stderr.replace(/\n$/, "") };
  }

  private run(r: RecordedResource, cmd: CommandRequest, script: string, extraEnv: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
    const [file, ...args] = cmd.interpreter;
    if (!file) throw new Error(`${where(r)}: empty interpreter`);
    const timeout = this.options.commandTimeoutMs ?? 120_000;
    return new Promise((resolve, reject) => {
      const child = spawn(file, [...args, script], {
        env: { ...process.env, ...extraEnv, ...cmd.environment },
        // pulumi-command connects stdin only when `stdin` is set.
        stdio: [cmd.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(new Error(`${where(r)}: cannot run ${file}: ${err.message}`));
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve({ stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, "") });
        else reject(new Error(`${where(r)}: command failed (${signal ? `killed by ${signal} after ${timeout} ms` : `exit ${code}`}):\n${script}\nstderr: ${stderr.trim()}`));
      });
      if (child.stdin) {
        // A script that exits without reading its stdin is not an error.
        child.stdin.on("error", () => undefined);
        child.stdin.end(cmd.stdin);
      }
    });
  }
}

/** pulumi-command passes the last run's output to update and delete. */
function previous(entry: StateEntry): Record<string, string> {
  return { PULUMI_COMMAND_STDOUT: entry.stdout ?? "", PULUMI_COMMAND_STDERR: entry.stderr ?? "" };
}

export { containerLogs };
