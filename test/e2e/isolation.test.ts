// End to end on a real Docker engine and the host's real iptables (issue 17):
// the program's sandboxes on the event network, applied mechanically from a
// mock evaluation (support/engine.ts), then checked from the outside.
//
// - Network: two sandboxes on the event network cannot reach each other's
//   port; a sandbox reaches the gateway's port on the host (a listener bound
//   to the network's gateway address, stand-in for APISIX) and not another
//   host port (stand-in for Lemonade and the Admin APIs); the firewall rules
//   are present after apply and gone after their delete. The metadata block
//   is checked by listing the rules, never by sending to it.
// - Limits: a fork bomb stays inside its sandbox (pids limit); a memory hog
//   is OOM-killed alone.
// - Toolchain: a venv, a local package installed with pip, npm init and a script.
// - Home: what the participant sets survives a container replacement, while
//   the organizer's settings still win.
//
// Traffic stays on this machine: only the project's own containers and the
// bridge's own gateway address. Run with `npm run test:e2e -- test/e2e/isolation.test.ts`.
import { mkdtempSync, chmodSync, rmSync, mkdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluateEventFile } from "../../infra/cli/plan.ts";
import type { Evaluation, RecordedResource } from "../../infra/preview/evaluate.ts";
import { Engine, TYPES } from "./support/engine.ts";
import { dockerAt, socketPathOf } from "./support/docker.ts";
import { socketOf } from "./support/event.ts";
import { waitHealthy } from "./support/http.ts";
import { freePort } from "../support/nginx.ts";
import { cleanupRun, docker, dockerHost, execIn, requiredImage, RUN_LABEL, runId } from "./support/run.ts";

const ada = `ada-${runId}`;
const bob = `bob-${runId}`;
const eventName = `iso-${runId}`;
const PIDS = 256;

const dockerd = dockerAt(socketPathOf(dockerHost));
const engine = new Engine({ extraLabels: { [RUN_LABEL]: runId }, log: (l) => console.log(`engine: ${l}`) });

let dir: string;
let e: Evaluation;
let gatewayPort: number;
let otherPort: number;
let gatewayIp: string;
const listeners: Server[] = [];

const ipt = (...args: string[]) => execFileSync("iptables", ["-w", ...args], { encoding: "utf8", timeout: 20_000 });
const rulesOf = (): RecordedResource => e.resources.find((r) => r.type === TYPES.command && r.name === `thon-egress-${eventName}`)!;
const chainTag = () => /-N (THON-[0-9A-F]+)-FWD/.exec(String(rulesOf().inputs.create))![1]!;

function eventYaml(image: string): string {
  return `event: { name: ${eventName}, host: 127.0.0.1 }
sandbox:
  image: ${JSON.stringify(image)}
  memory: 768MiB
  pidsLimit: ${PIDS}
  egress: internet
  settings:
    # The organizer turns workspace trust off; a participant's own value must not win.
    security.workspace.trust.enabled: false
proxy:
  socketDir: ${JSON.stringify(join(dir, "sockets"))}
lemonade: { enabled: true }
gateway: { enabled: true, port: ${gatewayPort} }
target: { kind: local, dockerHost: ${JSON.stringify(dockerHost)} }
groups:
  red:
    users: [${ada}, ${bob}]
`;
}

/** Only what the sandboxes need (the network, its rules, volumes, containers): no nginx, Lemonade or APISIX here. */
function sandboxPart(ev: Evaluation): Evaluation {
  return { ...ev, resources: ev.resources.filter((r) => r.type === TYPES.provider || r.urn.includes("thon:sandbox:")) };
}

/** Connects from inside a sandbox with Node (in the image); prints "open" or the error code. */
async function connectFrom(container: string, host: string, port: number): Promise<string> {
  const js = `const s=require("net").connect({host:"${host}",port:${port},timeout:3000});s.on("connect",()=>{console.log("open");s.destroy()});s.on("timeout",()=>{console.log("timeout");s.destroy()});s.on("error",(e)=>console.log(e.code))`;
  return (await execIn(container, `node -e '${js}'`)).out.trim();
}

beforeAll(async () => {
  const image = requiredImage();
  dir = mkdtempSync(join(tmpdir(), `thon-e2e-${runId}-iso-`));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, "sockets"), { mode: 0o755 });
  gatewayPort = await freePort();
  otherPort = await freePort();
  writeFileSync(join(dir, "thon.yaml"), eventYaml(image));
  e = await evaluateEventFile(join(dir, "thon.yaml"));
  await engine.up(sandboxPart(e));
  await Promise.all([ada, bob].map((u) => waitHealthy(socketOf(e, u), 120_000)));
  const net = await dockerd.getNetwork(`thon-net-${eventName}`).inspect();
  gatewayIp = net.IPAM!.Config![0]!.Gateway!;
  // Stand-ins on the host, bound to the bridge's own address: the gateway (APISIX) and another service (Lemonade, an Admin API).
  for (const port of [gatewayPort, otherPort]) {
    // The client closes at once: a reset is expected, not an error of the test.
    const server = createServer((s) => s.on("error", () => undefined).end("hi\n"));
    await new Promise<void>((res) => server.listen(port, gatewayIp, res));
    listeners.push(server);
  }
}, 600_000);

afterAll(async () => {
  for (const s of listeners) s.close();
  // The rules' own delete, as `pulumi destroy` would run it (idempotent when a test ran it already).
  const rules = rulesOf();
  if (rules) await engine.delete(rules, e).catch(() => undefined);
  const report = await cleanupRun();
  console.log(`e2e cleanup (${RUN_LABEL}=${runId}): ${report.join("; ")}`);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 180_000);

describe("e2e: the event network", () => {
  it("puts both sandboxes on the event network, whose bridge keeps containers apart (icc off)", async () => {
    const net = await dockerd.getNetwork(`thon-net-${eventName}`).inspect();
    expect(net.Options!["com.docker.network.bridge.enable_icc"]).toBe("false");
    expect(Object.values(net.Containers ?? {}).map((c) => c.Name).sort()).toEqual([`thon-${ada}`, `thon-${bob}`]);
  });

  it("a sandbox cannot connect to another sandbox's listening port", async () => {
    await docker(["exec", "-d", "-u", "1000:1000", `thon-${bob}`, "node", "-e", `require("net").createServer(s=>s.end("hi\\n")).listen(5000,"0.0.0.0")`]);
    const bobIp = await docker(["inspect", "-f", `{{(index .NetworkSettings.Networks "thon-net-${eventName}").IPAddress}}`, `thon-${bob}`]);
    // The listener is up: bob reaches it on its own address.
    await expect.poll(() => connectFrom(`thon-${bob}`, bobIp, 5000), { timeout: 10_000 }).toBe("open");
    expect(await connectFrom(`thon-${ada}`, bobIp, 5000)).toMatch(/^(timeout|ECONNREFUSED|EHOSTUNREACH)$/);
  });

  it("a sandbox reaches the gateway's port on the host, and no other host port", async () => {
    expect(await connectFrom(`thon-${ada}`, gatewayIp, gatewayPort)).toBe("open");
    expect(await connectFrom(`thon-${ada}`, gatewayIp, otherPort)).toBe("timeout");
  });

  it("has its rules in DOCKER-USER and INPUT after apply, the metadata address dropped first (checked by listing, not sending)", () => {
    const tag = chainTag();
    expect(ipt("-S", "DOCKER-USER")).toContain(`-j ${tag}-FWD`);
    expect(ipt("-S", "INPUT")).toContain(`-j ${tag}-IN`);
    const fwd = ipt("-S", `${tag}-FWD`).split("\n");
    const metadata = fwd.findIndex((l) => l.includes("-d 169.254.169.254/32") && l.endsWith("-j DROP"));
    const catchAll = fwd.findIndex((l) => l === `-A ${tag}-FWD -j RETURN`);
    expect(metadata).toBeGreaterThan(0);
    expect(catchAll).toBeGreaterThan(metadata);
    for (const cidr of ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]) expect(fwd).toContain(`-A ${tag}-FWD -d ${cidr} -j DROP`);
    expect(ipt("-S", `${tag}-IN`)).toContain(`--dport ${gatewayPort} -j ACCEPT`);
  });
});

describe("e2e: limits", () => {
  it("sets the pids limit and the nofile ulimit on the container", async () => {
    const info = await dockerd.getContainer(`thon-${ada}`).inspect();
    expect(info!.HostConfig.PidsLimit).toBe(PIDS);
    expect(info!.HostConfig.Ulimits).toEqual([{ Name: "nofile", Soft: 16384, Hard: 16384 }]);
    expect((await execIn(`thon-${ada}`, "ulimit -n")).out).toBe("16384");
  });

  it("keeps a fork bomb inside its sandbox: the host and the other sandbox still start processes", async () => {
    const before = await dockerd.getContainer(`thon-${bob}`).inspect();
    // Detached: the bomb outlives `docker exec`; the container's restart below ends it.
    await docker(["exec", "-d", "-u", "1000:1000", `thon-${ada}`, "bash", "-c", "b() { b | b & }; b"]);
    const id = await docker(["inspect", "-f", "{{.Id}}", `thon-${ada}`]);
    const pidsOf = async () => Number(await docker(["stats", "--no-stream", "--format", "{{.PIDs}}", id], { timeoutMs: 30_000 }));
    await expect.poll(pidsOf, { timeout: 30_000, interval: 1_000 }).toBeGreaterThanOrEqual(PIDS - 5);
    expect(await pidsOf()).toBeLessThanOrEqual(PIDS);
    // The host forks; the other sandbox runs commands and keeps running as it was.
    expect(execFileSync("sh", ["-c", "echo host-ok"], { encoding: "utf8" }).trim()).toBe("host-ok");
    expect((await execIn(`thon-${bob}`, "echo bob-ok")).out).toBe("bob-ok");
    const after = await dockerd.getContainer(`thon-${bob}`).inspect();
    expect(after!.State).toMatchObject({ Running: true, StartedAt: before!.State.StartedAt });
    await docker(["restart", "-t", "1", `thon-${ada}`], { timeoutMs: 60_000 });
    await waitHealthy(socketOf(e, ada), 120_000);
    expect(await pidsOf()).toBeLessThan(PIDS / 2);
  }, 180_000);

  it("OOM-kills a memory hog alone: its sandbox's code-server and the other sandbox keep running", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const bobBefore = await dockerd.getContainer(`thon-${bob}`).inspect();
    const hog = await execIn(`thon-${ada}`, `node -e 'const a=[];for(;;)a.push(Buffer.alloc(64<<20,1))'`);
    expect(hog.code).toBe(137); // SIGKILL from the kernel's OOM killer
    const events = await docker(["events", "--since", String(since), "--until", String(Math.floor(Date.now() / 1000) + 1), "--filter", "event=oom", "--format", "{{.Actor.Attributes.name}}"]);
    expect(events.split("\n")).toContain(`thon-${ada}`);
    expect(events.split("\n")).not.toContain(`thon-${bob}`);
    await waitHealthy(socketOf(e, ada), 30_000);
    const bobAfter = await dockerd.getContainer(`thon-${bob}`).inspect();
    expect(bobAfter!.State).toMatchObject({ Running: true, StartedAt: bobBefore!.State.StartedAt });
  }, 120_000);
});

describe("e2e: a sandbox whose code-server is OOM-killed", () => {
  it("comes back by its restart policy, inspect showing OOMKilled, while the other sandbox runs on", async () => {
    const bobBefore = await dockerd.getContainer(`thon-${bob}`).inspect();
    // Make the sandbox's own processes the OOM killer's first choice (raising
    // oom_score_adj needs no privilege), so the hog takes code-server down with it.
    const prep = await execIn(`thon-${ada}`, "for f in /proc/[0-9]*/oom_score_adj; do echo 1000 > $f; done 2>/dev/null; true");
    expect(prep.code).toBe(0);
    await execIn(`thon-${ada}`, `node -e 'const a=[];for(;;)a.push(Buffer.alloc(64<<20,1))'`);
    type State = { State: { OOMKilled: boolean; Running: boolean }; RestartCount: number };
    let seen: State | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const info = (await dockerd.getContainer(`thon-${ada}`).inspect())!;
      if (info.State.OOMKilled && info.RestartCount > 0) {
        seen = info;
        break;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(seen, "inspect never showed OOMKilled with a restart").toBeDefined();
    await waitHealthy(socketOf(e, ada), 120_000);
    const bobAfter = await dockerd.getContainer(`thon-${bob}`).inspect();
    expect(bobAfter!.State).toMatchObject({ Running: true, StartedAt: bobBefore!.State.StartedAt });
    expect(bobAfter!.RestartCount).toBe(0);
  }, 240_000);
});

describe("e2e: the toolchain", () => {
  it("creates a venv, pip-installs a local package, and runs npm init plus a script", async () => {
    const py = await execIn(
      `thon-${ada}`,
      [
        "set -e; cd /workspace; mkdir -p hello/hello",
        "printf 'def greet():\\n    return \"hello from pip\"\\n' > hello/hello/__init__.py",
        "printf '[project]\\nname = \"hello\"\\nversion = \"0.1\"\\n[build-system]\\nrequires = [\"setuptools\"]\\nbuild-backend = \"setuptools.build_meta\"\\n' > hello/pyproject.toml",
        "python3 -m venv --system-site-packages .venv",
        // Offline: build with the setuptools the image has, fetch nothing.
        ".venv/bin/pip install --no-index --no-build-isolation -q ./hello",
        ".venv/bin/python -c 'import hello; print(hello.greet())'",
      ].join(" && "),
    );
    expect(py).toEqual({ code: 0, out: expect.stringContaining("hello from pip") });
    const js = await execIn(
      `thon-${ada}`,
      `set -e; mkdir -p /workspace/web && cd /workspace/web && npm init -y >/dev/null && npm pkg set scripts.hello="node -e \\"console.log('hello from npm')\\"" && npm run -s hello`,
    );
    expect(js).toEqual({ code: 0, out: "hello from npm" });
    expect((await execIn(`thon-${ada}`, "git --version && curl --version | head -1 && cc --version | head -1")).code).toBe(0);
  }, 120_000);
});

/** Writes the smallest installable VS Code extension package (argv[1]). */
const MAKE_VSIX = `import sys, zipfile
z = zipfile.ZipFile(sys.argv[1], "w")
z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension=".json" ContentType="application/json"/><Default Extension=".vsixmanifest" ContentType="text/xml"/></Types>')
z.writestr("extension.vsixmanifest", '<?xml version="1.0" encoding="utf-8"?><PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011"><Metadata><Identity Language="en-US" Id="thon-test" Version="1.0.0" Publisher="thon"/><DisplayName>thon-test</DisplayName></Metadata><Installation><InstallationTarget Id="Microsoft.VisualStudio.Code"/></Installation><Dependencies/><Assets><Asset Type="Microsoft.VisualStudio.Code.Manifest" Path="extension/package.json" Addressable="true"/></Assets></PackageManifest>')
z.writestr("extension/package.json", '{"name":"thon-test","displayName":"thon-test","publisher":"thon","version":"1.0.0","engines":{"vscode":"^1.60.0"}}')
z.close()
`;

describe("e2e: a home that survives", () => {
  it("keeps the participant's setting and shell files across a container replacement; the organizer's setting still wins", async () => {
    const settings = "/home/coder/.local/share/code-server/User/settings.json";
    // The participant changes a setting and tries to turn workspace trust back on.
    const set = await execIn(
      `thon-${bob}`,
      `node -e 'const f="${settings}";const s=JSON.parse(require("fs").readFileSync(f,"utf8"));s["editor.fontSize"]=19;s["security.workspace.trust.enabled"]=true;require("fs").writeFileSync(f,JSON.stringify(s))' && echo history-line >> ~/.bash_history`,
    );
    expect(set.code).toBe(0);
    // An extension of the participant's own, installed from a local .vsix (a zip: manifest plus package.json).
    writeFileSync(join(dir, "make-vsix.py"), MAKE_VSIX);
    await docker(["cp", join(dir, "make-vsix.py"), `thon-${bob}:/tmp/make-vsix.py`]);
    const install = await execIn(`thon-${bob}`, "python3 /tmp/make-vsix.py /tmp/thon-test.vsix && code-server --install-extension /tmp/thon-test.vsix");
    expect(install.code, install.out).toBe(0);
    expect((await execIn(`thon-${bob}`, "code-server --list-extensions")).out.split("\n")).toContain("thon.thon-test");
    // A new container (as an image upgrade would make): remove and create from the same declaration.
    const container = e.resources.find((r) => r.type === TYPES.container && r.name === `thon-${bob}`)!;
    const oldId = await docker(["inspect", "-f", "{{.Id}}", `thon-${bob}`]);
    await engine.delete(container, e);
    await engine.create(container, e);
    expect(await docker(["inspect", "-f", "{{.Id}}", `thon-${bob}`])).not.toBe(oldId);
    await waitHealthy(socketOf(e, bob), 120_000);
    const merged = JSON.parse((await execIn(`thon-${bob}`, `cat ${settings}`)).out) as Record<string, unknown>;
    expect(merged["editor.fontSize"]).toBe(19);
    expect(merged["security.workspace.trust.enabled"]).toBe(false);
    expect((await execIn(`thon-${bob}`, "code-server --list-extensions")).out.split("\n")).toContain("thon.thon-test");
    expect((await execIn(`thon-${bob}`, "cat ~/.bash_history")).out).toBe("history-line");
  }, 240_000);
});

describe("e2e: the rules' delete", () => {
  it("removes every rule and chain it added, leaving DOCKER-USER and INPUT as they were", async () => {
    const tag = chainTag();
    await engine.delete(rulesOf(), e);
    expect(ipt("-S", "DOCKER-USER")).not.toContain(tag);
    expect(ipt("-S", "INPUT")).not.toContain(tag);
    expect(ipt("-S").includes(tag)).toBe(false);
  });
});
