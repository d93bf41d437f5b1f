// The sandbox image itself (infra/image/): its entrypoint, user and the
// extension installer, with containers run directly rather than through the
// program (the program's own containers are in sandboxes.test.ts).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { containerLogs } from "./support/engine.ts";
import { dockerAt, mustCall, socketPathOf } from "./support/docker.ts";
import { cleanupRun, docker, dockerHost, execIn, requiredImage, RUN_LABEL, runId } from "./support/run.ts";

const api = dockerAt(socketPathOf(dockerHost));
const dirs: string[] = [];

afterAll(async () => {
  await cleanupRun();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 120_000);

/** A minimal VS Code extension packaged as a .vsix (a zip), made with Python's zipfile. */
function makeVsix(dir: string, publisher: string, name: string, version: string): string {
  const src = join(dir, "src");
  mkdirSync(join(src, "extension"), { recursive: true });
  writeFileSync(
    join(src, "extension", "package.json"),
    JSON.stringify({ name, publisher, version, displayName: "THON e2e", engines: { vscode: "^1.80.0" }, contributes: {} }, null, 2),
  );
  writeFileSync(
    join(src, "extension.vsixmanifest"),
    `<?xml version="1.0" encoding="utf-8"?>
<PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011">
  <Metadata><Identity Language="en-US" Id="${name}" Version="${version}" Publisher="${publisher}"/><DisplayName>THON e2e</DisplayName><Description xml:space="preserve">e2e</Description></Metadata>
  <Installation><InstallationTarget Id="Microsoft.VisualStudio.Code"/></Installation>
  <Dependencies/>
  <Assets><Asset Type="Microsoft.VisualStudio.Code.Manifest" Path="extension/package.json" Addressable="true"/></Assets>
</PackageManifest>
`,
  );
  writeFileSync(
    join(src, "[Content_Types].xml"),
    `<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension=".json" ContentType="application/json"/><Default Extension=".vsixmanifest" ContentType="text/xml"/></Types>`,
  );
  const vsix = join(dir, `${publisher}.${name}-${version}.vsix`);
  execFileSync("python3", ["-c", "import sys,zipfile,os\nz=zipfile.ZipFile(sys.argv[1],'w')\nfor r,_,fs in os.walk(sys.argv[2]):\n  for f in fs:\n    p=os.path.join(r,f); z.write(p, os.path.relpath(p, sys.argv[2]))\nz.close()", vsix, src]);
  chmodSync(vsix, 0o644);
  return vsix;
}

async function waitForLog(container: string, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let logs = "";
  while (Date.now() < deadline) {
    logs = await containerLogs(api, container, 500);
    if (pattern.test(logs)) return logs;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${container}: no log line matching ${pattern} within ${timeoutMs} ms; logs:\n${logs}`);
}

describe("e2e: the sandbox image", () => {
  it("runs code-server through tini (as a subreaper) and the THON entrypoint, as coder in /workspace", async () => {
    const info = await mustCall(api, "inspect the sandbox image", () => api.getImage(requiredImage()).inspect());
    expect(info.Config.Entrypoint).toEqual(["/usr/bin/tini", "-s", "--", "/usr/local/bin/thon-entrypoint"]);
    expect(info.Config.User).toBe("1000:1000");
    expect(info.Config.WorkingDir).toBe("/workspace");
    // No baked arguments: the program passes code-server's flags as the command.
    expect(info.Config.Cmd ?? []).toEqual([]);
  });

  it("installs THON_EXTENSIONS in the background, once per container: a second start skips the install", async () => {
    const dir = mkdtempSync(join(tmpdir(), "thon-e2e-vsix-"));
    dirs.push(dir);
    chmodSync(dir, 0o755);
    const vsix = makeVsix(dir, "thon-e2e", "hello", "0.0.1");
    const name = `thon-e2e-ext-${runId}`;
    await docker([
      "run", "-d", "--name", name, "--label", `${RUN_LABEL}=${runId}`,
      "--network", "none", "--init", "--user", "1000:1000", "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true",
      "-v", `${dir}:/ext:ro`,
      // A local package and a marketplace id that cannot be reached offline.
      "-e", `THON_EXTENSIONS=/ext/${vsix.split("/").pop()}, thon-e2e.unreachable`,
      requiredImage(),
      "--bind-addr", "127.0.0.1:8080", "--auth", "none", "/workspace",
    ]);
    const logs = await waitForLog(name, /could not install extension thon-e2e\.unreachable/, 120_000);
    expect(logs).toMatch(/thon-entrypoint: installed extension \/ext\/thon-e2e\.hello-0\.0\.1\.vsix/);
    expect(logs).toMatch(/HTTP server listening on http:\/\/127\.0\.0\.1:8080/);
    expect((await execIn(name, "code-server --list-extensions")).out.split("\n")).toContain("thon-e2e.hello");
    // One failure: no marker, so the next start of this container tries again.
    expect((await execIn(name, "test -e ~/.local/share/code-server/.thon-extensions; echo $?")).out).toBe("1");

    // The same container with only the local package: installed, then recorded.
    const single = `thon-e2e-ext1-${runId}`;
    await docker([
      "run", "-d", "--name", single, "--label", `${RUN_LABEL}=${runId}`, "--network", "none", "--init", "--user", "1000:1000",
      "-v", `${dir}:/ext:ro`, "-e", `THON_EXTENSIONS=/ext/${vsix.split("/").pop()}`,
      requiredImage(), "--bind-addr", "127.0.0.1:8080", "--auth", "none", "/workspace",
    ]);
    await waitForLog(single, /installed extension/, 120_000);
    await waitFor(async () => (await execIn(single, "cat ~/.local/share/code-server/.thon-extensions")).out === `/ext/${vsix.split("/").pop()}`, 30_000);
    await docker(["restart", "-t", "5", single], { timeoutMs: 60_000 });
    await waitForLog(single, /HTTP server listening[\s\S]*HTTP server listening/, 60_000);
    const after = await containerLogs(api, single, 1000);
    expect(after.match(/thon-entrypoint: installed extension/g)).toHaveLength(1);
  }, 300_000);
});

describe("e2e: the sandbox image on a swarm: the password from a secret file", () => {
  it("turns PASSWORD_FILE into code-server's password: the right one signs in, the environment holds only the file's path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "thon-e2e-secret-"));
    dirs.push(dir);
    chmodSync(dir, 0o755);
    // As Swarm mounts a secret: a read-only file of the sandbox user, mode 0400.
    const password = "SecretFile4Swarm";
    writeFileSync(join(dir, "thon-password"), password, { mode: 0o400 });
    execFileSync("chown", ["1000:1000", join(dir, "thon-password")]);
    const name = `thon-e2e-pwfile-${runId}`;
    await docker([
      "run", "-d", "--name", name, "--label", `${RUN_LABEL}=${runId}`,
      "--network", "none", "--init", "--user", "1000:1000", "--cap-drop", "ALL",
      "-v", `${join(dir, "thon-password")}:/run/secrets/thon-password:ro`,
      "-e", "PASSWORD_FILE=/run/secrets/thon-password",
      requiredImage(),
      "--bind-addr", "127.0.0.1:8080", "--auth", "password", "/workspace",
    ]);
    const logs = await waitForLog(name, /HTTP server listening on http:\/\/127\.0\.0\.1:8080/, 120_000);
    expect(logs).toMatch(/Using password from \$PASSWORD/);
    // What `docker inspect` (and `docker service inspect` on a swarm) shows: the path only.
    const env = JSON.parse(await docker(["inspect", "--format", "{{json .Config.Env}}", name])) as string[];
    expect(env).toContain("PASSWORD_FILE=/run/secrets/thon-password");
    expect(env.some((v) => v.startsWith("PASSWORD="))).toBe(false);
    // Sign in from inside (no network): code-server's own node posts the login form.
    const login = (pw: string) =>
      execIn(name, `node -e 'fetch("http://127.0.0.1:8080/login",{method:"POST",redirect:"manual",headers:{"content-type":"application/x-www-form-urlencoded"},body:"password="+encodeURIComponent(process.argv[1])}).then(r=>console.log(r.status, r.headers.has("set-cookie")))' ${pw}`);
    expect((await login(password)).out).toBe("302 true");
    expect((await login("wrong-password")).out).not.toMatch(/true$/);
  }, 180_000);
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
