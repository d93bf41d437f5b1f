// The one sha256 THON uses. Hex names file contents in the nginx manifest and
// in command triggers, so a changed file reruns exactly what depends on it;
// the console keeps session ids and API tokens only as their hash.
import { createHash } from "node:crypto";

export function sha256(text: string, encoding: "hex" | "base64url" = "hex"): string {
  return createHash("sha256").update(text).digest(encoding);
}
