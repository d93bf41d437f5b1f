// The README's organizer walk-through runs exactly as written on a fresh
// copy of this tree, up to the first line that needs the Pulumi CLI. The
// lines are read from the README's marked block (commands, not prose), so the
// text and this test cannot drift apart.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEvent } from "../../infra/config/load.ts";
import { startEngineStandIn, type EngineStandIn } from "../support/dockerEngineStandIn.ts";

const ROOT = join(import.meta.dirname, "../..");

/** The walk-through's shell lines, between the markers in README.md. */
function walkThrough(): string[] {
  const doc = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = /<!-- walk-through[^>]*-->\n```sh\n([\s\S]*?)```\n<!-- \/walk-through -->/.exec(doc);
  if (!block) throw new Error("README.md has no walk-through block");
  return block[1]!.trimEnd().split("\n");
}

/** A fresh clone of this tree as it is now: tracked and new files, nothing ignored (no .pulumi, no .pulumi-cli). */
function freshClone(): string {
  const dir = mkdtempSync(join(tmpdir(), "thon-clone-"));
  const files = execFileSync("git", ["ls-files", "-z", "-co", "--exclude-standard"], { cwd: ROOT }).toString("utf8");
  execFileSync("tar", ["--null", "-T", "-", "-cf", join(dir, ".tree.tar")], { cwd: ROOT, input: files.split("\0").filter((f) => f && existsSync(join(ROOT, f))).join("\0") });
  execFileSync("tar", ["-xf", join(dir, ".tree.tar"), "-C", dir]);
  execFileSync("rm", [join(dir, ".tree.tar")]);
  return dir;
}

/**
 * The fresh host's Docker engine: the Engine API stand-in, empty (no images),
 * at the default /var/run/docker.sock of the walk-through's own mount
 * namespace, so what doctor finds does not depend on whether this machine
 * runs a dockerd (CI runs npm test before it starts one).
 */
let engine: EngineStandIn;
beforeAll(async () => {
  engine = await startEngineStandIn();
});
afterAll(async () => {
  await engine?.close();
});

/** bash .walk.sh in a private mount namespace whose /run holds only docker.sock, the stand-in's socket. */
function inFreshHostNamespace(): string[] {
  const setup = `mount -t tmpfs tmpfs /run && touch /run/docker.sock && mount --bind "${engine.socketPath}" /run/docker.sock && exec bash .walk.sh`;
  return ["unshare", "--mount", "--propagation", "private", "sh", "-c", setup];
}

function runAsync(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeout: number }): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => void (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeout);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

describe("the organizer's walk-through, as written", () => {
  it("runs init, doctor and prepare on a fresh clone; then the Pulumi CLI is the first thing missing", async () => {
    const lines = walkThrough();
    const firstPulumi = lines.findIndex((l) => /^pulumi /.test(l));
    expect(lines[0]).toBe("npm ci");
    expect(firstPulumi).toBeGreaterThan(1);
    const clone = freshClone();
    // `npm ci` with no registry: the shared install stands in for it (what npm ci would put there).
    symlinkSync(join(ROOT, "node_modules"), join(clone, "node_modules"));
    const steps = lines.slice(1, firstPulumi);
    // Each line as written; its output and exit code kept apart. The newline ends a trailing comment.
    const script = steps.map((line, i) => `{ ${line}\n} > .step${i}.out 2> .step${i}.err; echo $? > .step${i}.rc`).join("\n");
    writeFileSync(join(clone, ".walk.sh"), script + "\n");
    // npm's update check is off (it would ask the registry); this machine has no internet: THON_OFFLINE=1 keeps prepare from trying the download (it names why).
    const env = { PATH: "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: mkdtempSync(join(tmpdir(), "thon-home-")), THON_OFFLINE: "1", npm_config_update_notifier: "false" };
    const [cmd, ...args] = inFreshHostNamespace();
    // Not spawnSync: the engine stand-in answers from this process's event loop.
    const run = await runAsync(cmd!, args, { cwd: clone, env, timeout: 240_000 });
    expect(run.status, run.stderr).toBe(0);
    const step = (i: number) => ({
      rc: Number(readFileSync(join(clone, `.step${i}.rc`), "utf8")),
      out: readFileSync(join(clone, `.step${i}.out`), "utf8"),
      err: readFileSync(join(clone, `.step${i}.err`), "utf8"),
    });
    const at = (prefix: string) => steps.findIndex((l) => l.startsWith(prefix));

    const init = step(at("npx thon init"));
    expect(init, init.err).toMatchObject({ rc: 0, err: "" });
    expect(loadEvent(join(clone, "thon.yaml")).participants.map((p) => `${p.group}/${p.name}`)).toEqual(["alpha/alice", "alpha/bob", "beta/carol"]);
    expect(readFileSync(join(clone, "Pulumi.myevent.yaml"), "utf8")).toContain("thon:file: thon.yaml");

    const doctor = step(at("npx thon doctor"));
    const lines2 = doctor.out.trim().split("\n");
    expect(lines2.slice(0, -1).every((l) => /^(ok  |warn|fail)  /.test(l)), doctor.out).toBe(true);
    // What fails on a fresh host without internet is what prepare fetches: the Pulumi CLI and the image.
    const fails = lines2.filter((l) => l.startsWith("fail")).map((l) => l.slice(6).split("  ")[0]!.trim());
    expect(fails, doctor.out).toEqual(["Sandbox image", "Pulumi CLI"]);
    expect(doctor.rc).toBe(1);

    const prepare = step(at("npx thon prepare"));
    expect(prepare.rc).toBe(1);
    expect(prepare.err).toContain("the morning still needs:\n  - the Pulumi CLI is not installed (not on PATH, not in .pulumi-cli/), and THON_OFFLINE=1 rules out the download");
    expect(prepare.err).toContain("  - thon-sandbox:4.100.3 is not on this host, and THON_OFFLINE=1 rules out pulling it");
    expect(readdirSync(clone).filter((f) => f.startsWith(".pulumi-cli"))).toEqual([]);

    expect(step(at("export PATH")).rc).toBe(0);
    // The next line, `pulumi login`, is the first that needs the CLI: it is not here.
    expect(lines[firstPulumi]).toBe('pulumi login "file://$PWD"');
    expect(spawnSync("bash", ["-c", 'export PATH="$PWD/.pulumi-cli/bin:$PATH"; command -v pulumi'], { cwd: clone, env }).status).not.toBe(0);
  }, 300_000);
});
