import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadEvent, parseThonFile } from "../../infra/config/load.ts";
import { DEFAULT_VSCODE_SETTINGS } from "../../infra/config/event.ts";
import { eventYaml, problemsOf } from "../support/events.ts";
import { find, runEvent, T } from "../support/program.ts";
import { providerPath } from "../../components/sandboxImage.ts";

describe("thon.yaml: valid files", () => {
  it("fills in every default for a minimal event", () => {
    const file = parseThonFile(eventYaml({ alpha: ["alice"] }));
    expect(file.sandbox).toMatchObject({ auth: "password", cpus: 1, memory: 2048, restart: "unless-stopped", egress: "internet", pidsLimit: 1024, nofile: 16384, packages: [], user: "1000:1000", passwordLength: 24, state: "running" });
    expect(file.workspace).toEqual({ mode: "volume" });
    expect(file.tls).toMatchObject({ mode: "ca", algorithm: "ECDSA", ecdsaCurve: "P256", validityDays: 90 });
    expect(file.proxy).toMatchObject({ httpsPort: 443, httpPort: 80, socketDir: "/var/lib/thon/sockets", socketGroup: "www-data" });
    expect(file.lemonade.enabled).toBe(false);
    expect(file.gateway.enabled).toBe(false);
    expect(file.target).toEqual({ kind: "local", dockerHost: "unix:///var/run/docker.sock" });
  });

  it("parses sizes written with units", () => {
    for (const [written, mib] of [["2GiB", 2048], ["512MiB", 512], ["1.5g", 1536], ["768", 768]] as const) {
      const file = parseThonFile(eventYaml({ a: ["x"] }, `sandbox:\n  memory: ${written}\n`));
      expect(file.sandbox.memory, written).toBe(mib);
    }
  });

  it("accepts users as names or as { name, state } and inherits the group's state", () => {
    const event = loadFromText(`event: { name: e, host: 127.0.0.1 }
groups:
  alpha:
    state: stopped
    users: [alice, { name: bob, state: running }]
  beta:
    users: [carol]
`);
    expect(event.participants).toEqual([
      { name: "alice", group: "alpha", state: "stopped" },
      { name: "bob", group: "alpha", state: "running" },
      { name: "carol", group: "beta", state: "running" },
    ]);
  });

  it("merges THON's VS Code defaults, the settings file (JSON with comments) and inline settings, in that order", () => {
    const dir = mkdtempSync(join(tmpdir(), "thon-settings-"));
    writeFileSync(join(dir, "vscode.jsonc"), `{
      // comments and trailing commas are fine
      "editor.fontSize": 16,
      "telemetry.telemetryLevel": "error",
    }`);
    writeFileSync(
      join(dir, "thon.yaml"),
      eventYaml({ a: ["x"] }, `sandbox:\n  vscodeSettings: vscode.jsonc\n  settings:\n    editor.fontSize: 18\n`),
    );
    const event = loadEvent(join(dir, "thon.yaml"));
    expect(event.sandbox.settings).toEqual({ ...DEFAULT_VSCODE_SETTINGS, "telemetry.telemetryLevel": "error", "editor.fontSize": 18 });
  });
});

describe("thon.yaml: paths are relative to thon.yaml", () => {
  it("resolves the image's build context next to thon.yaml, and hands it to the Docker provider relative to the folder it runs in", async () => {
    const dir = mkdtempSync(join(tmpdir(), "thon-build-"));
    writeFileSync(join(dir, "thon.yaml"), eventYaml({ a: ["x"] }, "sandbox:\n  build: { context: ../image }\n"));
    const event = loadEvent(join(dir, "thon.yaml"));
    expect(event.sandbox.build).toEqual({ context: resolve(dir, "../image"), dockerfile: "Dockerfile" });
    const image = find(await runEvent(event), T.image, "thon-sandbox-image");
    // Relative to the program's working directory (infra/ under pulumi up, the project under thon plan).
    expect((image.inputs.build as { context: string }).context).toBe(relative(process.cwd(), resolve(dir, "../image")));
    expect(providerPath(process.cwd())).toBe(".");
    expect(providerPath("already/relative")).toBe("already/relative");
  });
});

function loadFromText(text: string) {
  const dir = mkdtempSync(join(tmpdir(), "thon-load-"));
  writeFileSync(join(dir, "thon.yaml"), text);
  return loadEvent(join(dir, "thon.yaml"));
}

describe("thon.yaml: errors name the place, the value and the fix", () => {
  it("reports every problem at once, with line and column, sorted by position", () => {
    const problems = problemsOf(`event:
  name: devfest
  host: 127.0.0.1
sandbox:
  memmory: 2GiB
  auth: secret
groups:
  alpha:
    users:
      - alice
      - Bob.Smith
      - alice
`);
    expect(problems).toEqual([
      `5:3 sandbox.memmory: unknown setting "memmory". Fix: did you mean "memory"?`,
      `6:9 sandbox.auth: "secret" is not allowed. Fix: use one of "password", "none"`,
      expect.stringMatching(/^11:9 groups\.alpha\.users\[1\]: "Bob\.Smith": a participant name must be .* Fix: write "bob-smith"$/),
      expect.stringMatching(/^12:9 groups\.alpha\.users\[2\]: "alice": participant "alice" is already listed at groups\.alpha\.users\[0\]/),
    ]);
  });

  it("finds a participant listed in two groups", () => {
    const problems = problemsOf(eventYaml({ alpha: ["alice", "bob"], beta: ["carol", "bob"] }));
    expect(problems).toEqual([expect.stringContaining("groups.beta.users[1]: \"bob\": participant \"bob\" is already listed at groups.alpha.users[1]")]);
  });

  it.each([
    ["a missing event host", `event: { name: e }\ngroups: { a: { users: [x] } }\n`, "event.host: is required"],
    ["an event without participants", `event: { name: e, host: 127.0.0.1 }\ngroups: { a: { users: [] } }\n`, "groups: the event has no participants"],
    ["a reserved participant name", eventYaml({ a: ["healthz"] }), `"healthz" is reserved`],
    ["a name with a dot", eventYaml({ a: ["a.b"] }), `Fix: write "a-b"`],
    ["an unknown run state", eventYaml({ a: ["x"] }, "sandbox:\n  state: paused\n"), `sandbox.state: "paused" is not allowed. Fix: use one of "running", "stopped"`],
    ["a size without a unit it knows", eventYaml({ a: ["x"] }, "sandbox:\n  memory: 2 bananas\n"), `sandbox.memory: "2 bananas": sandbox.memory must be a size`],
    ["a short password", eventYaml({ a: ["x"] }, "sandbox:\n  passwordLength: 8\n"), "passwords shorter than 16 characters are guessable"],
    ["bind mode without a host folder", eventYaml({ a: ["x"] }, "workspace:\n  mode: bind\n"), "workspace.hostDir: is required"],
    ["a relative bind folder", eventYaml({ a: ["x"] }, "workspace:\n  mode: bind\n  hostDir: data\n"), "workspace.hostDir must be an absolute path"],
    ["provided TLS without files", eventYaml({ a: ["x"] }, "tls:\n  mode: provided\n"), 'tls.certFile: tls.mode "provided" needs tls.certFile'],
    ["a certificate file in ca mode", eventYaml({ a: ["x"] }, "tls:\n  certFile: /etc/ssl/c.pem\n"), 'tls.certFile is only used with tls.mode "provided"'],
    ["a server certificate outliving the maximum", eventYaml({ a: ["x"] }, "tls:\n  validityDays: 800\n"), "tls.validityDays (800) is longer than tls.maxValidityDays (397)"],
    ["the same port for HTTP and HTTPS", eventYaml({ a: ["x"] }, "proxy:\n  httpPort: 443\n"), "proxy.httpPort and proxy.httpsPort are both 443"],
    ["a gateway without Lemonade", eventYaml({ a: ["x"] }, "gateway:\n  enabled: true\n"), "the gateway fronts Lemonade, which is off"],
    ["an APISIX without AI plugins", eventYaml({ a: ["x"] }, "lemonade:\n  enabled: true\ngateway:\n  enabled: true\n  apisixVersion: '3.11'\n"), "APISIX 3.11 has no ai-proxy-multi"],
    ["redis counters on an APISIX that ignores them", eventYaml({ a: ["x"] }, "lemonade:\n  enabled: true\ngateway:\n  enabled: true\n  apisixVersion: '3.15'\n  redis: { host: 127.0.0.1 }\n"), "ai-rate-limiting honours a redis policy only from APISIX 3.18"],
    ["an unknown target", eventYaml({ a: ["x"] }, "target:\n  kind: k8s\n"), 'target.kind must be "local", "ssh" or "swarm"'],
    ["an unknown top-level section", eventYaml({ a: ["x"] }, "grups: {}\n"), 'unknown setting "grups". Fix: did you mean "groups"?'],
  ])("rejects %s", (_what, text, expected) => {
    expect(problemsOf(text).join("\n")).toContain(expected);
  });

  it("reports YAML syntax errors with their position", () => {
    const problems = problemsOf("event:\n  name: [unclosed\n");
    expect(problems[0]).toMatch(/^\d+:\d+ : YAML syntax: /);
  });

  it("names the file in the error message", () => {
    expect(() => parseThonFile("event: 1\n", "stacks/x/thon.yaml")).toThrow(/^stacks\/x\/thon\.yaml is not valid \(2 problems\):\n  stacks\/x\/thon\.yaml:1:1 groups: is required.*\n  stacks\/x\/thon\.yaml:1:8 event: 1: /);
  });

  it("rejects a settings file that is not a JSON object, naming sandbox.vscodeSettings", () => {
    const dir = mkdtempSync(join(tmpdir(), "thon-bad-settings-"));
    writeFileSync(join(dir, "vscode.jsonc"), "[1, 2");
    writeFileSync(join(dir, "thon.yaml"), eventYaml({ a: ["x"] }, "sandbox:\n  vscodeSettings: vscode.jsonc\n"));
    expect(() => loadEvent(join(dir, "thon.yaml"))).toThrow(/sandbox\.vscodeSettings: .*vscode\.jsonc is not a VS Code settings file/);
    writeFileSync(join(dir, "thon.yaml"), eventYaml({ a: ["x"] }, "sandbox:\n  vscodeSettings: missing.jsonc\n"));
    expect(() => loadEvent(join(dir, "thon.yaml"))).toThrow(/sandbox\.vscodeSettings: cannot read .*missing\.jsonc \(ENOENT\)/);
  });
});
