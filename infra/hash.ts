// The one content hash THON uses: sha256, hex. It names file contents in the
// nginx manifest and in command triggers, so a changed file reruns exactly
// what depends on it.
import { createHash } from "node:crypto";

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
