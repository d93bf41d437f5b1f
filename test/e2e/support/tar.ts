// A one-file tar archive (tar-stream), the body of the Engine API's
// `PUT /containers/{id}/archive` (what the Docker provider sends for each
// `uploads` entry: one file, its mode, owner and group).
import { pack } from "tar-stream";

export interface TarFile {
  /** Path inside the archive, relative (no leading slash). */
  readonly name: string;
  readonly content: Buffer;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
}

export async function tarOneFile(file: TarFile): Promise<Buffer> {
  if (file.name.startsWith("/") || file.name.split("/").includes("..")) throw new Error(`tar: "${file.name}" must be relative, without ..`);
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on("data", (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    archive.on("end", resolve);
    archive.on("error", reject);
  });
  archive.entry(
    { name: file.name, type: "file", mode: file.mode & 0o7777, uid: file.uid, gid: file.gid, mtime: new Date(file.mtime * 1000) },
    file.content,
  );
  archive.finalize();
  await done;
  return Buffer.concat(chunks);
}
