// What each provider would add to a resource's inputs, for the offline
// preview. Values are derived from the resource's name and inputs, so two runs
// of the same event register identical state and a diff between two events
// shows only what the change really touches.
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { stableJson } from "../render/json.ts";
import { sha256 } from "../hash.ts";
import { unwrapSecrets } from "../secrets.ts";

function digest(text: string, length = 16): string {
  return sha256(text).slice(0, length);
}

/** The preview's value of a random password: same name and length, same value. @internal exported for tests */
export function previewPassword(name: string, length: number): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = createHash("sha512").update(`password:${name}`).digest();
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[bytes[i % bytes.length]! % alphabet.length];
  return out;
}

type State = Record<string, unknown>;
/** What a provider adds to a resource's inputs; may answer later (a real key takes time to make). */
export type Computed = (name: string, inputs: State) => State | Promise<State>;
type SyncComputed = (name: string, inputs: State) => State;

/**
 * What the tls provider makes (keys, certificates) cannot be known before it
 * runs: `pulumi preview` shows these outputs as unknown. The preview gives
 * each a labelled text instead, derived from the resource's type, name and
 * inputs, so a changed key or certificate still changes what uses it. Tests
 * that serve real certificates pass test/support/tlsStandIn.ts.
 */
function unknownUntilDeployed(type: string, ...outputs: string[]): [string, SyncComputed] {
  return [
    type,
    (name, inputs) => {
      const of = digest(`${type}\0${name}\0${stableJson(inputs)}`);
      return Object.fromEntries(outputs.map((o) => [o, `(${o} of ${type} ${name}: made by the provider at deployment; inputs ${of})`]));
    },
  ];
}

/**
 * The provider's autonaming (Swarm secrets and configs, SwarmSandbox): the
 * logical name and a 7-character suffix. The real suffix is random; here it
 * follows the inputs, so changed content shows as a new name, as the
 * replacement it causes would.
 */
function autoNamed(type: string): [string, SyncComputed] {
  // Over the values, not their wire form: the program's mocks see a secret
  // wrapped, the recorded inputs (which the e2e engine names it from) unwrapped.
  return [type, (name, i) => ({ name: i.name ?? `${name}-${digest(`${type}\0${name}\0${stableJson(unwrapSecrets(i))}`, 7)}` })];
}

/** Computed outputs per resource type. Types not listed echo their inputs. */
const computed = new Map<string, SyncComputed>([
  ["random:index/randomPassword:RandomPassword", (name, i) => ({ result: previewPassword(name, Number(i.length ?? 24)) })],
  ["docker:index/volume:Volume", (name, i) => ({ name: i.name ?? name, mountpoint: `/var/lib/docker/volumes/${String(i.name ?? name)}/_data` })],
  ["docker:index/remoteImage:RemoteImage", (_n, i) => ({ imageId: `sha256:${digest(JSON.stringify([i.name, i.build ?? null]), 64)}`, repoDigest: `${String(i.name)}@sha256:${digest(String(i.name), 64)}` })],
  ["docker:index/container:Container", (name) => ({ exitCode: 0, networkDatas: [], hostname: name.slice(0, 12) })],
  // Swarm (issue 18): services, their secrets and configs, the overlay network.
  autoNamed("docker:index/secret:Secret"),
  autoNamed("docker:index/serviceConfig:ServiceConfig"),
  ["docker:index/service:Service", (name, i) => ({ name: i.name ?? name })],
  // Only overlays: a bridge network's preview stays as it was.
  ["docker:index/network:Network", (name, i) => (i.driver === "overlay" ? { name: i.name ?? name, scope: "swarm" } : {})],
  ["command:local:Command", () => ({ stdout: "", stderr: "" })],
  ["command:remote:Command", () => ({ stdout: "", stderr: "" })],
  unknownUntilDeployed("tls:index/privateKey:PrivateKey", "privateKeyPem", "publicKeyPem"),
  unknownUntilDeployed("tls:index/selfSignedCert:SelfSignedCert", "certPem"),
  unknownUntilDeployed("tls:index/certRequest:CertRequest", "certRequestPem"),
  unknownUntilDeployed("tls:index/locallySignedCert:LocallySignedCert", "certPem"),
]);

function mockIdFor(type: string, name: string, inputs: State): string {
  if (type === "docker:index/volume:Volume") return String(inputs.name ?? name);
  return `${name}-${digest(type + name)}`;
}

/** What each provider computes, per resource type: the preview's answers, or others in their place. */
export type ProviderOutputs = ReadonlyMap<string, Computed>;

/**
 * Pulumi mocks answering with the preview's computed outputs; `overrides`
 * replace them for some types (tests that need real certificates).
 */
export function previewMocks(overrides?: ProviderOutputs): pulumi.runtime.Mocks {
  if (!overrides || overrides.size === 0) return thonMocks;
  return {
    newResource(args) {
      const fn = overrides.get(args.type);
      if (!fn) return thonMocks.newResource(args); // the other types stay synchronous
      return Promise.resolve(fn(args.name, args.inputs)).then((extra) => ({ id: mockIdFor(args.type, args.name, args.inputs), state: { ...args.inputs, ...extra } }));
    },
    call: (args) => thonMocks.call(args),
  };
}

/** The preview's mocks; synchronous (the e2e engine and the language-host test call newResource directly). */
export const thonMocks = {
  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: State } {
    const extra = computed.get(args.type)?.(args.name, args.inputs) ?? {};
    return { id: mockIdFor(args.type, args.name, args.inputs), state: { ...args.inputs, ...extra } };
  },
  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    return args.inputs;
  },
} satisfies pulumi.runtime.Mocks;
