// thon:host:File and thon:host:Directory: their inputs say what ends up on
// the host (the policy pack reads nothing else), and the command each one
// declares makes exactly that, run for real against a temporary folder.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, describe, expect, it } from "vitest";
import { HostDirectory } from "../components/hostDirectory.ts";
import { HostFile } from "../components/hostFile.ts";
import { evaluate } from "../infra/preview/evaluate.ts";
import { createTarget } from "../infra/target.ts";
import { runCommand } from "./support/commands.ts";
import { find } from "./support/program.ts";

const dir = mkdtempSync(join(tmpdir(), "thon-hostfile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const uid = String(process.getuid!());
const gid = String(process.getgid!());

let declared: { file: HostFile; directory: HostDirectory } | undefined;
const declare = () =>
  evaluate(() => {
    const target = createTarget({ kind: "local", dockerHost: "unix:///var/run/docker.sock" });
    const parent = new pulumi.ComponentResource("thon:test:Parent", "parent");
    const file = new HostFile("key", { target, path: `${dir}/tls/key.pem`, mode: "0600", owner: uid, group: gid, content: pulumi.secret("not a real key\n") }, { parent });
    const directory = new HostDirectory("sockets", { target, path: `${dir}/sockets/alice`, mode: "2770", owner: uid, group: gid, keep: false, removeFiles: [`${dir}/sockets/alice/s.sock`] }, { parent });
    declared = { file, directory };
    return {};
  });

describe("thon:host:File", () => {
  it("has typed inputs (path, mode, owner, group, the content's sha256, secret with a secret content) and its command keeps an alias to the old parent", async () => {
    const e = await declare();
    const file = find(e, "thon:host:File", "key");
    expect(file.inputs).toEqual({
      path: `${dir}/tls/key.pem`,
      mode: "0600",
      owner: uid,
      group: gid,
      sha256: createHash("sha256").update("not a real key\n").digest("hex"),
    });
    expect(file.secretInputs).toEqual(["sha256"]);
    const write = find(e, "command:local:Command", "key");
    expect(write.parent).toBe(file.urn);
    expect(write.secretInputs).toContain("stdin");
    expect(write.options.aliases).toBe(1);
  });

  it("aliases each command to the URN it had as its parent's own child, so an existing stack moves it instead of replacing it", async () => {
    await declare();
    // The SDK's resolved alias URNs (what it sends the engine), read from the resource.
    const aliases = async (r: pulumi.Resource) =>
      Promise.all(((r as unknown as { __aliases: pulumi.Output<string>[] }).__aliases ?? []).map((a) => new Promise<string>((resolve) => a.apply(resolve))));
    expect(await aliases(declared!.file.command)).toEqual(["urn:pulumi:dev::thon::thon:test:Parent$command:local:Command::key"]);
    expect(await aliases(declared!.directory.command)).toEqual(["urn:pulumi:dev::thon::thon:test:Parent$command:local:Command::sockets"]);
  });

  it("writes the content with the mode and owner its inputs name, and its delete removes it", async () => {
    const e = await declare();
    const write = find(e, "command:local:Command", "key");
    expect(runCommand(write, "create")).toMatchObject({ status: 0, stderr: "" });
    const st = statSync(`${dir}/tls/key.pem`);
    expect((st.mode & 0o7777).toString(8)).toBe("600");
    expect([String(st.uid), String(st.gid)]).toEqual([uid, gid]);
    expect(readFileSync(`${dir}/tls/key.pem`, "utf8")).toBe("not a real key\n");
    expect(runCommand(write, "delete").status).toBe(0);
    expect(() => statSync(`${dir}/tls/key.pem`)).toThrow();
  });

  it("refuses a mode that is not octal, naming the resource and the file, before declaring anything", async () => {
    const target = {} as never;
    await expect(evaluate(() => new HostFile("bad", { target, path: "/x", mode: "rw-------", content: "" }))).rejects.toThrow(
      "bad: file mode rw------- of /x is not an octal mode such as 0644",
    );
    await expect(evaluate(() => new HostDirectory("bad", { target, path: "/d", mode: "750x", owner: "0", group: "0", keep: true }))).rejects.toThrow(
      "bad: folder mode 750x of /d is not an octal mode such as 0750",
    );
  });
});

describe("thon:host:Directory", () => {
  it("makes the folder with the mode, owner and group its inputs name, and its delete removes it once empty", async () => {
    const e = await declare();
    expect(find(e, "thon:host:Directory", "sockets").inputs).toEqual({ path: `${dir}/sockets/alice`, mode: "2770", owner: uid, group: gid, keep: false });
    const make = find(e, "command:local:Command", "sockets");
    expect(runCommand(make, "create")).toMatchObject({ status: 0, stderr: "" });
    const st = statSync(`${dir}/sockets/alice`);
    expect((st.mode & 0o7777).toString(8)).toBe("2770");
    expect(runCommand(make, "delete").status).toBe(0);
    expect(() => statSync(`${dir}/sockets/alice`)).toThrow();
  });
});
