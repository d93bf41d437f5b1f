// thon.yaml's issue-17 settings: what is accepted, the defaults, and the
// error each mistake gets (path and fix).
import { describe, expect, it } from "vitest";
import { parseThonFile } from "../../infra/config/load.ts";
import { sandboxFor, toEvent } from "../../infra/config/event.ts";
import { eventYaml, problemsOf } from "../support/events.ts";

describe("thon.yaml: sandbox limits, egress, packages", () => {
  it("accepts an allow-list of addresses and CIDRs, and packages", () => {
    const file = parseThonFile(eventYaml({ a: ["x"] }, "sandbox:\n  egress: [203.0.113.7, 198.51.100.0/24]\n  packages: [postgresql-client]\n  workspaceSize: 10GiB\n"));
    expect(file.sandbox).toMatchObject({ egress: ["203.0.113.7", "198.51.100.0/24"], packages: ["postgresql-client"], workspaceSize: 10240 });
    expect(file.sandbox.network).toBeUndefined();
  });
  it.each([
    ["sandbox:\n  egress: everywhere\n", /sandbox\.egress: .*sandbox\.egress must be "internet", "none" or a list of addresses\/CIDRs/],
    ["sandbox:\n  egress: [example.org]\n", /sandbox\.egress\[0\]: .*sandbox\.egress entries are IPv4 addresses or CIDRs/],
    ["sandbox:\n  egress: [10.0.0.0/33]\n", /sandbox\.egress\[0\]: .*sandbox\.egress entries are IPv4 addresses or CIDRs/],
    ["sandbox:\n  pidsLimit: 10\n", /sandbox\.pidsLimit: .*sandbox\.pidsLimit below 64 starves code-server itself; use 256 or more/],
    ["sandbox:\n  nofile: lots\n", /sandbox\.nofile: .*sandbox\.nofile must be a number of open files such as 16384/],
    ["sandbox:\n  packages: [\"curl; rm -rf /\"]\n", /sandbox\.packages\[0\]: .*sandbox\.packages entries are Debian package names/],
  ])("rejects %j, naming the field and the fix", (extra, message) => {
    expect(problemsOf(eventYaml({ a: ["x"] }, extra)).join("\n")).toMatch(message);
  });
});

describe("thon.yaml: group templates (groups.<g>.sandbox)", () => {
  const yaml = `event: { name: t, host: 127.0.0.1 }
sandbox:
  env: { TZ: Europe/Berlin }
  settings: { editor.fontSize: 14 }
groups:
  data:
    sandbox: { image: ds:1, memory: 4GiB, cpus: 2, env: { TRACK: data }, settings: { editor.fontSize: 16 }, extensions: [ms-python.python] }
    users: [alice]
  web:
    users: [bob]
`;
  it("applies a group's overrides to its participants only: scalars and lists replace, env and settings merge", () => {
    const event = toEvent(parseThonFile(yaml));
    const data = sandboxFor(event, "data");
    expect(data).toMatchObject({ image: "ds:1", memory: 4096, cpus: 2, env: { TZ: "Europe/Berlin", TRACK: "data" }, extensions: ["ms-python.python"] });
    expect(data.settings).toMatchObject({ "editor.fontSize": 16, "security.workspace.trust.enabled": false });
    expect(sandboxFor(event, "web")).toBe(event.sandbox);
  });
  it("rejects what a group may not override, naming the path", () => {
    expect(problemsOf(yaml.replace("cpus: 2,", "cpus: 2, pidsLimit: 99,")).join("\n")).toMatch(/groups\.data\.sandbox\.pidsLimit: /);
    expect(problemsOf(yaml.replace("memory: 4GiB", "memory: lots")).join("\n")).toMatch(/groups\.data\.sandbox\.memory: .*must be a size/);
  });
});
