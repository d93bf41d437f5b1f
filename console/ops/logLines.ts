// A followed Docker log stream (container or service logs, multiplexed
// stdout/stderr frames) as lines, ending when the stream ends or `signal`
// aborts. One copy for both backends (console/ops/docker.ts and swarm.ts).
import { PassThrough } from "node:stream";
import type Docker from "dockerode";

export async function* demuxedLines(stream: NodeJS.ReadableStream, modem: Docker["modem"], signal: AbortSignal): AsyncIterable<string> {
  const out = new PassThrough();
  modem.demuxStream(stream, out, out);
  const end = () => out.end();
  stream.on("end", end);
  stream.on("error", end);
  signal.addEventListener("abort", end, { once: true });
  let rest = "";
  for await (const chunk of out) {
    const lines = (rest + (chunk as Buffer).toString("utf8")).split("\n");
    rest = lines.pop() ?? "";
    for (const l of lines) yield l;
  }
  if (rest) yield rest;
}
