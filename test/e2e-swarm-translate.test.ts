// The e2e engine stand-in's Swarm rules (test/e2e/support/swarmTranslate.ts),
// checked without an engine on hand-written recorded resources: every input
// maps to the Engine API field the Docker provider fills (or the remote
// Command's run), the provider's defaults are filled in, and an input or
// nested field without a rule fails naming it.
import { describe, expect, it } from "vitest";
import type { RecordedResource } from "../infra/preview/evaluate.ts";
import { evaluation, recorded } from "./support/recorded.ts";
import { diffEvaluations } from "../infra/preview/diff.ts";
import { UntranslatedInputError } from "./e2e/support/engine.ts";
import { translateNetwork } from "./e2e/support/engine.ts";
import {
  parseGoDuration,
  translateRemoteCommand,
  translateSecret,
  translateService,
  translateServiceConfig,
  type SwarmTranslateContext,
} from "./e2e/support/swarmTranslate.ts";

const SERVICE = "docker:index/service:Service";
const ctx: SwarmTranslateContext = {
  image: (v) => `img:${v}`,
  ref: (kind, v) => `${kind}-id-of-${v}`,
  extraLabels: { "org.thon.e2e-run": "abc123" },
};

/** A participant's service as SWARM.md declares it, with every other field the rules know set too. */
function fullService(): Record<string, unknown> {
  return {
    name: "thon-alice",
    labels: [{ label: "org.thon.user", value: "alice" }],
    mode: { replicated: { replicas: 1 } },
    endpointSpec: { mode: "dnsrr", ports: [{ targetPort: 8080, publishedPort: 18080, publishMode: "host", name: "web" }] },
    updateConfig: { order: "stop-first", parallelism: 2, delay: "1s", failureAction: "continue", monitor: "1m30s", maxFailureRatio: "0.5" },
    rollbackConfig: { order: "start-first" },
    convergeConfig: { delay: "1s", timeout: "2m" },
    taskSpec: {
      forceUpdate: 3,
      runtime: "container",
      placement: { constraints: ["node.labels.org.thon.node==n2"], prefs: ["spread=node.labels.zone"], platforms: [{ architecture: "amd64", os: "linux" }], maxReplicas: 1 },
      resources: {
        limits: { memoryBytes: 1073741824, nanoCpus: 1500000000 },
        reservation: { memoryBytes: 536870912, nanoCpus: 500000000, genericResources: { namedResourcesSpecs: ["gpu=UUID1"], discreteResourcesSpecs: ["ssd=2"] } },
      },
      restartPolicy: { condition: "any", delay: "5s", maxAttempts: 0, window: "2m" },
      networksAdvanceds: [{ name: "thon-net-test", aliases: ["alice"], driverOpts: ["com.docker.network.driver.mtu=1400"] }, { id: "net-mock-id" }],
      logDriver: { name: "json-file", options: { "max-size": "10m" } },
      containerSpec: {
        image: "thon-sandbox:offline",
        labels: [{ label: "org.thon.user", value: "alice" }],
        commands: ["/usr/bin/tini", "--"],
        args: ["--bind-addr", "/run/thon/code.sock"],
        hostname: "alice",
        env: { PASSWORD_FILE: "/run/secrets/thon-password", THON_USER: "alice" },
        dir: "/workspace",
        user: "1000:1000",
        groups: ["www-data"],
        privileges: { seLinuxContext: { disable: true }, credentialSpec: { file: "spec.json" } },
        readOnly: false,
        init: true,
        stopSignal: "SIGTERM",
        stopGracePeriod: "30s",
        healthcheck: { tests: ["CMD", "true"], interval: "10s", retries: 3 },
        hosts: [{ host: "gateway", ip: "127.77.0.1" }],
        dnsConfig: { nameservers: ["127.0.0.11"], searches: ["thon"], options: ["ndots:1"] },
        isolation: "default",
        sysctl: { "net.ipv4.ip_unprivileged_port_start": "0" },
        capAdds: ["CHOWN"],
        capDrops: ["ALL"],
        mounts: [
          {
            type: "volume",
            source: "thon-home-alice",
            target: "/home/coder",
            volumeOptions: { labels: [{ label: "org.thon.user", value: "alice" }], driverName: "local", driverOptions: { type: "tmpfs" }, noCopy: false },
          },
          { type: "bind", source: "/var/lib/thon/sockets/alice", target: "/run/thon", bindOptions: {} },
          { type: "tmpfs", target: "/tmp", tmpfsOptions: { sizeBytes: 1048576, mode: 0o1777 }, readOnly: false },
        ],
        secrets: [{ secretId: "pw-mock-id", secretName: "thon-password-secret-alice", fileName: "/run/secrets/thon-password", fileUid: "1000", fileGid: "1000", fileMode: 0o400 }],
        configs: [{ configId: "cfg-mock-id", fileName: "/etc/thon/settings.json" }],
      },
    },
  };
}

describe("swarm translation: docker.Service to the Engine API ServiceSpec", () => {
  it("maps every input the rules know to the field the provider fills, in the provider's units", () => {
    const req = translateService(recorded(SERVICE, "thon-alice", fullService()), ctx);
    expect(req.name).toBe("thon-alice");
    expect(req.converge).toEqual({ delayMs: 1000, timeoutMs: 120_000 });
    expect(req.spec).toEqual({
      Name: "thon-alice",
      Labels: { "org.thon.user": "alice", "org.thon.e2e-run": "abc123" },
      Mode: { Replicated: { Replicas: 1 } },
      EndpointSpec: { Mode: "dnsrr", Ports: [{ Name: "web", Protocol: "tcp", TargetPort: 8080, PublishedPort: 18080, PublishMode: "host" }] },
      UpdateConfig: { Parallelism: 2, Delay: 1e9, FailureAction: "continue", Monitor: 90e9, MaxFailureRatio: 0.5, Order: "stop-first" },
      RollbackConfig: { Parallelism: 1, Delay: 0, FailureAction: "pause", Monitor: 5e9, MaxFailureRatio: 0, Order: "start-first" },
      TaskTemplate: {
        ForceUpdate: 3,
        Runtime: "container",
        Placement: {
          Constraints: ["node.labels.org.thon.node==n2"],
          Preferences: [{ Spread: { SpreadDescriptor: "spread=node.labels.zone" } }],
          Platforms: [{ Architecture: "amd64", OS: "linux" }],
          MaxReplicas: 1,
        },
        Resources: {
          Limits: { MemoryBytes: 1073741824, NanoCPUs: 1500000000 },
          Reservations: {
            MemoryBytes: 536870912,
            NanoCPUs: 500000000,
            GenericResources: [{ NamedResourceSpec: { Kind: "gpu", Value: "UUID1" } }, { DiscreteResourceSpec: { Kind: "ssd", Value: 2 } }],
          },
        },
        RestartPolicy: { Condition: "any", Delay: 5e9, MaxAttempts: 0, Window: 120e9 },
        Networks: [
          { Target: "network-id-of-thon-net-test", Aliases: ["alice"], DriverOpts: { "com.docker.network.driver.mtu": "1400" } },
          { Target: "network-id-of-net-mock-id", Aliases: [] },
        ],
        LogDriver: { Name: "json-file", Options: { "max-size": "10m" } },
        ContainerSpec: {
          Image: "img:thon-sandbox:offline",
          Labels: { "org.thon.user": "alice" },
          Command: ["/usr/bin/tini", "--"],
          Args: ["--bind-addr", "/run/thon/code.sock"],
          Hostname: "alice",
          Env: ["PASSWORD_FILE=/run/secrets/thon-password", "THON_USER=alice"],
          Dir: "/workspace",
          User: "1000:1000",
          Groups: ["www-data"],
          Privileges: { SELinuxContext: { Disable: true }, CredentialSpec: { File: "spec.json" } },
          ReadOnly: false,
          Init: true,
          StopSignal: "SIGTERM",
          StopGracePeriod: 30e9,
          Healthcheck: { Test: ["CMD", "true"], Interval: 10e9, Timeout: 0, StartPeriod: 0, Retries: 3 },
          Hosts: ["127.77.0.1 gateway"],
          DNSConfig: { Nameservers: ["127.0.0.11"], Search: ["thon"], Options: ["ndots:1"] },
          Isolation: "default",
          Sysctls: { "net.ipv4.ip_unprivileged_port_start": "0" },
          CapabilityAdd: ["CHOWN"],
          CapabilityDrop: ["ALL"],
          Mounts: [
            {
              Type: "volume",
              Source: "thon-home-alice",
              Target: "/home/coder",
              VolumeOptions: { Labels: { "org.thon.user": "alice" }, DriverConfig: { Name: "local", Options: { type: "tmpfs" } }, NoCopy: false },
            },
            { Type: "bind", Source: "/var/lib/thon/sockets/alice", Target: "/run/thon", BindOptions: { Propagation: "rprivate" } },
            { Type: "tmpfs", Source: "", Target: "/tmp", TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 }, ReadOnly: false },
          ],
          Secrets: [{ SecretID: "secret-id-of-pw-mock-id", SecretName: "thon-password-secret-alice", File: { Name: "/run/secrets/thon-password", UID: "1000", GID: "1000", Mode: 0o400 } }],
          Configs: [{ ConfigID: "config-id-of-cfg-mock-id", File: { Name: "/etc/thon/settings.json", UID: "0", GID: "0", Mode: 0o444 } }],
        },
      },
    });
  });

  it("fills the provider's defaults: replicas 1, an empty endpoint spec and mode, isolation default, no converge wait", () => {
    const req = translateService(recorded(SERVICE, "s", { name: "s", mode: { replicated: {} }, taskSpec: { containerSpec: { image: "i" } } }), ctx);
    expect(req.spec).toEqual({
      Name: "s",
      Labels: { "org.thon.e2e-run": "abc123" },
      Mode: { Replicated: { Replicas: 1 } },
      EndpointSpec: {},
      TaskTemplate: { ContainerSpec: { Image: "img:i", Isolation: "default" } },
    });
    expect(req.converge).toBeUndefined();
    const stopped = translateService(recorded(SERVICE, "s", { name: "s", mode: { replicated: { replicas: 0 } }, taskSpec: { containerSpec: { image: "i" } } }), ctx);
    expect(stopped.spec.Mode).toEqual({ Replicated: { Replicas: 0 } });
    const global = translateService(recorded(SERVICE, "s", { name: "s", mode: { global: true }, taskSpec: { containerSpec: { image: "i" } } }), ctx);
    expect(global.spec.Mode).toEqual({ Global: {} });
  });

  it.each([
    ["top level", { auth: { serverAddress: "r" } }, /docker:index\/service:Service thon-alice: input "auth" has no translation/],
    ["taskSpec", { taskSpec: { ...(fullService().taskSpec as object), networks: ["x"] } }, /taskSpec: input "networks"/],
    ["containerSpec", { taskSpec: { containerSpec: { image: "i", devices: [] } } }, /taskSpec\.containerSpec: input "devices"/],
    ["a mount", { taskSpec: { containerSpec: { image: "i", mounts: [{ type: "volume", target: "/x", volumeOptions: { subpath: "a" } }] } } }, /mounts\[0\]\.volumeOptions: input "subpath"/],
    ["a secret reference", { taskSpec: { containerSpec: { image: "i", secrets: [{ secretId: "s", fileName: "f", extra: 1 }] } } }, /secrets\[0\]: input "extra"/],
    ["the endpoint ports", { endpointSpec: { ports: [{ targetPort: 1, bogus: true }] } }, /ports\[0\]: input "bogus"/],
  ])("fails naming an unknown field (%s)", (_what, extra, message) => {
    const inputs = { ...fullService(), ...extra };
    expect(() => translateService(recorded(SERVICE, "thon-alice", inputs), ctx)).toThrow(UntranslatedInputError);
    expect(() => translateService(recorded(SERVICE, "thon-alice", inputs), ctx)).toThrow(message);
  });

  it("refuses bad values with the field's path", () => {
    const bad = (inputs: Record<string, unknown>) => () => translateService(recorded(SERVICE, "s", { name: "s", ...inputs }), ctx);
    expect(bad({ taskSpec: { containerSpec: { image: "i", stopGracePeriod: "30 seconds" } } })).toThrow(/containerSpec\.stopGracePeriod: "30 seconds" is not a Go duration/);
    expect(bad({ taskSpec: { containerSpec: { image: "i" } }, endpointSpec: { mode: "ingress" } })).toThrow(/endpointSpec\.mode: "ingress" is neither vip nor dnsrr/);
    expect(bad({ taskSpec: { containerSpec: { image: "i" } }, mode: { replicated: { replicas: -1 } } })).toThrow(/replicas: must be >= 0/);
    expect(bad({ taskSpec: { containerSpec: { image: "i", mounts: [{ type: "bind", source: "/x" }] } } })).toThrow(/mounts\[0\]: type and target are required/);
    expect(bad({ taskSpec: { containerSpec: { image: "i", env: { A: 1 } } } })).toThrow(/env\.A: expected a string/);
    expect(bad({ taskSpec: {} })).toThrow(/taskSpec\.containerSpec is required/);
    expect(() => translateService(recorded(SERVICE, "s", { taskSpec: { containerSpec: { image: "i" } } }), ctx)).toThrow(/no name/);
  });

  it("reads Go durations like time.ParseDuration", () => {
    expect(parseGoDuration("0s", "d")).toBe(0);
    expect(parseGoDuration("0", "d")).toBe(0);
    expect(parseGoDuration("1h2m3.5s", "d")).toBe(3723.5e9);
    expect(parseGoDuration("250ms", "d")).toBe(250e6);
    expect(parseGoDuration("1.5us", "d")).toBe(1500);
    for (const bad of ["", "5", "1d", "s", "1m 2s"]) expect(() => parseGoDuration(bad, "d")).toThrow(/not a Go duration/);
  });
});

describe("swarm translation: secrets, configs, networks", () => {
  it("creates a secret with its base64 data, labels and the run label; refuses data that is not base64 and unknown fields", () => {
    const r = recorded("docker:index/secret:Secret", "thon-password-secret-alice", { name: "thon-password-secret-alice", data: Buffer.from("s3cret").toString("base64"), labels: [{ label: "org.thon.user", value: "alice" }] });
    expect(translateSecret(r, { run: "x" })).toEqual({ Name: "thon-password-secret-alice", Data: "czNjcmV0", Labels: { "org.thon.user": "alice", run: "x" } });
    expect(() => translateSecret({ ...r, inputs: { ...r.inputs, data: "not base64!" } }, {})).toThrow(/data: not base64/);
    expect(() => translateSecret({ ...r, inputs: { name: "n" } }, {})).toThrow(/data is required/);
    expect(() => translateSecret({ ...r, inputs: { ...r.inputs, driver: "x" } }, {})).toThrow(/input "driver" has no translation/);
    // Without a name input: the autoname Pulumi gave it (the engine passes the one the program referenced).
    expect(translateSecret({ ...r, inputs: { data: "czNjcmV0" } }, {}, "thon-password-secret-alice-1a2b3c4").Name).toBe("thon-password-secret-alice-1a2b3c4");
  });

  it("creates a config from dataRaw (encoded) or data, exactly one of them", () => {
    const r = recorded("docker:index/serviceConfig:ServiceConfig", "thon-files-alice-settings", { name: "cfg", dataRaw: '{"a":1}' });
    expect(translateServiceConfig(r, {})).toEqual({ Name: "cfg", Data: Buffer.from('{"a":1}').toString("base64"), Labels: {} });
    expect(translateServiceConfig({ ...r, inputs: { data: "e30=", labels: [{ label: "l", value: "v" }] } }, {})).toEqual({ Name: "thon-files-alice-settings", Data: "e30=", Labels: { l: "v" } });
    expect(() => translateServiceConfig({ ...r, inputs: { name: "cfg", data: "e30=", dataRaw: "{}" } }, {})).toThrow(/exactly one of data, dataRaw/);
    expect(() => translateServiceConfig({ ...r, inputs: { name: "cfg" } }, {})).toThrow(/exactly one of data, dataRaw/);
    expect(() => translateServiceConfig({ ...r, inputs: { ...r.inputs, templating: {} } }, {})).toThrow(UntranslatedInputError);
  });

  it("creates an overlay network attachable, with the run label", () => {
    const r = recorded("docker:index/network:Network", "thon-net-test", { name: "thon-net-test", driver: "overlay", attachable: true, labels: [{ label: "org.thon.event", value: "test" }] });
    expect(translateNetwork(r, { run: "x" })).toEqual({ Name: "thon-net-test", CheckDuplicate: true, Driver: "overlay", Attachable: true, Labels: { "org.thon.event": "test", run: "x" } });
    expect(() => translateNetwork({ ...r, inputs: { ...r.inputs, ingress: true } }, {})).toThrow(/input "ingress" has no translation/);
  });

  it("tells the diff that secrets and configs are replaced on any change and services updated in place but for name", () => {
    const ev = (rs: RecordedResource[]) => evaluation(rs);
    const secret = recorded("docker:index/secret:Secret", "s", { name: "s", data: "YQ==" });
    const service = recorded(SERVICE, "svc", { name: "svc", mode: { replicated: { replicas: 1 } } });
    const diff = diffEvaluations(ev([secret, service]), ev([recorded("docker:index/secret:Secret", "s", { name: "s", data: "Yg==" }), recorded(SERVICE, "svc", { name: "svc", mode: { replicated: { replicas: 0 } } })]));
    expect(diff.names("replace")).toEqual(["docker:index/secret:Secret::s"]);
    expect(diff.names("update")).toEqual([`${SERVICE}::svc`]);
    const renamed = diffEvaluations(ev([service]), ev([recorded(SERVICE, "svc", { name: "svc2", mode: { replicated: { replicas: 1 } } })]));
    expect(renamed.names("replace")).toEqual([`${SERVICE}::svc`]);
  });
});

describe("swarm translation: command:remote:Command", () => {
  const remote = (inputs: Record<string, unknown>) => recorded("command:remote:Command", "thon-node-n2", inputs);
  const connection = { host: "127.77.0.2", user: "root", port: 22, privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----", dialErrorLimit: 10, perDialTimeout: 15 };

  it("runs its scripts on the node named by connection.host, with its environment and stdin", () => {
    const cmd = translateRemoteCommand(remote({ connection, create: "mkdir -p /x", update: "true", delete: "rm -rf /x", environment: { A: "1" }, stdin: "in", triggers: ["t"], addPreviousOutputInEnv: false }));
    expect(cmd).toEqual({ host: "127.77.0.2", create: "mkdir -p /x", update: "true", delete: "rm -rf /x", environment: { A: "1" }, stdin: "in", addPreviousOutput: false });
    expect(translateRemoteCommand(remote({ connection: { host: "n2" }, create: "true" })).addPreviousOutput).toBe(true);
  });

  it("fails on connection fields it does not honour, and on other users and ports", () => {
    expect(() => translateRemoteCommand(remote({ connection: { ...connection, password: "p" }, create: "true" }))).toThrow(/connection: input "password" has no translation/);
    expect(() => translateRemoteCommand(remote({ connection: { ...connection, proxy: { host: "j" } }, create: "true" }))).toThrow(/input "proxy"/);
    expect(() => translateRemoteCommand(remote({ connection: { ...connection, user: "deploy" }, create: "true" }))).toThrow(/connection\.user: "deploy": .* root only/);
    expect(() => translateRemoteCommand(remote({ connection: { ...connection, port: 2222 }, create: "true" }))).toThrow(/connection\.port: 2222/);
    expect(() => translateRemoteCommand(remote({ connection: { user: "root" }, create: "true" }))).toThrow(/host is required/);
    expect(() => translateRemoteCommand(remote({ connection, create: "true", logging: "stdout" }))).toThrow(/input "logging" has no translation/);
  });
});
