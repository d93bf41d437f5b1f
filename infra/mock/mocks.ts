// What each provider would add to a resource's inputs, for mock runs. Values
// are derived from the resource's name and inputs, so two runs of the same
// event register identical state and a diff between two events shows only
// what the change really touches.
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { tlsMockOutputs } from "./tls.ts";

export function digest(text: string, length = 16): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** A stable stand-in for a random password: same name and length, same value. */
export function mockPassword(name: string, length: number): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = createHash("sha512").update(`password:${name}`).digest();
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[bytes[i % bytes.length]! % alphabet.length];
  return out;
}

type State = Record<string, unknown>;
type Computed = (name: string, inputs: State) => State;

/**
 * Computed outputs per resource type. Types not listed echo their inputs.
 * Other modules (TLS, gateway, Lemonade) add entries with `registerMockOutputs`.
 */
const computed = new Map<string, Computed>([
  ["random:index/randomPassword:RandomPassword", (name, i) => ({ result: mockPassword(name, Number(i.length ?? 24)) })],
  ["docker:index/volume:Volume", (name, i) => ({ name: i.name ?? name, mountpoint: `/var/lib/docker/volumes/${String(i.name ?? name)}/_data` })],
  ["docker:index/remoteImage:RemoteImage", (_n, i) => ({ imageId: `sha256:${digest(JSON.stringify([i.name, i.build ?? null]), 64)}`, repoDigest: `${String(i.name)}@sha256:${digest(String(i.name), 64)}` })],
  ["docker:index/container:Container", (name) => ({ exitCode: 0, networkDatas: [], hostname: name.slice(0, 12) })],
  ["command:local:Command", () => ({ stdout: "", stderr: "" })],
  ["command:remote:Command", () => ({ stdout: "", stderr: "" })],
  // Real keys and certificates (infra/mock/tls.ts), so tests can serve them with nginx.
  ...tlsMockOutputs,
]);

export function registerMockOutputs(type: string, fn: Computed): void {
  computed.set(type, fn);
}

export function mockIdFor(type: string, name: string, inputs: State): string {
  if (type === "docker:index/volume:Volume") return String(inputs.name ?? name);
  return `${name}-${digest(type + name)}`;
}

export const thonMocks: pulumi.runtime.Mocks = {
  newResource(args) {
    const extra = computed.get(args.type)?.(args.name, args.inputs) ?? {};
    return { id: mockIdFor(args.type, args.name, args.inputs), state: { ...args.inputs, ...extra } };
  },
  call(args) {
    return args.inputs;
  },
};
