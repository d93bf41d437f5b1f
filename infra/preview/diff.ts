// Compares two mock evaluations the way `pulumi preview` would summarize
// them: which resources are created, deleted, updated in place or replaced.
// Whether a change replaces is the provider's decision; the table below holds
// what each provider we use decides (read from its sources), so blast-radius
// tests and benchmarks count replacements, not just changes.
import type { Evaluation, RecordedResource } from "./evaluate.ts";
import { APISIX_REPLACE_KEYS } from "../providers/apisix.ts";
import { LEMONADE_REPLACE_KEYS } from "../providers/lemonade.ts";

export type ChangeKind = "create" | "delete" | "update" | "replace";

export interface ResourceChange {
  readonly kind: ChangeKind;
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** Inputs whose value differs (update and replace only). */
  readonly inputs: readonly string[];
  /**
   * The old resource has retainOnDelete: a delete or replace drops it from
   * the state but leaves it in place (the engine's DeleteStep skips the
   * provider's Delete), which Pulumi shows as `delete[retain]`.
   */
  readonly retain: boolean;
}

export interface EvaluationDiff {
  readonly changes: readonly ResourceChange[];
  readonly counts: Readonly<Record<ChangeKind, number>>;
  /** The changes of one kind, as "type::name" strings, sorted. */
  names(kind: ChangeKind): string[];
}

type Rule = { readonly updatable: ReadonlySet<string> } | { readonly replaces: ReadonlySet<string> };

const rules = new Map<string, Rule>([
  // terraform-provider-docker: everything on a container is ForceNew except these
  // (resource_docker_container.go; updated in resourceDockerContainerUpdate).
  [
    "docker:index/container:Container",
    {
      updatable: new Set([
        "start", "mustRun", "restart", "maxRetryCount", "memory", "memoryReservation", "memorySwap",
        "cpuShares", "cpuSet", "wait", "waitTimeout", "destroyGraceSeconds", "rm", "attach", "logs",
        "removeVolumes", "containerReadRefreshTimeoutMilliseconds", "healthcheck", "init",
        "cpuPeriod", "cpuQuota", "deviceReadBps", "deviceReadIops", "deviceWriteBps", "deviceWriteIops",
      ]),
    },
  ],
  ["docker:index/volume:Volume", { updatable: new Set() }],
  // docker_secret and docker_config: every field ForceNew. docker_service:
  // name and auth are ForceNew; the rest goes through ServiceUpdate.
  ["docker:index/secret:Secret", { updatable: new Set() }],
  ["docker:index/serviceConfig:ServiceConfig", { updatable: new Set() }],
  ["docker:index/service:Service", { replaces: new Set(["name", "auth"]) }],
  ["docker:index/remoteImage:RemoteImage", { updatable: new Set(["keepLocally", "forceRemove"]) }],
  ["random:index/randomPassword:RandomPassword", { updatable: new Set() }],
  // pulumi-command: only `triggers` replaces; new scripts update in place.
  ["command:local:Command", { replaces: new Set(["triggers"]) }],
  ["command:remote:Command", { replaces: new Set(["triggers", "connection"]) }],
  ["tls:index/privateKey:PrivateKey", { updatable: new Set() }],
  ["tls:index/selfSignedCert:SelfSignedCert", { updatable: new Set(["earlyRenewalHours"]) }],
  ["tls:index/locallySignedCert:LocallySignedCert", { updatable: new Set(["earlyRenewalHours"]) }],
  ["tls:index/certRequest:CertRequest", { updatable: new Set() }],
  // THON's dynamic providers: their `diff` replaces on these inputs only.
  ...Object.entries({ ...APISIX_REPLACE_KEYS, ...LEMONADE_REPLACE_KEYS }).map(
    ([type, keys]): [string, Rule] => [type, { replaces: new Set<string>(keys) }],
  ),
]);

function classify(before: RecordedResource, after: RecordedResource): ResourceChange | undefined {
  if (!after.custom) return undefined; // components have no inputs of their own
  const changed = [...new Set([...Object.keys(before.inputHashes), ...Object.keys(after.inputHashes)])]
    .filter((k) => before.inputHashes[k] !== after.inputHashes[k])
    .sort();
  if (changed.length === 0 && before.options.provider === after.options.provider) return undefined;
  const rule = rules.get(after.type);
  const replaces =
    before.options.provider !== after.options.provider ||
    (rule !== undefined &&
      ("updatable" in rule ? changed.some((k) => !rule.updatable.has(k)) : changed.some((k) => rule.replaces.has(k))));
  const kind = replaces ? "replace" : "update";
  return { kind, urn: after.urn, type: after.type, name: after.name, inputs: changed, retain: kind === "replace" && before.options.retainOnDelete };
}

export function diffEvaluations(before: Evaluation, after: Evaluation): EvaluationDiff {
  const old = new Map(before.resources.map((r) => [r.urn, r]));
  const now = new Map(after.resources.map((r) => [r.urn, r]));
  const changes: ResourceChange[] = [];
  for (const [urn, r] of now) {
    const prev = old.get(urn);
    if (!prev) changes.push({ kind: "create", urn, type: r.type, name: r.name, inputs: [], retain: false });
    else {
      const c = classify(prev, r);
      if (c) changes.push(c);
    }
  }
  for (const [urn, r] of old) {
    if (!now.has(urn)) changes.push({ kind: "delete", urn, type: r.type, name: r.name, inputs: [], retain: r.options.retainOnDelete });
  }
  changes.sort((a, b) => (a.urn < b.urn ? -1 : 1));
  const counts = { create: 0, delete: 0, update: 0, replace: 0 };
  for (const c of changes) counts[c.kind]++;
  return {
    changes,
    counts,
    names: (kind) => changes.filter((c) => c.kind === kind).map((c) => `${c.type}::${c.name}`).sort(),
  };
}
