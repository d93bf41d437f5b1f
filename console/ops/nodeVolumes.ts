// The per-node volume work of a move (NodeVolumes in nodeMove.ts), on the
// nodes' own Docker engines (nodeEngines: ssh://user@address on a real
// event). Each step is a short helper container of the sandbox image (it is
// on every node, and has sh, find, awk and tar), run as root with no network
// and the volume mounted at /v:
//  - measure: regular files and their bytes (`find -printf %s`), read-only;
//  - copy: the destination volume is created with the source's driver,
//    options and labels, then `tar -c` on the source streams into `tar -x`
//    on the destination (owners, modes and times kept). The Engine API has no
//    volume copy, and two engines share no disk, so the bytes go through here.
import type Dockerode from "dockerode";
import { PassThrough, type Duplex } from "node:stream";
import type { NodeVolumes, VolumeMeasure } from "./nodeMove.ts";

const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;

export class DockerNodeVolumes implements NodeVolumes {
  constructor(
    private readonly engineOf: (node: string) => Dockerode | undefined,
    /** The sandbox image (present on every node). */
    private readonly image: string,
  ) {}

  private engine(node: string): Dockerode {
    const e = this.engineOf(node);
    if (!e) throw new Error(`no Docker endpoint for node ${node}`);
    return e;
  }

  async exists(node: string, volume: string): Promise<boolean> {
    try {
      await this.engine(node).getVolume(volume).inspect();
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  private helper(engine: Dockerode, volume: string, script: string, opts: { readOnly: boolean; stdin?: boolean }) {
    return engine.createContainer({
      Image: this.image,
      Entrypoint: ["sh", "-c", script],
      User: "0:0",
      NetworkDisabled: true,
      Labels: { "org.thon.purpose": "volume-move" },
      AttachStdout: true,
      AttachStderr: true,
      ...(opts.stdin ? { AttachStdin: true, OpenStdin: true, StdinOnce: true } : {}),
      HostConfig: { Binds: [`${volume}:/v${opts.readOnly ? ":ro" : ""}`], NetworkMode: "none" },
    });
  }

  async measure(node: string, volume: string): Promise<VolumeMeasure> {
    const engine = this.engine(node);
    const c = await this.helper(engine, volume, "find /v -type f -printf '%s\\n' | awk '{n++; s+=$1} END {print n+0, s+0}'", { readOnly: true });
    try {
      const stream = await c.attach({ stream: true, stdout: true, stderr: true });
      const out = new PassThrough();
      let text = "";
      out.on("data", (d: Buffer) => (text += d.toString("utf8")));
      engine.modem.demuxStream(stream, out, out);
      await c.start();
      const { StatusCode } = (await c.wait()) as { StatusCode: number };
      if (StatusCode !== 0) throw new Error(`measuring ${volume} on ${node} exited ${StatusCode}: ${text.trim()}`);
      const [files, bytes] = text.trim().split(/\s+/).map(Number);
      return { files: files ?? 0, bytes: bytes ?? 0 };
    } finally {
      await c.remove({ force: true }).catch(() => undefined);
    }
  }

  async copy(from: string, to: string, volume: string): Promise<void> {
    const src = this.engine(from);
    const dst = this.engine(to);
    const info = (await src.getVolume(volume).inspect()) as { Driver?: string; Options?: Record<string, string> | null; Labels?: Record<string, string> | null };
    await dst.createVolume({ Name: volume, Driver: info.Driver ?? "local", DriverOpts: info.Options ?? {}, Labels: info.Labels ?? {} });
    const reader = await this.helper(src, volume, "tar -C /v -cpf - .", { readOnly: true });
    const writer = await this.helper(dst, volume, "tar -C /v -xpf -", { readOnly: false, stdin: true });
    try {
      const input = (await writer.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
      let writerOut = "";
      const writerText = new PassThrough();
      writerText.on("data", (d: Buffer) => (writerOut += d.toString("utf8")));
      dst.modem.demuxStream(input, writerText, writerText);
      const output = await reader.attach({ stream: true, stdout: true, stderr: true });
      const tarStream = new PassThrough();
      let readerErr = "";
      const errText = new PassThrough();
      errText.on("data", (d: Buffer) => (readerErr += d.toString("utf8")));
      src.modem.demuxStream(output, tarStream, errText);
      output.on("end", () => tarStream.end());
      tarStream.pipe(input, { end: false });
      tarStream.on("end", () => input.end()); // closes the writer's stdin: tar -x finishes
      await writer.start();
      await reader.start();
      const [r, w] = (await Promise.all([reader.wait(), writer.wait()])) as [{ StatusCode: number }, { StatusCode: number }];
      if (r.StatusCode !== 0) throw new Error(`tar on ${from} exited ${r.StatusCode}: ${readerErr.trim()}`);
      if (w.StatusCode !== 0) throw new Error(`tar on ${to} exited ${w.StatusCode}: ${writerOut.trim()}`);
    } finally {
      await reader.remove({ force: true }).catch(() => undefined);
      await writer.remove({ force: true }).catch(() => undefined);
    }
  }

  async remove(node: string, volume: string): Promise<void> {
    await this.engine(node).getVolume(volume).remove();
  }
}
