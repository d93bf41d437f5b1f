// Host checks: nginx (installed, its configuration passes `nginx -t`), the
// ports it serves (free, or nginx's own), the socket group, and memory for the
// declared participants.
import { execFile } from "node:child_process";
import { totalmem } from "node:os";
import { createServer } from "node:net";
import { promisify } from "node:util";
import { HOST_RESERVED_MIB, SANDBOX_IDLE_MIB, SANDBOX_OPEN_MIB } from "../config/capacity.ts";
import { fail, ok, reason, warn, type Check, type DoctorContext } from "./check.ts";

const exec = promisify(execFile);

function nginxCommand(ctx: DoctorContext): [string, string[]] {
  const [bin, ...args] = ctx.event.proxy.nginx.split(/\s+/).filter(Boolean);
  return [bin!, args];
}

export async function checkNginx(ctx: DoctorContext): Promise<Check[]> {
  const [bin, args] = nginxCommand(ctx);
  let version: string;
  try {
    // nginx prints its version on stderr.
    const r = await exec(bin, [...args, "-v"], { timeout: 10_000 });
    version = /nginx\/(\S+)/.exec(`${r.stderr}${r.stdout}`)?.[1] ?? "unknown version";
  } catch (err) {
    return [fail("nginx", `\`${ctx.event.proxy.nginx} -v\` failed (${reason(err)})`, "install nginx (`apt-get install nginx`), or set proxy.nginx in thon.yaml")];
  }
  const checks = [ok("nginx", `nginx ${version}`)];
  try {
    await exec(bin, [...args, "-t"], { timeout: 20_000 });
    checks.push(ok("nginx -t", "the current configuration passes"));
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? "").trim().split("\n").find((l) => /emerg|error|failed/.test(l));
    checks.push(fail("nginx -t", stderr ?? reason(err), "fix nginx's configuration first: THON reloads nginx, and a broken file stops every reload"));
  }
  return checks;
}

/** The process listening on a TCP port, from `ss` (iproute2), if it can tell. */
async function listener(port: number): Promise<string | undefined> {
  try {
    const { stdout } = await exec("ss", ["-Hltnp", `sport = :${port}`], { timeout: 5000 });
    const line = stdout.split("\n").find((l) => l.trim());
    if (!line) return undefined;
    return /users:\(\("([^"]+)"/.exec(line)?.[1] ?? "another process";
  } catch {
    return undefined;
  }
}

function tryListen(port: number, host: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (err) => resolve(err as NodeJS.ErrnoException));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

export async function checkPorts(ctx: DoctorContext): Promise<Check[]> {
  const { proxy } = ctx.event;
  const address = proxy.listenAddress ?? "0.0.0.0";
  const ports = [proxy.httpsPort, ...(proxy.httpPort !== 0 ? [proxy.httpPort] : [])];
  const checks: Check[] = [];
  for (const port of ports) {
    const name = `Port ${port}`;
    const err = await tryListen(port, address);
    if (err === undefined) {
      checks.push(ok(name, `free on ${address}`));
      continue;
    }
    if (err.code === "EADDRINUSE") {
      const owner = await listener(port);
      if (owner === "nginx") checks.push(ok(name, `nginx listens on it (THON adds its server there)`));
      else checks.push(fail(name, `in use on ${address} by ${owner ?? "another process"}`, `stop ${owner ?? "it"}, or set proxy.${port === proxy.httpsPort ? "httpsPort" : "httpPort"} in thon.yaml`));
    } else {
      checks.push(warn(name, `cannot test it (${reason(err)})`, "run thon doctor as root"));
    }
  }
  return checks;
}

export async function checkSocketGroup(ctx: DoctorContext): Promise<Check> {
  const group = ctx.event.proxy.socketGroup;
  const name = "Socket group";
  try {
    const { stdout } = await exec("getent", ["group", group], { timeout: 5000 });
    const gid = stdout.split(":")[2];
    return ok(name, `${group} (gid ${gid}) exists; nginx's workers must run in it`);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 2) {
      return fail(name, `there is no group "${group}" (proxy.socketGroup): nginx could not reach the sandboxes' sockets`, `create it (\`groupadd ${group}\`) and run nginx's workers in it, or set proxy.socketGroup to nginx's group`);
    }
    return warn(name, `cannot look up "${group}" (${reason(err)})`, "check that getent works");
  }
}

export function checkMemory(ctx: DoctorContext, hostMiB = Math.floor(totalmem() / 2 ** 20)): Check {
  const name = "Memory";
  const running = ctx.event.participants.filter((p) => p.state === "running").length;
  const open = running * SANDBOX_OPEN_MIB + HOST_RESERVED_MIB;
  const idle = running * SANDBOX_IDLE_MIB + HOST_RESERVED_MIB;
  const detail = `${hostMiB} MiB; ${running} running sandboxes want ${open} MiB with every editor open (${SANDBOX_OPEN_MIB} MiB each, measured), ${idle} MiB idle`;
  if (hostMiB < idle) return fail(name, detail, "pause participants (thon users stop / groups stop), or use a bigger host");
  if (hostMiB < open) return warn(name, detail, "fine while not everyone works at once; a bigger host if they do");
  return ok(name, detail);
}
