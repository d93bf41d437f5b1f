// A one-file POSIX ustar archive, the body of the Engine API's
// `PUT /containers/{id}/archive` (what the Docker provider sends for each
// `uploads` entry: one file, its mode, owner and group).

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

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width includes the terminating NUL.
  const text = value.toString(8);
  if (text.length > width - 1) throw new Error(`tar: ${value} does not fit in ${width - 1} octal digits`);
  return text.padStart(width - 1, "0") + "\0";
}

/** Splits a long path into ustar's prefix (155) and name (100) fields. */
function splitName(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: "", name: path };
  for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { prefix, name };
  }
  throw new Error(`tar: path too long for ustar: ${path}`);
}

export function tarOneFile(file: TarFile): Buffer {
  if (file.name.startsWith("/") || file.name.split("/").includes("..")) throw new Error(`tar: "${file.name}" must be relative, without ..`);
  const header = Buffer.alloc(BLOCK, 0);
  const { prefix, name } = splitName(file.name);
  header.write(name, 0, 100, "utf8");
  header.write(octal(file.mode & 0o7777, 8), 100, 8, "ascii");
  header.write(octal(file.uid, 8), 108, 8, "ascii");
  header.write(octal(file.gid, 8), 116, 8, "ascii");
  header.write(octal(file.content.length, 12), 124, 12, "ascii");
  header.write(octal(Math.floor(file.mtime), 12), 136, 12, "ascii");
  header.write("        ", 148, 8, "ascii"); // checksum counts as spaces while summing
  header.write("0", 156, 1, "ascii"); // regular file
  header.write("ustar\0", 257, 6, "ascii");
  header.write("00", 263, 2, "ascii");
  header.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(octal(sum, 7) + " ", 148, 8, "ascii");
  const padding = (BLOCK - (file.content.length % BLOCK)) % BLOCK;
  return Buffer.concat([header, file.content, Buffer.alloc(padding, 0), Buffer.alloc(2 * BLOCK, 0)]);
}
